"""aviary-lmtp spoken to directly: smtplib.LMTP and raw sockets on its
unix socket (and TCP), against aviary-auth's userdb and a private
MariaDB stack; what lands in the Maildirs is read back as root.

protocols.md section 2 has the wire facts (RFC 2033, what Postfix's lmtp
client does); maildir.h the storage contract. Two aviary-lmtp instances
share one aviary-auth:
- main: the defaults (max_message_size 50M, quota 552 5.2.2);
- alt: max_message_size 64K, quota_temporary: true, max_recipients 3,
  timeout 10s (the minimum), and a TCP listener on 127.0.0.1:<free port>.
Each test uses mailboxes of its own, so the order of the tests does not
matter (the ones that stop a process start it again).
"""
import base64
import hashlib
import os
import pwd
import random
import signal
import smtplib
import socket
import stat
import subprocess
import time

import pytest

from lmtphelp import (DOMAIN, NAME_RE, AviaryLmtp, Closed, Raw, home,
                      lmtp_config, maildir_files, read_new, stored, stuff,
                      vsize, wait_for)
from postfix import (AviaryAuth, PrivatePostfix, auth_config, private_stack,
                     remove_stack)

PASSWORD = "Lmtp-test-pass-1"
SENDER = "sender@sender.test"
HOSTNAME = "mx.example.test"
DEFAULT_MAX = 50 * 1024 * 1024          # lmtp.max_message_size default
ALT_EXTRA = ("  max_message_size: 64K\n"
             "  quota_temporary: true\n"
             "  max_recipients: 3\n"
             "  timeout: 10s\n")
SWAKS = "/usr/bin/swaks"


class Env:
    pass


@pytest.fixture(scope="module")
def env(build):
    if not os.access(os.path.join(build, "aviary-lmtp"), os.X_OK):
        pytest.fail("%s/aviary-lmtp not built" % build)
    e = Env()
    e.build = build
    e.stack = private_stack(build, "av-lmtp-")
    e.auth = e.lmtp = e.alt = None
    try:
        config, client, userdb = auth_config(e.stack, "auth")
        e.stack.run_admin("domain", "add", DOMAIN)
        e.auth = AviaryAuth(build, config, client, userdb,
                            os.path.join(e.stack.base, "aviary-auth.log"))
        e.auth.start()
        cfg, sock = lmtp_config(e.stack, "lmtp", userdb)
        e.lmtp = AviaryLmtp(build, cfg, sock,
                            os.path.join(e.stack.base, "aviary-lmtp.log"))
        e.lmtp.start()
        e.port = PrivatePostfix.free_port()
        cfg, sock = lmtp_config(e.stack, "lmtp-alt", userdb, ALT_EXTRA,
                                listen=["127.0.0.1:%d" % e.port])
        e.alt = AviaryLmtp(build, cfg, sock,
                           os.path.join(e.stack.base, "aviary-lmtp-alt.log"))
        e.alt.start()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            e.mail_uid, e.mail_gid = pw.pw_uid, pw.pw_gid
        else:
            e.mail_uid, e.mail_gid = os.geteuid(), os.getegid()
        yield e
    finally:
        reports = []
        for name, proc in (("aviary-lmtp", e.lmtp), ("aviary-lmtp (alt)",
                           e.alt), ("aviary-auth", e.auth)):
            if proc is None:
                continue
            try:
                rc = proc.stop()
                if rc != 0 and proc is not e.auth:
                    reports.append("%s: exit status %s after SIGTERM:\n%s" % (
                        name, rc, proc.log_text()[-2000:]))
            finally:
                report = proc.sanitizer_report()
                if report:
                    reports.append("%s:\n%s" % (name, report))
        remove_stack(e.stack)
        if reports:
            pytest.fail("\n".join(reports))


@pytest.fixture(autouse=True)
def healthy(env):
    """After each test: every service still runs and reported nothing."""
    yield
    for name, proc in (("aviary-lmtp", env.lmtp), ("aviary-lmtp (alt)",
                       env.alt), ("aviary-auth", env.auth)):
        report = proc.sanitizer_report()
        assert not report, "sanitizer report from %s:\n%s" % (name, report)
        assert proc.alive(), "%s died:\n%s" % (name, proc.log_text()[-4000:])


def mailbox(env, local, *opts):
    addr = "%s@%s" % (local, DOMAIN)
    env.stack.run_admin("mailbox", "add", addr, "--password-stdin", *opts,
                        input=PASSWORD + "\n")
    return addr


def session(sock):
    """A Raw connection after a successful LHLO."""
    r = Raw(sock)
    code, lines = r.cmd("LHLO client.test")
    assert code == 250, lines
    return r


def transaction(r, rcpts, body, sender=SENDER, mail_params=""):
    """MAIL, the RCPTs, and (if one was accepted) DATA and the body on an
    open session. Returns (MAIL reply, [RCPT replies], [replies after the
    final dot, one per accepted RCPT])."""
    mail = r.cmd("MAIL FROM:<%s>%s" % (sender, mail_params))
    if mail[0] != 250:
        return mail, [], []
    rr = [r.cmd("RCPT TO:<%s>" % a) for a in rcpts]
    accepted = sum(1 for c, _ in rr if c == 250)
    if accepted == 0:
        assert r.cmd("RSET")[0] == 250
        return mail, rr, []
    code, lines = r.cmd("DATA")
    assert code == 354, lines
    r.send(stuff(body))
    return mail, rr, r.replies(accepted)


def deliver(sock, rcpts, body, sender=SENDER, mail_params=""):
    """One transaction in its own session, QUIT at the end."""
    with session(sock) as r:
        out = transaction(r, rcpts, body, sender, mail_params)
        assert r.cmd("QUIT")[0] == 221
        return out


def code_of(reply):
    """'250 2.0.0' style: (code, enhanced code) of a Raw reply."""
    return reply[0], reply[1][0].split(" ", 1)[0]


