"""Postfix 3.7 delivering through aviary-lmtp: a private Postfix
(postfix.py) configured with the shipped conf/postfix/main.cf, so its
virtual_mailbox_domains / virtual_mailbox_maps / virtual_alias_maps are
the shipped conf/postfix/mysql-virtual-*.cf files (only hosts and
password changed) against the stack's MariaDB, and its virtual_transport
is lmtp:unix:private/aviary-lmtp (a link to aviary-lmtp's socket). Mail
is submitted with smtplib to Postfix's plain smtpd (no AUTH: the
loopback is mynetworks and may relay) and read back from the Maildirs
as root.

protocols.md section 2 and its Appendix describe what Postfix's lmtp
client does; section 3 the mysql tables.
"""
import os
import re
import smtplib
import subprocess
import time

import pytest

from lmtphelp import (DOMAIN, AviaryLmtp, lmtp_config, maildir_files,
                      read_new, stored, vsize, wait_for, NAME_RE)
from postfix import (AviaryAuth, PostfixError, PrivatePostfix, auth_config,
                     postfix_db, private_stack, remove_stack)

POSTQUEUE = "/usr/sbin/postqueue"
SENDER = "sender@sender.test"
PASSWORD = "Pf-lmtp-pass-1"
DELIVERY_TIMEOUT = 30


class Env:
    pass


@pytest.fixture(scope="module")
def env(build):
    if os.geteuid() != 0:
        pytest.skip("a private Postfix instance needs root")
    e = Env()
    e.stack = private_stack(build, "av-pflmtp-")
    e.auth = e.lmtp = e.pf = None
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
        base = os.path.join(e.stack.base, "postfix")
        extra = ("mynetworks = 127.0.0.0/8\n"
                 "smtpd_relay_restrictions = permit_mynetworks, reject\n"
                 "queue_run_delay = 1s\n"
                 "minimal_backoff_time = 2s\n"
                 "maximal_backoff_time = 4s\n")
        for attempt in range(3):    # the free port may be taken meanwhile
            e.pf = PrivatePostfix(base, PrivatePostfix.free_port(), client,
                                  extra_main_cf=extra,
                                  db=postfix_db(e.stack), lmtp_path=sock)
            try:
                e.pf.start()
                break
            except PostfixError:
                if attempt == 2:
                    raise
        yield e
    finally:
        reports = []
        try:
            if e.pf is not None:
                e.pf.stop()
        finally:
            for name, proc in (("aviary-lmtp", e.lmtp),
                               ("aviary-auth", e.auth)):
                if proc is None:
                    continue
                proc.stop()
                report = proc.sanitizer_report()
                if report:
                    reports.append("%s:\n%s" % (name, report))
            remove_stack(e.stack)
        if reports:
            pytest.fail("sanitizer report:\n" + "\n".join(reports))


@pytest.fixture(autouse=True)
def healthy(env):
    yield
    for name, proc in (("aviary-lmtp", env.lmtp), ("aviary-auth", env.auth)):
        report = proc.sanitizer_report()
        assert not report, "sanitizer report from %s:\n%s" % (name, report)
        assert proc.alive(), "%s died:\n%s" % (name, proc.log_text()[-4000:])


def mailbox(env, local):
    addr = "%s@%s" % (local, DOMAIN)
    env.stack.run_admin("mailbox", "add", addr, "--password-stdin",
                        input=PASSWORD + "\n")
    return addr


def message(rcpt, subject):
    return (b"From: Sender <sender@sender.test>\r\n"
            b"To: <%s>\r\n"
            b"Subject: %s\r\n"
            b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
            b"Message-ID: <%s.%d@sender.test>\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=iso-8859-1\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n"
            b"\r\n"
            b"8-bit: \xe9\xe8\xff\x80 (no quoted-printable on the way)\r\n"
            b".a dot line\r\n"
            b".\r\n"
            b"..\r\n"
            b"long: %s\r\n"
            b"end\r\n") % (rcpt.encode(), subject.encode(),
                           subject.replace(" ", "-").encode(), os.getpid(),
                           b"x" * 900)


def submit(env, rcpt, msg):
    with smtplib.SMTP("127.0.0.1", env.pf.port, local_hostname="client.test",
                      timeout=30) as s:
        s.ehlo()
        assert s.has_extn("8bitmime")
        assert s.sendmail(SENDER, [rcpt], msg,
                          mail_options=["BODY=8BITMIME"]) == {}