def headers(rcpt=None, sender=SENDER):
    h = b"Return-Path: <%s>\n" % sender.encode()
    if rcpt is not None:
        h += b"Delivered-To: %s\n" % rcpt.encode()
    return h


def sized_body(total, prefix):
    """A body whose stored file (prefix = the headers the server adds,
    then the body with LF endings) is exactly 'total' bytes."""
    head = b"Subject: sized\r\n\r\n"
    k = total - len(prefix) - len(stored(head)) - 1
    assert k >= 0
    body = head + b"z" * k + b"\r\n"
    assert len(prefix) + len(stored(body)) == total
    return body


def check_file(env, name, data, st):
    m = NAME_RE.match(name)
    assert m, "file name %r is not <unique>,S=<size>,W=<vsize>" % name
    assert int(m.group(2)) == len(data) == st.st_size
    assert int(m.group(3)) == vsize(data)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert (st.st_uid, st.st_gid) == (env.mail_uid, env.mail_gid)


# --- the dialogue ---------------------------------------------------------

def test_greeting_and_lhlo_capabilities(env):
    with Raw(env.lmtp.socket_path, greet=False) as r:
        code, lines = r.reply()
        assert code == 220 and lines[0].startswith(HOSTNAME + " "), lines
        code, lines = r.cmd("LHLO client.test")
        assert code == 250
        assert lines[0] == HOSTNAME
        assert sorted(lines[1:]) == sorted([
            "PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME",
            "SIZE %d" % DEFAULT_MAX])
    # The same through smtplib's LHLO parsing.
    s = smtplib.LMTP(env.lmtp.socket_path, timeout=30)
    try:
        code, _ = s.ehlo("client.test")
        assert code == 250
        assert sorted(s.esmtp_features) == [
            "8bitmime", "enhancedstatuscodes", "pipelining", "size"]
        assert s.esmtp_features["size"] == str(DEFAULT_MAX)
    finally:
        s.quit()


def test_helo_and_ehlo_are_refused(env):
    with Raw(env.lmtp.socket_path) as r:
        assert r.cmd("HELO client.test")[0] == 500
        assert r.cmd("EHLO client.test")[0] == 500
        assert r.cmd("LHLO client.test")[0] == 250
        assert r.cmd("EHLO client.test")[0] == 500
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250   # still LHLO'd


def test_vrfy_noop_rset_unknown_quit(env):
    with Raw(env.lmtp.socket_path) as r:
        assert r.cmd("NOOP")[0] == 250
        assert r.cmd("LHLO client.test")[0] == 250
        code, lines = r.cmd("VRFY someone@%s" % DOMAIN)
        assert code == 252 and lines[0].startswith("2."), lines
        assert r.cmd("NOOP")[0] == 250
        assert r.cmd("RSET")[0] == 250
        code, lines = r.cmd("XYZZY plugh")
        assert code == 500 and lines[0].startswith("5.5."), lines
        assert r.cmd("BDAT 10 LAST")[0] == 500      # not advertised
        assert r.cmd("noop")[0] == 250              # case-insensitive
        code, lines = r.cmd("QUIT")
        assert code == 221 and lines[0].startswith("2.0.0"), lines
        assert r.closed()


def test_command_order(env):
    addr = mailbox(env, "order")
    with Raw(env.lmtp.socket_path) as r:
        code, lines = r.cmd("MAIL FROM:<%s>" % SENDER)
        assert code == 503 and lines[0].startswith("5.5.1"), lines
        assert r.cmd("RCPT TO:<%s>" % addr)[0] == 503
        assert r.cmd("DATA")[0] == 503
        assert r.cmd("LHLO")[0] == 501              # needs a domain
        assert r.cmd("LHLO client.test")[0] == 250
        assert r.cmd("RCPT TO:<%s>" % addr)[0] == 503   # before MAIL
        assert r.cmd("DATA")[0] == 503                  # before MAIL
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 503   # nested
        code, lines = r.cmd("RCPT TO:<nobody-here@%s>" % DOMAIN)
        assert code == 550
        # DATA with no accepted recipient: 503 (RFC 2033 4.2)
        code, lines = r.cmd("DATA")
        assert code == 503 and lines[0].startswith("5.5.1"), lines
        assert r.cmd("RSET")[0] == 250
        # The pipelined form Postfix sends when every RCPT is refused:
        r.send("MAIL FROM:<%s>\r\nRCPT TO:<nobody-here@%s>\r\nDATA\r\n"
               "RSET\r\n" % (SENDER, DOMAIN))
        assert [c for c, _ in r.replies(4)] == [250, 550, 503, 250]
        # RSET ended the transaction: RCPT needs a new MAIL.
        assert r.cmd("RCPT TO:<%s>" % addr)[0] == 503
        # So does LHLO.
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        assert r.cmd("RCPT TO:<%s>" % addr)[0] == 250
        assert r.cmd("LHLO again.test")[0] == 250
        assert r.cmd("DATA")[0] == 503
        assert r.cmd("QUIT")[0] == 221
    assert maildir_files(env.stack, addr) == []


def test_syntax_errors(env):
    addr = mailbox(env, "syntax")
    with session(env.lmtp.socket_path) as r:
        for bad in ("MAIL FROM:%s" % SENDER, "MAIL TO:<%s>" % SENDER,
                    "MAIL FROM:<%s> SIZE=abc" % SENDER,
                    "MAIL FROM:<%s> FOO=bar" % SENDER,
                    "MAIL FROM:<%s> BODY=BINARYMIME" % SENDER,
                    "MAIL FROM:<a b@c.test>",
                    "MAIL FROM:<a\rX-Injected: 1@c.test>",
                    "MAIL FROM:<a\x00b@c.test>"):
            code, lines = r.cmd(bad)
            assert code == 501, (bad, lines)
        assert r.cmd("MAIL FROM: <%s> BODY=8BITMIME" % SENDER)[0] == 250
        for bad in ("RCPT TO:<>", "RCPT TO:%s" % addr,
                    "RCPT FROM:<%s>" % addr):
            code, lines = r.cmd(bad)
            assert code == 501, (bad, lines)
        code, lines = r.cmd("RCPT TO:<no-domain>")
        assert code == 550 and lines[0].startswith("5.1.3"), lines
        code, lines = r.cmd("RCPT TO:<%s@%s>" % ("x" * 300, DOMAIN))
        assert code == 550 and lines[0].startswith("5.1."), lines
        code, lines = r.cmd("RCPT TO:<\u00fcber@%s>" % DOMAIN)
        assert 500 <= code < 600, lines     # no SMTPUTF8
        assert r.cmd("RCPT TO:<%s>" % addr)[0] == 250
        assert r.cmd("RSET")[0] == 250