def postqueue(env, *args):
    r = subprocess.run([POSTQUEUE, "-c", env.pf.config_dir, *args],
                       capture_output=True, text=True, env=env.pf._env(),
                       stdin=subprocess.DEVNULL, timeout=30)
    return r.stdout + r.stderr


def wait_delivered(env, addr, n=1):
    def ready():
        assert env.lmtp.alive(), "aviary-lmtp died:\n" + \
            env.lmtp.log_text()[-3000:]
        return len(maildir_files(env.stack, addr)) >= n and \
            read_new(env.stack, addr)
    files = wait_for(ready, DELIVERY_TIMEOUT)
    assert files and len(files) >= n, \
        "not delivered to %s in %ds:\n%s\n%s" % (
            addr, DELIVERY_TIMEOUT, env.pf.log_text()[-3000:],
            env.lmtp.log_text()[-2000:])
    return files


def check_delivered(env, data, name, st, rcpt, msg):
    """Return-Path and Delivered-To from aviary-lmtp, then Postfix's own
    headers (Received:), then the message as submitted, LF line ends."""
    want_head = b"Return-Path: <%s>\nDelivered-To: %s\n" % (
        SENDER.encode(), rcpt.encode())
    assert data.startswith(want_head), data[:300]
    assert data.endswith(stored(msg)), data[-300:]
    added = data[len(want_head):len(data) - len(stored(msg))]
    assert added.startswith(b"Received: from client.test"), added
    for line in added.split(b"\n")[:-1]:
        assert line[:1] in (b" ", b"\t") or \
            re.match(rb"^[\x21-\x39\x3b-\x7e]+:", line), added
    m = NAME_RE.match(name)
    assert m and int(m.group(2)) == len(data) == st.st_size
    assert int(m.group(3)) == vsize(data)


def test_delivery_through_postfix(env):
    rcpt = mailbox(env, "pf-inbox")
    msg = message(rcpt, "through Postfix")
    submit(env, rcpt, msg)
    (name, data, st), = wait_delivered(env, rcpt)
    check_delivered(env, data, name, st, rcpt, msg)
    log = env.pf.wait_log("status=sent", 5)
    assert re.search(r"to=<%s>, relay=[^ ]*lmtp.*status=sent \(250 2\.0\.0 "
                     % re.escape(rcpt), log), log[-3000:]


def test_alias_through_postfix(env):
    target = mailbox(env, "pf-target")
    alias = "pf-alias@" + DOMAIN
    env.stack.run_admin("alias", "add", alias, target)
    msg = message(alias, "to an alias")
    submit(env, alias, msg)
    (name, data, st), = wait_delivered(env, target)
    check_delivered(env, data, name, st, target, msg)
    assert not os.path.exists(os.path.join(env.stack.mailroot, DOMAIN,
                                           "pf-alias"))


def test_unknown_recipient_rejected_by_smtpd(env):
    with smtplib.SMTP("127.0.0.1", env.pf.port, local_hostname="client.test",
                      timeout=30) as s:
        s.ehlo()
        assert s.mail(SENDER)[0] == 250
        code, msg = s.rcpt("nobody-here@" + DOMAIN)
        assert code == 550, msg
        assert msg.startswith(b"5.1.1 "), msg
        assert b"virtual mailbox table" in msg, msg
        s.rset()


def test_lmtp_down_message_stays_queued(env):
    rcpt = mailbox(env, "pf-queued")
    msg = message(rcpt, "while aviary-lmtp is down")
    try:
        env.lmtp.stop()
        submit(env, rcpt, msg)
        # Postfix tried, failed and kept it: a deferral reason is listed.
        q = wait_for(lambda: (lambda t: rcpt in t and "(" in t and t)(
            postqueue(env, "-p")), DELIVERY_TIMEOUT)
        assert q, postqueue(env, "-p") + env.pf.log_text()[-3000:]
        assert "status=deferred" in env.pf.wait_log("status=deferred", 5)
        assert maildir_files(env.stack, rcpt) == []
    finally:
        if not env.lmtp.alive():
            env.lmtp.start()
    postqueue(env, "-f")
    (name, data, st), = wait_delivered(env, rcpt)
    check_delivered(env, data, name, st, rcpt, msg)
    assert wait_for(lambda: "Mail queue is empty" in postqueue(env, "-p"),
                    DELIVERY_TIMEOUT), postqueue(env, "-p")
    time.sleep(1)
    assert len(maildir_files(env.stack, rcpt)) == 1     # exactly once