# --- storing ----------------------------------------------------------------

BODY = (b"From: Sender <sender@sender.test>\r\n"
        b"To: <single@example.test>\r\n"
        b"Subject: =?utf-8?q?byte_exact?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"8-bit: " + bytes(range(0x80, 0x100)) + b"\r\n"
        b"controls: " + bytes(b for b in range(1, 0x20)
                              if b not in (10, 13)) + b"\x7f\r\n"
        b".a line that starts with a dot\r\n"
        b".\r\n"
        b"..\r\n"
        b"...three\r\n"
        b" .not at the start\r\n"
        b"a bare CR\rin the middle\r\n"
        b"CR before the end\r\r\n"
        b"\r\n"
        b"\r\n"
        b"long: " + b"L" * 5000 + b"\r\n"
        b"From the start (no escaping in Maildir)\r\n"
        b"last line\r\n")


def test_single_recipient_byte_exact(env):
    addr = mailbox(env, "single")
    s = smtplib.LMTP(env.lmtp.socket_path, timeout=30)
    try:
        s.ehlo("client.test")
        # smtplib doubles leading dots and adds SIZE=<len> itself.
        refused = s.sendmail(SENDER, [addr], BODY,
                             mail_options=["BODY=8BITMIME"])
        assert refused == {}
    finally:
        s.quit()
    files = read_new(env.stack, addr)
    assert len(files) == 1
    name, data, st = files[0]
    assert data == headers(addr) + stored(BODY)
    check_file(env, name, data, st)
    assert maildir_files(env.stack, addr, sub="tmp") == []
    assert maildir_files(env.stack, addr, sub="cur") == []


def reference_decode(stream):
    """What the server must store for a DATA stream that uses CRLF only:
    the end marker removed, a leading dot dropped from each line, CRLF
    turned into LF (a CR not before LF stays)."""
    assert stream.endswith(b"\r\n.\r\n")
    lines = stream[:-3].split(b"\r\n")
    return b"\n".join(x[1:] if x.startswith(b".") else x for x in lines)


def test_held_back_cr_at_chunk_boundaries(env):
    """A CR (bare, or after a line's leading dot) is held back until the
    next byte shows whether it ends the line. Put it last in what the
    server reads at once, around its 8K decode and 16K read sizes, and
    follow it with a long line without CRLF: the message must come out
    right (and a sanitizer build must stay silent)."""
    addr = mailbox(env, "chunks")
    head = b"Subject: chunk boundaries\r\n\r\n"
    rest = b"X" * 20000 + b"\r\nend\r\n.\r\n"
    want = []
    with session(env.lmtp.socket_path) as r:
        for first in list(range(8189, 8196)) + list(range(16381, 16388)):
            for tail in (b"a\r", b"\r\n.\r"):
                pad = b"p" * (first - len(head) - len(tail))
                stream = head + pad + tail + rest
                assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
                assert r.cmd("RCPT TO:<%s>" % addr)[0] == 250
                assert r.cmd("DATA")[0] == 354
                r.send(stream[:first])
                time.sleep(0.03)
                r.send(stream[first:])
                code, lines = r.reply()
                assert code == 250, (first, tail, lines)
                want.append(headers(addr) + reference_decode(stream))
        assert r.cmd("QUIT")[0] == 221
    got = [d for _, d, _ in read_new(env.stack, addr)]
    assert len(got) == len(want)
    assert sorted(got) == sorted(want)


def test_null_sender(env):
    addr = mailbox(env, "bounce")
    body = b".first line with a dot\r\n\r\nReturned mail.\r\n"
    mail, rr, done = deliver(env.lmtp.socket_path, [addr], body, sender="")
    assert mail[0] == 250 and rr[0][0] == 250
    assert code_of(done[0]) == (250, "2.0.0")
    (name, data, st), = read_new(env.stack, addr)
    assert data == b"Return-Path: <>\nDelivered-To: %s\n" % addr.encode() + \
        stored(body)
    check_file(env, name, data, st)


def test_multiple_recipients_mixed_results(env):
    a = mailbox(env, "multi-a")
    b = mailbox(env, "multi-b")
    off = mailbox(env, "multi-off")
    env.stack.run_admin("mailbox", "disable", off)
    body = b"Subject: to many\r\n\r\none copy each\r\n.dot\r\n"
    with session(env.lmtp.socket_path) as r:
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        rcpts = [a, "nobody-here@" + DOMAIN, off,
                 "someone@unknown-domain.test", b, a]
        replies = [r.cmd("RCPT TO:<%s>" % x) for x in rcpts]
        assert [code_of(x) for x in replies] == [
            (250, "2.1.5"), (550, "5.1.1"), (550, "5.2.1"), (550, "5.1.1"),
            (250, "2.1.5"), (250, "2.1.5")]
        for x, (code, lines) in zip(rcpts, replies):
            if code != 250:
                assert "<%s>" % x in lines[0], lines
        assert r.cmd("DATA")[0] == 354
        r.send(stuff(body))
        # One reply per accepted RCPT, in RCPT order, the duplicate too.
        done = r.replies(3)
        assert [code_of(x) for x in done] == [(250, "2.0.0")] * 3
        for x, (code, lines) in zip([a, b, a], done):
            assert "<%s>" % x in lines[0], (x, lines)
        assert r.cmd("NOOP")[0] == 250      # nothing more was sent
        assert r.cmd("QUIT")[0] == 221
    fa = read_new(env.stack, a)
    fb = read_new(env.stack, b)
    assert len(fa) == 1 and len(fb) == 1        # the duplicate: once
    # Several recipients: one shared file, no Delivered-To.
    want = headers() + stored(body)
    assert fa[0][1] == want and fb[0][1] == want
    check_file(env, *fa[0])
    check_file(env, *fb[0])
    assert fa[0][0] != fb[0][0]                 # a name of its own each
    sa, sb = fa[0][2], fb[0][2]
    assert (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
    assert sa.st_nlink >= 2
    assert not os.path.exists(home(env.stack, off)) or \
        maildir_files(env.stack, off) == []
    assert maildir_files(env.stack, a, sub="tmp") == []


def test_pipelining_and_connection_reuse(env):
    rc = [mailbox(env, "pipe%d" % i) for i in range(3)]
    body1 = b"Subject: pipelined\r\n\r\none\r\n"
    body2 = b"Subject: second transaction\r\n\r\ntwo\r\n"
    with Raw(env.lmtp.socket_path) as r:
        # What Postfix sends in one write with PIPELINING.
        r.send("LHLO client.test\r\nMAIL FROM:<%s> SIZE=%d BODY=8BITMIME\r\n"
               "%sDATA\r\n" % (SENDER, len(body1),
                               "".join("RCPT TO:<%s>\r\n" % x for x in rc)))
        got = r.replies(6)
        assert [c for c, _ in got] == [250, 250, 250, 250, 250, 354], got
        assert got[0][1][0] == HOSTNAME
        # The message, then (reusing the connection as Postfix does) RSET
        # and a second transaction, all in one write.
        r.send(stuff(body1) + b"RSET\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n"
               b"DATA\r\n" % (SENDER.encode(), rc[0].encode()))
        got = r.replies(7)
        assert [c for c, _ in got] == [250, 250, 250, 250, 250, 250, 354], got
        for x, (code, lines) in zip(rc, got[:3]):
            assert "<%s>" % x in lines[0]
        # The last message and QUIT in one write: replies, then 221 last.
        r.send(stuff(body2) + b"QUIT\r\n")
        got = r.replies(2)
        assert [c for c, _ in got] == [250, 221], got
        assert r.closed()
    assert sorted(d for _, d, _ in read_new(env.stack, rc[0])) == sorted(
        [headers() + stored(body1), headers(rc[0]) + stored(body2)])
    for x in rc[1:]:
        assert [d for _, d, _ in read_new(env.stack, x)] == \
            [headers() + stored(body1)]


def test_everything_in_one_write(env):
    """A client that does not wait for 354 (allowed by nothing, done by
    some): the server still reads the stream in order."""
    addr = mailbox(env, "onewrite")
    body = b"Subject: all at once\r\n\r\nbody\r\n"
    with Raw(env.lmtp.socket_path) as r:
        r.send(b"LHLO c\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n"
               b"RCPT TO:<x@%s>\r\nDATA\r\n%sQUIT\r\n" % (
                   SENDER.encode(), addr.encode(), DOMAIN.encode(),
                   stuff(body)))
        assert [c for c, _ in r.replies(7)] == [250, 250, 250, 550, 354,
                                                250, 221]
        assert r.closed()
    assert [d for _, d, _ in read_new(env.stack, addr)] == \
        [headers(addr) + stored(body)]


def plus_deliver(env, rcpt):
    body = b"Subject: to %s\r\n\r\nx\r\n" % rcpt.encode()
    mail, rr, done = deliver(env.lmtp.socket_path, [rcpt], body)
    assert rr[0][0] == 250, rr
    assert done[0][0] == 250, (done, env.lmtp.log_text()[-2000:])
    return headers(rcpt) + stored(body)


def test_plus_addressing_into_folder(env):
    """user+Sent@dom goes to the folder .Sent, made on first delivery."""
    addr = mailbox(env, "plus")
    local = addr.split("@")[0]
    want = plus_deliver(env, "%s+Sent@%s" % (local, DOMAIN))
    assert [d for _, d, _ in read_new(env.stack, addr, "Sent")] == [want]
    want2 = plus_deliver(env, "%s+Trash@%s" % (local, DOMAIN))
    assert [d for _, d, _ in read_new(env.stack, addr, "Trash")] == [want2]
    assert maildir_files(env.stack, addr) == []             # not INBOX
    for f in ("Drafts", "Junk"):
        assert maildir_files(env.stack, addr, f) == []


def test_plus_addressing_without_a_folder_goes_to_inbox(env):
    addr = mailbox(env, "plusin")
    local = addr.split("@")[0]
    want = []
    # no such folder; not a plain folder name; a tag of 65 characters
    for tag in ("nosuchfolder", "../x", "Sent/../../x", "a.b", "S" * 65):
        want.append(plus_deliver(env, "%s+%s@%s" % (local, tag, DOMAIN)))
    assert sorted(d for _, d, _ in read_new(env.stack, addr)) == sorted(want)
    for f in ("Drafts", "Sent", "Trash", "Junk"):
        assert maildir_files(env.stack, addr, f) == []
    # Nothing was made outside the mailbox.
    assert not os.path.exists(os.path.join(home(env.stack, addr), "x"))
    assert not os.path.exists(os.path.join(env.stack.mailroot, DOMAIN, "x"))
    assert not os.path.exists(os.path.join(env.stack.mailroot, "x"))


def test_first_delivery_creates_the_mailbox(env):
    addr = mailbox(env, "layout")
    h = home(env.stack, addr)
    assert not os.path.exists(h)
    mail, rr, done = deliver(env.lmtp.socket_path, [addr],
                             b"Subject: first\r\n\r\nhello\r\n")
    assert done[0][0] == 250
    folders = ["Drafts", "Sent", "Trash", "Junk"]
    want_dirs = {"cur", "new", "tmp"} | {"." + f for f in folders}
    assert want_dirs <= set(os.listdir(h))
    with open(os.path.join(h, "subscriptions"), "rb") as f:
        assert f.read() == b"V\t2\n\n" + b"".join(
            x.encode() + b"\n" for x in folders)
    for f in folders:
        d = os.path.join(h, "." + f)
        assert set(os.listdir(d)) == {"cur", "new", "tmp", "maildirfolder"}
        assert os.path.getsize(os.path.join(d, "maildirfolder")) == 0
    # Everything below the domain directory: 0700 / 0600, the mail user's.
    dom = os.path.join(env.stack.mailroot, DOMAIN)
    paths = [dom]
    for root, dirs, files in os.walk(h):
        paths.append(root)
        paths.extend(os.path.join(root, x) for x in files)
    assert len(paths) > 20
    for p in paths:
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            assert stat.S_IMODE(st.st_mode) == 0o700, p
        else:
            assert stat.S_ISREG(st.st_mode), p
            assert stat.S_IMODE(st.st_mode) == 0o600, p
        assert (st.st_uid, st.st_gid) == (env.mail_uid, env.mail_gid), p


def test_size_parameter(env):
    with session(env.lmtp.socket_path) as r:
        code, lines = r.cmd("MAIL FROM:<a@b.test> SIZE=%d" % (DEFAULT_MAX + 1))
        assert code_of((code, lines)) == (552, "5.3.4"), lines
        code, lines = r.cmd("MAIL FROM:<a@b.test> SIZE=%d" % DEFAULT_MAX)
        assert code == 250, lines
        assert r.cmd("RSET")[0] == 250
        assert r.cmd("MAIL FROM:<a@b.test> SIZE=0")[0] == 250


def test_message_over_max_message_size(env):
    """alt: max_message_size 64K. Without SIZE the limit applies after
    DATA: 552 5.3.4 and nothing stored, for every recipient. The next
    transaction on the same connection is not affected, and a message of
    exactly SIZE bytes on the wire is taken."""
    addr = mailbox(env, "toobig")
    addr2 = mailbox(env, "toobig2")
    head = b"Subject: big\r\n\r\n"
    with session(env.alt.socket_path) as r:
        code, lines = r.cmd("LHLO client.test")
        mx = int([x for x in lines if x.startswith("SIZE ")][0].split()[1])
        assert mx == 64 * 1024
        over = head + b"y" * (mx + 1 - len(stored(head)) - 1) + b"\r\n"
        assert len(stored(over)) == mx + 1
        mail, rr, done = transaction(r, [addr, addr2], over)
        assert [c for c, _ in rr] == [250, 250]
        assert [code_of(x) for x in done] == [(552, "5.3.4")] * 2, done
        for a in (addr, addr2):
            assert maildir_files(env.stack, a) == []
            assert maildir_files(env.stack, a, sub="tmp") == []
        # N: the wire size (CRLF, before dot-stuffing) equal to SIZE.
        fits = head + b"y" * (mx - len(head) - 2) + b"\r\n"
        assert len(fits) == mx
        mail, rr, done = transaction(r, [addr], fits,
                                     mail_params=" SIZE=%d" % mx)
        assert mail[0] == 250 and code_of(done[0]) == (250, "2.0.0"), done
        assert r.cmd("QUIT")[0] == 221
    assert [d for _, d, _ in read_new(env.stack, addr)] == \
        [headers(addr) + stored(fits)]


def test_20mb_message_byte_exact(env):
    addr = mailbox(env, "huge")
    rng = random.Random(2033)
    lines = base64.encodebytes(rng.randbytes(15 * 1024 * 1024)).split(b"\n")
    for i in range(0, len(lines), 997):
        lines[i] = b"." + lines[i]              # dot-stuffing all the way
    lines[1000] = b"."
    body = b"Subject: 20 MB\r\n\r\n" + b"\r\n".join(lines) + b"\r\n"
    assert len(body) > 20 * 1000 * 1000
    want = headers(addr) + stored(body)
    t0 = time.monotonic()
    mail, rr, done = deliver(env.lmtp.socket_path, [addr], body,
                             mail_params=" SIZE=%d" % len(body))
    assert code_of(done[0]) == (250, "2.0.0"), done
    (name, data, st), = read_new(env.stack, addr)
    assert len(data) == len(want)
    assert hashlib.sha256(data).hexdigest() == \
        hashlib.sha256(want).hexdigest()
    check_file(env, name, data, st)
    assert time.monotonic() - t0 < 60


def test_empty_message(env):
    addr = mailbox(env, "empty")
    with session(env.lmtp.socket_path) as r:
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        assert r.cmd("RCPT TO:<%s>" % addr)[0] == 250
        assert r.cmd("DATA")[0] == 354
        code, lines = r.cmd(".")
        assert code == 250, lines
    (name, data, st), = read_new(env.stack, addr)
    assert data == headers(addr)
    check_file(env, name, data, st)


def test_case_and_alias_domain(env):
    addr = mailbox(env, "casey")
    env.stack.run_admin("alias-domain", "add", "alias-dom.test", DOMAIN)
    for rcpt in ("Casey@Example.TEST", "casey@alias-dom.test"):
        body = b"Subject: to %s\r\n\r\nx\r\n" % rcpt.encode()
        mail, rr, done = deliver(env.lmtp.socket_path, [rcpt], body)
        assert rr[0][0] == 250 and done[0][0] == 250, (rr, done)
        assert any(d == headers(rcpt) + stored(body)
                   for _, d, _ in read_new(env.stack, addr))
    assert len(maildir_files(env.stack, addr)) == 2
    assert not os.path.exists(os.path.join(env.stack.mailroot,
                                           "alias-dom.test"))


def test_fifty_recipients_pipelined(env):
    """Postfix's default recipient limit is 50 per transaction, all RCPTs
    in one write: the answers come in order, one per accepted RCPT after
    the message (duplicates included), each mailbox gets one copy."""
    boxes = [mailbox(env, "fifty%d" % i) for i in range(5)]
    rcpts = [boxes[i % 5] if i % 7 else "nobody%d@%s" % (i, DOMAIN)
             for i in range(50)]
    body = b"Subject: fifty\r\n\r\nx\r\n"
    with session(env.lmtp.socket_path) as r:
        r.send("MAIL FROM:<%s>\r\n%sDATA\r\n" % (
            SENDER, "".join("RCPT TO:<%s>\r\n" % x for x in rcpts)))
        got = r.replies(52)
        assert got[0][0] == 250 and got[-1][0] == 354
        want = [550 if x.startswith("nobody") else 250 for x in rcpts]
        assert [c for c, _ in got[1:-1]] == want
        accepted = [x for x in rcpts if not x.startswith("nobody")]
        r.send(stuff(body))
        done = r.replies(len(accepted))
        for x, (code, lines) in zip(accepted, done):
            assert code == 250 and "<%s>" % x in lines[0], (x, lines)
        assert r.cmd("QUIT")[0] == 221
    for b in boxes:
        assert [d for _, d, _ in read_new(env.stack, b)] == \
            [headers() + stored(body)]


def test_max_recipients(env):
    """alt: max_recipients 3 accepted per transaction; refused ones do
    not count."""
    boxes = [mailbox(env, "maxr%d" % i) for i in range(4)]
    with session(env.alt.socket_path) as r:
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        assert r.cmd("RCPT TO:<nobody@%s>" % DOMAIN)[0] == 550
        for b in boxes[:3]:
            assert r.cmd("RCPT TO:<%s>" % b)[0] == 250
        code, lines = r.cmd("RCPT TO:<%s>" % boxes[3])
        assert code_of((code, lines)) == (452, "4.5.3"), lines
        assert r.cmd("DATA")[0] == 354
        r.send(stuff(b"three of four\r\n"))
        assert [c for c, _ in r.replies(3)] == [250] * 3
    assert [len(maildir_files(env.stack, b)) for b in boxes] == [1, 1, 1, 0]


def test_per_recipient_results_after_data(env):
    """One recipient over quota after DATA, the others fine: each gets
    its own answer, in order."""
    a = mailbox(env, "perrcpt-a")
    full = mailbox(env, "perrcpt-full", "--quota", "1K")
    b = mailbox(env, "perrcpt-b")
    body = b"Subject: 2K\r\n\r\n" + b"p" * 2000 + b"\r\n"
    with session(env.lmtp.socket_path) as r:
        mail, rr, done = transaction(r, [a, full, b], body)
        assert [c for c, _ in rr] == [250, 250, 250]
        assert [code_of(x) for x in done] == [
            (250, "2.0.0"), (552, "5.2.2"), (250, "2.0.0")], done
        assert r.cmd("QUIT")[0] == 221
    assert [d for _, d, _ in read_new(env.stack, a)] == \
        [headers() + stored(body)]
    assert [d for _, d, _ in read_new(env.stack, b)] == \
        [headers() + stored(body)]
    assert maildir_files(env.stack, full) == []


def test_concurrent_sessions(env):
    """A session stalled in the middle of DATA does not hold up another."""
    a = mailbox(env, "conc-a")
    b = mailbox(env, "conc-b")
    part1 = b"Subject: slow\r\n\r\n" + b"s" * 100000 + b"\r\n"
    part2 = b".the rest\r\n"
    with session(env.lmtp.socket_path) as ra:
        assert ra.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        assert ra.cmd("RCPT TO:<%s>" % a)[0] == 250
        assert ra.cmd("DATA")[0] == 354
        ra.send(part1)
        mail, rr, done = deliver(env.lmtp.socket_path, [b], b"quick\r\n")
        assert done[0][0] == 250
        assert maildir_files(env.stack, a) == []
        ra.send(stuff(part1 + part2)[len(part1):])
        assert ra.reply()[0] == 250
    assert [d for _, d, _ in read_new(env.stack, a)] == \
        [headers(a) + stored(part1 + part2)]
    assert len(maildir_files(env.stack, b)) == 1


def test_idle_timeout(env):
    """alt: timeout 10s of client silence -> 421 4.4.2 and close."""
    with session(env.alt.socket_path) as r:
        t0 = time.monotonic()
        r.sock.settimeout(30)
        code, lines = r.reply()
        waited = time.monotonic() - t0
        assert code_of((code, lines)) == (421, "4.4.2"), lines
        assert 9 <= waited <= 20, waited
        assert r.closed()


def test_swaks(env):
    """swaks as an independent LMTP client on the unix socket."""
    if not os.access(SWAKS, os.X_OK):
        pytest.skip("swaks not installed")
    addr = mailbox(env, "swaks")
    r = subprocess.run([SWAKS, "--socket", env.lmtp.socket_path,
                        "--protocol", "LMTP", "--helo", "client.test",
                        "--from", SENDER, "--to", addr,
                        "--header", "Subject: from swaks",
                        "--body", "hello from swaks"],
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0 <%s>" % addr in r.stdout, r.stdout
    (name, data, st), = read_new(env.stack, addr)
    assert data.startswith(headers(addr))
    assert b"\nSubject: from swaks\n" in data
    # (swaks ends the body with blank lines of its own)
    assert data.rstrip(b"\n").endswith(b"\n\nhello from swaks")
    assert b"\r" not in data
    check_file(env, name, data, st)


# --- quota ------------------------------------------------------------------

def read_maildirsize(env, addr):
    with open(os.path.join(home(env.stack, addr), "maildirsize")) as f:
        text = f.read()
    lines = text.splitlines()
    sums = [0, 0]
    for line in lines[1:]:
        b, c = line.split()
        sums[0] += int(b)
        sums[1] += int(c)
    return lines[0], tuple(sums)


def test_quota_bytes(env):
    addr = mailbox(env, "quota", "--quota", "10K")
    limit = 10 * 1024
    h = headers(addr)
    sock = env.lmtp.socket_path
    assert deliver(sock, [addr], sized_body(4000, h))[2][0][0] == 250
    # N + 1: 4000 + 6241 = limit + 1 -> refused after DATA
    mail, rr, done = deliver(sock, [addr], sized_body(limit - 4000 + 1, h))
    assert rr[0][0] == 250
    assert code_of(done[0]) == (552, "5.2.2"), done
    # N: exactly up to the limit
    mail, rr, done = deliver(sock, [addr], sized_body(limit - 4000, h))
    assert code_of(done[0]) == (250, "2.0.0"), done
    # Full: the smallest message is refused at RCPT or after DATA.
    mail, rr, done = deliver(sock, [addr], b"Subject: tiny\r\n\r\nx\r\n")
    got = rr[0] if rr[0][0] != 250 else done[0]
    assert code_of(got) == (552, "5.2.2"), (rr, done)
    # With SIZE the RCPT itself is refused.
    mail, rr, done = deliver(sock, [addr], b"x\r\n", mail_params=" SIZE=1")
    assert code_of(rr[0]) == (552, "5.2.2"), rr
    assert done == []
    files = read_new(env.stack, addr)
    assert len(files) == 2
    assert sum(st.st_size for _, _, st in files) == limit
    first, sums = read_maildirsize(env, addr)
    assert first == "%dS,0C" % limit
    assert sums == (limit, 2)
    assert maildir_files(env.stack, addr, sub="tmp") == []


def test_quota_messages(env):
    addr = mailbox(env, "quotamsg", "--quota-messages", "2")
    sock = env.lmtp.socket_path
    for i in range(2):
        assert deliver(sock, [addr], b"n %d\r\n" % i)[2][0][0] == 250
    mail, rr, done = deliver(sock, [addr], b"n 2\r\n")
    got = rr[0] if rr[0][0] != 250 else done[0]
    assert code_of(got) == (552, "5.2.2"), (rr, done)
    assert len(maildir_files(env.stack, addr)) == 2
    first, sums = read_maildirsize(env, addr)
    assert first == "0S,2C"
    assert sums[1] == 2
    assert sums[0] == sum(st.st_size for _, _, st in read_new(env.stack, addr))


def test_quota_temporary(env):
    """alt: quota_temporary: true -> 452 4.2.2 instead of 552 5.2.2."""
    addr = mailbox(env, "quotatmp", "--quota", "10K")
    sock = env.alt.socket_path
    mail, rr, done = deliver(sock, [addr], b"x\r\n", mail_params=" SIZE=20000")
    assert code_of(rr[0]) == (452, "4.2.2"), rr
    body = b"Subject: 11K\r\n\r\n" + b"q" * 11000 + b"\r\n"
    mail, rr, done = deliver(sock, [addr], body)
    assert rr[0][0] == 250
    assert code_of(done[0]) == (452, "4.2.2"), done
    assert maildir_files(env.stack, addr) == []


# --- failures ---------------------------------------------------------------

def test_auth_down_gives_451_then_recovers(env):
    addr = mailbox(env, "authdown")
    body = b"Subject: after the outage\r\n\r\nx\r\n"
    pid = env.lmtp.pid
    try:
        env.auth.stop(idle_wait=0)
        with session(env.lmtp.socket_path) as r:
            assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
            code, lines = r.cmd("RCPT TO:<%s>" % addr)
            assert code_of((code, lines)) == (451, "4.3.0"), lines
            assert r.cmd("DATA")[0] == 503
            assert r.cmd("QUIT")[0] == 221
    finally:
        if not env.auth.alive():
            env.auth.start()
    # aviary-lmtp was not restarted: it reconnects to the userdb.
    assert env.lmtp.alive() and env.lmtp.pid == pid
    mail, rr, done = deliver(env.lmtp.socket_path, [addr], body)
    assert rr[0][0] == 250 and done[0][0] == 250, (rr, done)
    assert [d for _, d, _ in read_new(env.stack, addr)] == \
        [headers(addr) + stored(body)]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_slow_userdb(env):
    """aviary-auth stopped (SIGSTOP): a RCPT waits for its answer, in
    order with what was pipelined after it, while other sessions go on;
    a client that leaves meanwhile costs no CPU (no busy loop)."""
    addr = mailbox(env, "slowdb")
    body = b"Subject: slow userdb\r\n\r\nx\r\n"
    r1 = session(env.lmtp.socket_path)
    try:
        assert r1.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        os.kill(env.auth.pid, signal.SIGSTOP)
        try:
            r1.send("RCPT TO:<%s>\r\nNOOP\r\nDATA\r\n" % addr)
            with session(env.lmtp.socket_path) as r2:
                assert r2.cmd("NOOP")[0] == 250
                assert r2.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
            r3 = session(env.lmtp.socket_path)
            assert r3.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
            r3.send("RCPT TO:<%s>\r\n" % addr)
            time.sleep(0.2)
            r3.close()                          # gone while waiting
            r1.sock.settimeout(0.5)
            with pytest.raises(socket.timeout):
                r1.line()                       # nothing before the RCPT
            cpu0 = cpu_seconds(env.lmtp.pid)
            time.sleep(1.5)
            spent = cpu_seconds(env.lmtp.pid) - cpu0
            assert spent < 0.5, "aviary-lmtp used %.2fs of CPU while " \
                "waiting for the userdb" % spent
        finally:
            os.kill(env.auth.pid, signal.SIGCONT)
        r1.sock.settimeout(30)
        assert [c for c, _ in r1.replies(3)] == [250, 250, 354]
        r1.send(stuff(body))
        assert r1.reply()[0] == 250
        assert r1.cmd("QUIT")[0] == 221
    finally:
        r1.close()
    assert [d for _, d, _ in read_new(env.stack, addr)] == \
        [headers(addr) + stored(body)]
    with Raw(env.lmtp.socket_path) as r:
        assert r.cmd("LHLO c")[0] == 250


def test_client_disconnect_during_data(env):
    addr = mailbox(env, "gone")
    with session(env.lmtp.socket_path) as r:
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
        assert r.cmd("RCPT TO:<%s>" % addr)[0] == 250
        assert r.cmd("DATA")[0] == 354
        r.send(b"Subject: half\r\n\r\n" + b"h" * 300000 + b"\r\n")
        wait_for(lambda: maildir_files(env.stack, addr, sub="tmp"), 10)
    # The half message is dropped, its tmp/ file removed.
    assert wait_for(lambda: maildir_files(env.stack, addr, sub="tmp") == [],
                    10)
    assert maildir_files(env.stack, addr) == []


def test_sigkill_during_data(env):
    addr = mailbox(env, "killed")
    tmp = os.path.join(home(env.stack, addr), "tmp")

    def tmp_size():
        try:
            return sum(os.path.getsize(os.path.join(tmp, x))
                       for x in os.listdir(tmp))
        except OSError:
            return 0
    try:
        r = session(env.lmtp.socket_path)
        try:
            assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
            assert r.cmd("RCPT TO:<%s>" % addr)[0] == 250
            assert r.cmd("DATA")[0] == 354
            r.send(b"Subject: killed\r\n\r\n" +
                   (b"k" * 998 + b"\r\n") * 2000)     # ~2 MB of ~4
            assert wait_for(lambda: tmp_size() > 1000000, 10), \
                "aviary-lmtp did not write the message to tmp/"
            env.lmtp.kill()
        finally:
            r.close()
        assert maildir_files(env.stack, addr) == []   # a tmp/ leftover is fine
    finally:
        if not env.lmtp.alive():
            env.lmtp.start()
    body = b"Subject: after the crash\r\n\r\nfine\r\n"
    mail, rr, done = deliver(env.lmtp.socket_path, [addr], body)
    assert done[0][0] == 250
    assert [d for _, d, _ in read_new(env.stack, addr)] == \
        [headers(addr) + stored(body)]


# --- bad input --------------------------------------------------------------

def test_long_command_lines(env):
    with session(env.lmtp.socket_path) as r:
        # 4096 bytes with CRLF: taken
        code, lines = r.cmd("NOOP " + "x" * (4096 - 7))
        assert code == 250, lines
        # 5000 bytes in one write: 500, and the session goes on
        code, lines = r.cmd("NOOP " + "x" * 5000)
        assert code == 500 and lines[0].startswith("5.5."), lines
        assert r.cmd("NOOP")[0] == 250
        # 5000 bytes in two writes: one 500 only
        r.send("MAIL FROM:<" + "y" * 4995)
        time.sleep(0.3)
        r.send("y" * 3000 + ">\r\nNOOP\r\n")
        assert [c for c, _ in r.replies(2)] == [500, 250]
        assert r.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250


def test_too_many_errors_closes(env):
    with session(env.lmtp.socket_path) as r:
        r.send(b"BOGUS\r\n" * 25)
        got = []
        with pytest.raises(Closed):
            while True:
                got.append(r.reply())
        codes = [c for c, _ in got]
        assert codes[-1] == 421, got
        assert got[-1][1][0].startswith("4.7.0"), got
        assert 1 <= len(codes) - 1 <= 25
        assert set(codes[:-1]) == {500}, got
    with Raw(env.lmtp.socket_path) as r:     # the server is fine
        assert r.cmd("LHLO c")[0] == 250


def test_garbage_does_not_hurt(env):
    rng = random.Random(5321)
    blobs = [rng.randbytes(65536),
             bytes(rng.choice(b"\r\n\x00.<>:@ \x80\xff")
                   for _ in range(20000)),
             b"\x00" * 5000 + b"\r\n",
             b"\xff" * 200000,
             b"MAIL FROM:<\x00@x>\r\nRCPT TO:<\xff@\xfe>\r\nLHLO \x00\r\n",
             b"\r" * 10000 + b"\n" * 100,
             b"LHLO x\r\nMAIL FROM:<a@b> SIZE=99999999999999999999999\r\n"
             b"MAIL FROM:<a@b> SIZE=-1\r\nMAIL FROM:<a@b> SIZE=\r\n"
             b"MAIL FROM:<a@b> SIZE\r\nMAIL FROM:<<<>>>\r\nRCPT TO:<@>\r\n"
             b"RCPT TO:<%s@%s>\r\n" % (b"a" * 64, b"b" * 250)]
    for blob in blobs:
        with Raw(env.lmtp.socket_path) as r:
            try:
                r.send(blob)
                r.sock.shutdown(socket.SHUT_WR)
                r.closed(timeout=10)
            except OSError:
                pass        # closed on us (too many errors): fine
    assert env.lmtp.alive()
    addr = mailbox(env, "aftergarbage")
    mail, rr, done = deliver(env.lmtp.socket_path, [addr], b"still here\r\n")
    assert done[0][0] == 250


def test_tcp_listener(env):
    addr = mailbox(env, "tcp")
    body = b"Subject: over TCP\r\n\r\nhello\r\n"
    s = smtplib.LMTP("127.0.0.1", env.port, local_hostname="client.test",
                     timeout=30)
    try:
        code, _ = s.ehlo()
        assert code == 250
        assert s.esmtp_features["size"] == str(64 * 1024)
        assert s.sendmail(SENDER, [addr], body) == {}
    finally:
        s.quit()
    assert [d for _, d, _ in read_new(env.stack, addr)] == \
        [headers(addr) + stored(body)]
