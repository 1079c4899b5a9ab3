"""aviary-imap FETCH and UID FETCH (imap/imap_fetch.c) with real clients:
imaplib for what a client library sees, a raw socket client for exact
bytes, pipelining and slow readers. Mail arrives through aviary-lmtp;
the whole platform runs under aviaryd.

Structures and sections are compared with Debian's Dovecot 2.3 (the
oracle: what clients saw before a migration) run pre-authenticated on
stdin/stdout (/usr/lib/dovecot/imap -c <conf>: no daemon, no port,
nothing under /etc/dovecot) on a copy of the very Maildir aviary serves,
dovecot-uidlist included, so the UIDs must agree too (dovecothelp.py).

The platform is imaphelp.IMAPPlatform; the raw client here reads
literals by their size (imaphelp.Raw is line-based).
"""
import datetime
import os
import re
import socket
import tempfile
import threading
import time
import zoneinfo

import imaplib
import pytest

import dovecothelp
import imaphelp
from dovecothelp import parse_fetches
from test_mime_dovecot import SECTIONS

CORPUS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "mime")
HIGH_WATER = 256 * 1024
# INTERNALDATE is shown in the server's zone, as Dovecot does: run both
# in a zone with summer time (when installed) so the offset is tested.
ZONE = "Europe/Paris" if os.path.exists(
    "/usr/share/zoneinfo/Europe/Paris") else "UTC"


# --- the platform -----------------------------------------------------------

class FetchPlatform(imaphelp.IMAPPlatform):
    """imaphelp's platform (aviaryd with aviary-auth, aviary-lmtp,
    aviary-pop3 and aviary-imap on free loopback ports) in ZONE, with
    the clients this file uses."""

    tz = ZONE

    def imaplib(self, addr, password):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=120)
        m.login(addr, password)
        return m

    def client(self, addr, password, select="INBOX", examine=False):
        c = Client(self.imap_port)
        tagged = c.cmd('LOGIN "%s" "%s"' % (addr, password))[1]
        assert b" OK " in tagged, tagged
        if select:
            tagged = c.cmd(("EXAMINE " if examine else "SELECT ") +
                           select)[1]
            assert b" OK " in tagged, tagged
        return c

    def imap_pids(self):
        """The aviary-imap processes aviaryd started."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            if comm == "aviary-imap" and ppid == self.proc.pid:
                pids.append(int(d))
        return pids


def rss_anon_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class Client:
    """An IMAP client on a raw socket: cmd() sends one command and returns
    (everything before the tagged reply, the tagged line), literals read
    by their announced size."""

    LITERAL = re.compile(rb"\{(\d+)\}\r\n$")

    def __init__(self, port, timeout=120, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()
        self.n = 0
        self.greeting = self.line()

    def fill(self, n=1 << 20):
        chunk = self.sock.recv(n)
        if not chunk:
            raise EOFError("connection closed; have %r" % bytes(self.buf[-300:]))
        self.buf += chunk

    def line(self):
        """One line with its CRLF."""
        start = 0
        while True:
            i = self.buf.find(b"\r\n", start)
            if i >= 0:
                out = bytes(self.buf[:i + 2])
                del self.buf[:i + 2]
                return out
            start = max(0, len(self.buf) - 1)
            self.fill()

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def send(self, data):
        self.sock.sendall(data)

    def tag(self):
        self.n += 1
        return "t%d" % self.n

    def read_until(self, tag):
        out = []
        while True:
            line = self.line()
            while True:
                m = self.LITERAL.search(line)
                if not m:
                    break
                out.append(line)
                out.append(self.take(int(m.group(1))))
                line = self.line()
            if line.startswith(tag.encode() + b" "):
                return b"".join(out), line
            out.append(line)

    def cmd(self, text):
        tag = self.tag()
        self.send(("%s %s\r\n" % (tag, text)).encode())
        return self.read_until(tag)

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def plat(tmp_path_factory, build):
    yield from FetchPlatform.running(tmp_path_factory, build, "imapf")


# --- messages ---------------------------------------------------------------

def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


M_SIMPLE = (b"From: Alice Example <alice@example.org>\r\n"
            b"To: Bob <bob@example.test>\r\n"
            b"Cc: carol@example.net, \"Dave, Jr.\" <dave@example.net>\r\n"
            b"Subject: Simple test\r\n"
            b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
            b"Message-ID: <simple-1@example.org>\r\n"
            b"\r\n"
            b"Hello Bob,\r\njust a line.\r\n")

M_8BIT = ("From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n"
          "To: J\u00fcrgen <juergen@example.test>\r\n"
          "Subject: Gr\u00fc\u00dfe aus K\u00f6ln\r\n"
          "Date: Tue, 8 Feb 1994 10:00:00 +0100\r\n"
          "MIME-Version: 1.0\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: 8bit\r\n"
          "\r\n"
          "K\u00f6rper mit Umlauten: \u00e4\u00f6\u00fc \u00df \u2014 \u20ac\r\n"
          ).encode("utf-8")

M_MULTI = (b"From: sender@example.org\r\n"
           b"To: user@example.test\r\n"
           b"Subject: multipart with attachments\r\n"
           b"Date: Wed, 9 Feb 1994 11:00:00 +0000\r\n"
           b"Message-ID: <multi-1@example.org>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
           b"\r\n"
           b"This is a multi-part message in MIME format.\r\n"
           b"--outer\r\n"
           b"Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
           b"\r\n"
           b"--alt\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\n"
           b"\r\n"
           b"plain version\r\n"
           b"--alt\r\n"
           b"Content-Type: text/html; charset=us-ascii\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n"
           b"\r\n"
           b"<p>html =3D version</p>\r\n"
           b"--alt--\r\n"
           b"\r\n"
           b"--outer\r\n"
           b"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
           b"Content-ID: <pdf-1@example.org>\r\n"
           b"Content-Description: The report\r\n"
           b"\r\n"
           b"JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVy\r\n"
           b"IC9GbGF0ZURlY29kZT4+CnN0cmVhbQp4nCvkMlAwUDC1NNUzMVGwMDHUszRS\r\n"
           b"--outer\r\n"
           b"Content-Type: image/png\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: inline;\r\n"
           b" filename*=utf-8''%E2%82%AC%20rates.png\r\n"
           b"\r\n"
           b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n"
           b"--outer--\r\n"
           b"epilogue\r\n")

M_RFC822 = (b"From: fwd@example.com\r\n"
            b"To: user@example.test\r\n"
            b"Subject: Fwd: original\r\n"
            b"Date: Thu, 10 Feb 1994 07:00:00 +0000\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"fwd\"\r\n"
            b"\r\n"
            b"--fwd\r\n"
            b"Content-Type: text/plain\r\n"
            b"\r\n"
            b"See the forwarded message.\r\n"
            b"--fwd\r\n"
            b"Content-Type: message/rfc822\r\n"
            b"Content-Disposition: attachment\r\n"
            b"\r\n"
            b"From: Original Sender <orig@example.net>\r\n"
            b"To: fwd@example.com, \"Second, Person\" <second@example.net>\r\n"
            b"Subject: original\r\n"
            b"Date: Mon, 14 Feb 1994 06:00:00 +0000\r\n"
            b"Message-ID: <orig-9@example.net>\r\n"
            b"In-Reply-To: <earlier@example.net>\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
            b"\r\n"
            b"--inner\r\n"
            b"Content-Type: text/plain\r\n"
            b"\r\n"
            b"original text\r\n"
            b"--inner\r\n"
            b"Content-Type: text/html\r\n"
            b"\r\n"
            b"<p>original text</p>\r\n"
            b"--inner--\r\n"
            b"\r\n"
            b"--fwd--\r\n")

DOT_BODY = (b".\r\n..\r\n.hidden line\r\n...three\r\nmiddle\r\n. \r\n"
            b".\r\nlast\r\n")
M_DOTS = (b"From: dots@example.org\r\nTo: user@example.test\r\n"
          b"Subject: dot lines\r\n\r\n" + DOT_BODY)

M_NOMIME = (b"From: a@example.org\r\n"
            b"To: b@example.test,\r\n c@example.test\r\n"
            b"Subject: a folded\r\n  subject line\r\n"
            b"X-Custom: one\r\n"
            b"X-Custom: two\r\n"
            b"\r\n"
            b"no MIME here\r\n")

OWN = [("simple", M_SIMPLE), ("8bit", M_8BIT), ("multi", M_MULTI),
       ("rfc822", M_RFC822), ("dots", M_DOTS), ("nomime", M_NOMIME)]

# Corpus shapes that LMTP cannot carry as they are (smtplib rewrites
# line ends; NUL bytes are refused or changed): kept out of the oracle
# run of delivered mail, they are covered by test_mime_dovecot.py.
CORPUS_SKIP = {"28-nul.eml"}


def corpus_messages():
    out = []
    for n in sorted(os.listdir(CORPUS)):
        if n.endswith(".eml") and n not in CORPUS_SKIP:
            with open(os.path.join(CORPUS, n), "rb") as f:
                out.append((n, f.read()))
    return out


def maildir_files(plat, addr):
    """[(path, bytes)] of INBOX's messages, by the UIDs aviary gave them:
    the order of dovecot-uidlist."""
    home = plat.home(addr)
    names = {}
    for d in ("new", "cur"):
        for name in os.listdir(os.path.join(home, d)):
            names[name.split(":")[0]] = os.path.join(home, d, name)
    out = []
    for base in imaphelp.uids_by_file(home):
        if base in names:
            with open(names[base], "rb") as f:
                out.append((names[base], f.read()))
    return out


# --- the oracle ---------------------------------------------------------------

def dovecot_on_copy(maildir, commands):
    """Run Dovecot's imap pre-authenticated on a copy of the Maildir
    (messages with their mtimes, dovecot-uidlist, dovecot-keywords), in
    ZONE, INBOX selected; the raw output."""
    with dovecothelp.Oracle(tempfile.mkdtemp(prefix="av-fetch-"),
                            tz=ZONE) as oracle:
        oracle.copy_from(maildir)
        return oracle.run(commands)


def merged_fetches(out):
    """{seq: {item: value}} over all the FETCH responses of a transcript.
    Dovecot runs pipelined FETCHes in parallel and may send the tagged
    replies out of order, so the items of separate commands (all
    different) are merged by message rather than split by command."""
    res = {}
    for seq, items in parse_fetches(out).items():
        res.setdefault(seq, {}).update(items)
    return res


# Items asked of every message, one FETCH each (like the oracle test of
# core/mail), BODY.PEEK so that no \Seen changes between them.
BASE = "UID RFC822.SIZE INTERNALDATE ENVELOPE BODY BODYSTRUCTURE"
MORE_SECTIONS = [
    "BODY[HEADER.FIELDS (From To Cc)]",
    "BODY[HEADER.FIELDS.NOT (Return-Path Delivered-To Received)]",
    "BODY[1.2]", "BODY[1.2.MIME]", "BODY[2.2]", "BODY[2.2.1]",
    "BODY[3.MIME]", "BODY[4]", "BODY[2.HEADER.FIELDS (Subject From)]",
    "BODY[2.1.TEXT]", "BODY[TEXT]<0.20>", "BODY[1]<3.4>",
]
# One FETCH with mixed items: the whole response lines must be equal
# byte for byte, item order included.
MIXED = ("(BODY.PEEK[HEADER.FIELDS (Subject)] RFC822.SIZE ENVELOPE UID "
         "BODY.PEEK[TEXT]<0.20> INTERNALDATE BODYSTRUCTURE RFC822.HEADER)")


@pytest.fixture(scope="module")
def delivered(plat):
    """A mailbox with OWN and the corpus delivered over LMTP, selected
    once by aviary (UIDs assigned): (addr, password, [(name, bytes)])."""
    addr, pw = plat.mailbox()
    msgs = OWN + corpus_messages()
    for _, data in msgs:
        plat.deliver(addr, data)
    # INTERNALDATEs over 15 years: both zone offsets, one-digit days
    new = os.path.join(plat.home(addr), "new")
    for i, name in enumerate(sorted(os.listdir(new))):
        t = 1000000000 + i * 9876543
        os.utime(os.path.join(new, name), (t, t))
    c = plat.client(addr, pw)
    c.cmd("LOGOUT")
    c.close()
    return addr, pw, msgs


@dovecothelp.needs_imap
def test_structures_and_sections_match_dovecot(plat, delivered):
    addr, pw, msgs = delivered
    # "<7.0>": RFC 3501 wants an nz-number there; the parser is strict
    # where Dovecot is lenient.
    sections = [s.replace("BODY[", "BODY.PEEK[", 1)
                for s in SECTIONS + MORE_SECTIONS if not s.endswith(".0>")]
    cmds = ["FETCH 1:* (%s)" % BASE] + \
        ["FETCH 1:* (%s)" % s for s in sections]
    theirs = merged_fetches(dovecot_on_copy(plat.home(addr), cmds))
    c = plat.client(addr, pw)
    ours_raw = []
    try:
        for cmd in cmds:
            out, tagged = c.cmd(cmd)
            assert b" OK " in tagged, (cmd, tagged)
            ours_raw.append(out)
        # ENVELOPE alone is served from a parse of the header only
        out, tagged = c.cmd("FETCH 1:* (ENVELOPE UID)")
        env_only = parse_fetches(out)
    finally:
        c.close()
    ours = merged_fetches(b"".join(ours_raw))
    for seq, items in env_only.items():
        assert items["ENVELOPE"] == ours[seq]["ENVELOPE"], msgs[seq - 1][0]
    assert sorted(ours) == list(range(1, len(msgs) + 1))
    assert sorted(theirs) == sorted(ours)
    bad = []
    for seq in sorted(theirs):
        t, o = theirs[seq], ours[seq]
        for item in sorted(set(t) | set(o)):
            if t.get(item) != o.get(item):
                bad.append("%s #%d %s\n  dovecot: %r\n  aviary:  %r" % (
                    msgs[seq - 1][0], seq, item, (t.get(item) or b"")[:400],
                    (o.get(item) or b"")[:400]))
    assert not bad, "\n".join(bad[:25]) + "\n(%d differences)" % len(bad)


@dovecothelp.needs_imap
def test_mixed_items_lines_match_dovecot(plat, delivered):
    """One FETCH with mixed items: the response lines are equal byte for
    byte, the order of the items included."""
    addr, pw, msgs = delivered
    theirs = dovecot_on_copy(plat.home(addr), ["FETCH 1:* " + MIXED])
    theirs = theirs[theirs.index(b"\r\n* 1 FETCH ") + 2:
                    theirs.index(b"\r\nc0 OK ") + 2]
    c = plat.client(addr, pw)
    try:
        ours, tagged = c.cmd("FETCH 1:* " + MIXED)
    finally:
        c.close()
    tl, ol = theirs.split(b"\r\n* "), ours.split(b"\r\n* ")
    bad = ["#%d\n  dovecot: %r\n  aviary:  %r" % (i + 1, a[:600], b[:600])
           for i, (a, b) in enumerate(zip(tl, ol)) if a != b]
    assert len(tl) == len(ol) == len(msgs)
    assert not bad, "\n".join(bad[:10]) + "\n(%d differences)" % len(bad)


def test_every_attribute_with_imaplib(plat, delivered):
    addr, pw, msgs = delivered
    files = maildir_files(plat, addr)
    assert len(files) == len(msgs)
    m = plat.imaplib(addr, pw)
    maxline = imaplib._MAXLINE
    # the corpus has a BODYSTRUCTURE over imaplib's 1 MB line limit
    imaplib._MAXLINE = 64 << 20
    try:
        typ, data = m.select("INBOX", readonly=True)
        assert typ == "OK" and int(data[0]) == len(msgs)
        for seq, (path, raw) in enumerate(files, 1):
            # NUL bytes go out as 0x80, as Dovecot sends them
            want = crlf(raw).replace(b"\0", b"\x80")
            typ, data = m.fetch(str(seq), "(UID FLAGS INTERNALDATE "
                                "RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE "
                                "RFC822 RFC822.HEADER RFC822.TEXT BODY[])")
            assert typ == "OK", data
            head = data[0][0]
            assert re.match(rb"%d \(UID \d+ FLAGS \([^)]*\) INTERNALDATE "
                            rb"\"[ 0-9]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d "
                            rb"[+-]\d{4}\" RFC822.SIZE %d ENVELOPE \(" %
                            (seq, len(want)), head), head[:300]
            lits = [d for d in data if isinstance(d, tuple)]
            byname = {}
            for prefix, lit in lits:
                mt = re.search(rb"(RFC822(?:\.HEADER|\.TEXT)?|BODY\[\]) "
                               rb"\{\d+\}$", prefix)
                if mt:		# else a literal inside ENVELOPE/BODY...
                    byname[mt.group(1)] = lit
            hdr_end = want.find(b"\r\n\r\n")
            hdr = want if hdr_end < 0 else want[:hdr_end + 4]
            assert byname[b"RFC822"] == want
            assert byname[b"BODY[]"] == want
            assert byname[b"RFC822.HEADER"] == hdr
            assert byname[b"RFC822.TEXT"] == want[len(hdr):]
            # INTERNALDATE is the file's mtime
            t = imaplib.Internaldate2tuple(head)
            assert abs(time.mktime(t) - os.stat(path).st_mtime) < 1.5
            # the zone's offset at that time, the day with two digits
            local = datetime.datetime.fromtimestamp(
                int(os.stat(path).st_mtime), zoneinfo.ZoneInfo(ZONE))
            date = re.search(rb'INTERNALDATE "([^"]+)"', head).group(1)
            assert date == local.strftime("%d-%b-%Y %H:%M:%S %z").encode(), \
                date
        # read-only: nothing became \Seen
        typ, data = m.fetch("1:*", "FLAGS")
        assert not any(b"\\Seen" in d for d in data), data
    finally:
        imaplib._MAXLINE = maxline
        m.logout()


def test_8bit_dots_and_literal_sizes(plat, delivered):
    addr, pw, msgs = delivered
    names = [n for n, _ in msgs]
    files = dict(zip(names, [r for _, r in maildir_files(plat, addr)]))
    c = plat.client(addr, pw, select="INBOX")
    try:
        seq = names.index("dots") + 1
        out, tagged = c.cmd("FETCH %d (BODY.PEEK[TEXT])" % seq)
        assert out == b"* %d FETCH (BODY[TEXT] {%d}\r\n%s)\r\n" % (
            seq, len(DOT_BODY), DOT_BODY), out
        seq = names.index("8bit") + 1
        out, tagged = c.cmd("FETCH %d (BODY.PEEK[1])" % seq)
        body = M_8BIT.split(b"\r\n\r\n", 1)[1]
        assert out == b"* %d FETCH (BODY[1] {%d}\r\n%s)\r\n" % (
            seq, len(body), body), out
        # 8-bit header text goes out as a literal in ENVELOPE
        out, tagged = c.cmd("FETCH %d (ENVELOPE)" % seq)
        assert "Grüße aus Köln".encode() in out and b"{" in out, out
        assert crlf(files["8bit"]).endswith(body)
    finally:
        c.close()


def test_header_fields_text_mime_parts(plat, delivered):
    addr, pw, msgs = delivered
    names = [n for n, _ in msgs]
    c = plat.client(addr, pw)
    try:
        seq = names.index("nomime") + 1
        out, _ = c.cmd("FETCH %d (BODY.PEEK[HEADER.FIELDS (x-custom "
                       "Subject)])" % seq)
        lit = (b"Subject: a folded\r\n  subject line\r\n"
               b"X-Custom: one\r\nX-Custom: two\r\n\r\n")
        assert out == (b"* %d FETCH (BODY[HEADER.FIELDS (X-CUSTOM SUBJECT)] "
                       b"{%d}\r\n%s)\r\n" % (seq, len(lit), lit)), out
        out, _ = c.cmd("FETCH %d (BODY.PEEK[HEADER.FIELDS.NOT (X-Custom "
                       "Subject Return-Path Delivered-To)])" % seq)
        assert b"X-Custom" not in out and b"Subject" not in out
        assert b"From: a@example.org\r\nTo: b@example.test,\r\n " \
            b"c@example.test\r\n\r\n)" in out, out
        seq = names.index("multi") + 1
        out, _ = c.cmd("FETCH %d (BODY.PEEK[1.1] BODY.PEEK[1.2.MIME] "
                       "BODY.PEEK[2]<0.8> BODY.PEEK[9] BODY.PEEK[1.2.TEXT])"
                       % seq)
        assert out == (
            b"* %d FETCH (BODY[1.1] {13}\r\nplain version"
            b" BODY[1.2.MIME] {90}\r\nContent-Type: text/html; "
            b"charset=us-ascii\r\nContent-Transfer-Encoding: "
            b"quoted-printable\r\n\r\n"
            b" BODY[2]<0> {8}\r\nJVBERi0x BODY[9] {0}\r\n"
            b" BODY[1.2.TEXT] {0}\r\n)\r\n" % seq), out
        seq = names.index("rfc822") + 1
        out, _ = c.cmd("FETCH %d (BODY.PEEK[2.HEADER.FIELDS (in-reply-to)] "
                       "BODY.PEEK[2.TEXT]<0.9> BODY.PEEK[2.1] "
                       "BODY.PEEK[2.2.1])" % seq)
        irt = b"In-Reply-To: <earlier@example.net>\r\n\r\n"
        assert out == (
            b"* %d FETCH (BODY[2.HEADER.FIELDS (IN-REPLY-TO)] {%d}\r\n%s"
            b" BODY[2.TEXT]<0> {9}\r\n--inner\r\n"
            b" BODY[2.1] {13}\r\noriginal text"
            b" BODY[2.2.1] {20}\r\n<p>original text</p>)\r\n" % (
                seq, len(irt), irt)), out
    finally:
        c.close()


def test_item_order_and_duplicates(plat, delivered):
    """Dovecot's order: UID first in UID FETCH, then the short items in
    the order asked, then the rest; repeated items answered once."""
    addr, pw, msgs = delivered
    c = plat.client(addr, pw, examine=True)
    try:
        out, _ = c.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)] "
                       "RFC822.SIZE ENVELOPE ENVELOPE UID UID)")
        assert re.match(rb"\* 1 FETCH \(RFC822.SIZE \d+ UID \d+ "
                        rb"BODY\[HEADER.FIELDS \(SUBJECT\)\] \{\d+\}\r\n"
                        rb".*\r\n\r\n ENVELOPE \(.*\)\)\r\n$", out, re.S), out
        assert out.count(b"ENVELOPE") == 1 and out.count(b"UID") == 1
        out, _ = c.cmd("UID FETCH 1:* (RFC822.SIZE FLAGS)")
        lines = out.split(b"\r\n")[:-1]
        assert len(lines) == len(msgs)
        for line in lines:
            assert re.match(rb"\* \d+ FETCH \(UID \d+ RFC822.SIZE \d+ "
                            rb"FLAGS \([^)]*\)\)$", line), line
        out, _ = c.cmd("FETCH 2 (BODY.PEEK[]<0.5> BODY.PEEK[]<0.5>)")
        assert out.count(b"BODY[]<0> {5}") == 2
        # the macros
        out, _ = c.cmd("FETCH 1 FAST")
        assert re.match(rb"\* 1 FETCH \(FLAGS \([^)]*\) INTERNALDATE "
                        rb"\"[^\"]+\" RFC822.SIZE \d+\)\r\n$", out), out
        out, _ = c.cmd("FETCH 1 ALL")
        assert re.match(rb"\* 1 FETCH \(FLAGS \([^)]*\) INTERNALDATE "
                        rb"\"[^\"]+\" RFC822.SIZE \d+ ENVELOPE \(", out), out
        out, _ = c.cmd("FETCH 1 FULL")
        assert b" ENVELOPE (" in out and b" BODY (" in out
    finally:
        c.close()


# --- \Seen --------------------------------------------------------------------

def fresh_mailbox(plat, n=3):
    addr, pw = plat.mailbox()
    for i in range(n):
        plat.deliver(addr, M_SIMPLE.replace(b"Simple test",
                                            b"Simple test %d" % i))
    return addr, pw


def test_peek_does_not_set_seen_body_does(plat):
    addr, pw = fresh_mailbox(plat, 4)
    m = plat.imaplib(addr, pw)
    try:
        m.select("INBOX")
        typ, data = m.fetch("1", "(BODY.PEEK[] BODY.PEEK[TEXT] "
                            "RFC822.HEADER)")
        assert typ == "OK" and b"FLAGS" not in data[0][0], data
        typ, data = m.fetch("1:4", "FLAGS")
        assert not any(b"\\Seen" in d for d in data), data

        # BODY[] sets \Seen; FLAGS comes with it although not asked for
        typ, data = m.fetch("1", "(BODY[])")
        assert re.match(rb"1 \(FLAGS \([^)]*\\Seen[^)]*\) BODY\[\] \{\d+\}$",
                        data[0][0]), data
        assert data[0][1].endswith(crlf(M_SIMPLE).replace(
            b"Simple test", b"Simple test 0")), data[0][1][-200:]
        # already seen: no FLAGS any more
        typ, data = m.fetch("1", "(BODY[])")
        assert b"FLAGS" not in data[0][0], data
        # asked together with FLAGS: the new flags, once
        typ, data = m.fetch("2", "(FLAGS BODY[TEXT])")
        assert data[0][0].count(b"FLAGS") == 1 and \
            b"\\Seen" in data[0][0], data
        # RFC822.TEXT sets it, RFC822.HEADER does not
        typ, data = m.fetch("3", "(RFC822.HEADER)")
        assert b"FLAGS" not in data[0][0]
        typ, data = m.fetch("3", "(RFC822.TEXT)")
        assert b"\\Seen" in data[0][0], data
        typ, data = m.fetch("1:4", "FLAGS")
        seen = [b"\\Seen" in d for d in data]
        assert seen == [True, True, True, False], data
    finally:
        m.logout()
    # on disk: the S flag of three files
    flags = sorted(f for _, f in plat.files(addr).values())
    assert [("S" in f) for f in flags].count(True) == 3, flags

    # EXAMINE is read-only: BODY[] sets nothing
    m = plat.imaplib(addr, pw)
    try:
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("4", "(BODY[])")
        assert b"FLAGS" not in data[0][0], data
        typ, data = m.fetch("4", "FLAGS")
        assert b"\\Seen" not in data[0], data
    finally:
        m.logout()


# --- UID FETCH and sequence numbers --------------------------------------------

def test_uid_fetch_ranges(plat):
    addr, pw = fresh_mailbox(plat, 5)
    c = plat.client(addr, pw)
    try:
        out, tagged = c.cmd("UID FETCH 1:* UID")
        uids = [int(u) for u in re.findall(rb"UID (\d+)", out)]
        assert len(uids) == 5 and uids == sorted(uids), out
        top = uids[-1]
        out, tagged = c.cmd("UID FETCH * (FLAGS)")
        assert re.match(rb"\* 5 FETCH \(UID %d FLAGS \(" % top, out), out
        # a range starting past the top still names the top message
        out, tagged = c.cmd("UID FETCH %d:* (FLAGS)" % (top + 100))
        assert re.match(rb"\* 5 FETCH \(UID %d FLAGS" % top, out), out
        # unknown UIDs are ignored, the others answered
        out, tagged = c.cmd("UID FETCH %d,%d,%d (RFC822.SIZE)" %
                            (uids[1], top + 7, uids[2]))
        assert b" OK " in tagged
        assert re.findall(rb"\* (\d+) FETCH \(UID (\d+) ", out) == [
            (b"2", str(uids[1]).encode()), (b"3", str(uids[2]).encode())]
        out, tagged = c.cmd("UID FETCH %d (FLAGS)" % (top + 50))
        assert out == b"" and b" OK " in tagged, (out, tagged)
        out, tagged = c.cmd("UID FETCH %d:%d UID" % (uids[3], uids[1]))
        assert len(re.findall(rb"UID (\d+)", out)) == 3, out
    finally:
        c.close()


def test_sequence_errors(plat):
    addr, pw = fresh_mailbox(plat, 3)
    c = plat.client(addr, pw)
    try:
        for cmd in ("FETCH 4 FLAGS", "FETCH 1:9 FLAGS", "FETCH 0 FLAGS",
                    "FETCH 2,7 FLAGS", "FETCH x FLAGS", "FETCH 1 (FOO)",
                    "FETCH 1", "FETCH 1 BODY[NOPE]", "FETCH 1 BODY[]<1>",
                    "FETCH 1 BINARY[1]", "FETCH 1 BINARY.SIZE[1]"):
            out, tagged = c.cmd(cmd)
            assert b" BAD " in tagged and out == b"", (cmd, out, tagged)
        out, tagged = c.cmd("FETCH 3 UID")
        assert b" OK " in tagged and out.startswith(b"* 3 FETCH (UID ")
        out, tagged = c.cmd("FETCH * UID")
        assert b" OK " in tagged and out.startswith(b"* 3 FETCH (UID ")
        out, tagged = c.cmd("FETCH 3:* UID")
        assert b" OK " in tagged and out.count(b"FETCH") == 1
    finally:
        c.close()
    # an empty folder: any sequence number is beyond the count
    addr2, pw2 = plat.mailbox()
    plat.deliver(addr2, M_SIMPLE)
    c = plat.client(addr2, pw2)
    try:
        # LMTP created the special-use folders on the first delivery
        out, tagged = c.cmd("SELECT Trash")
        assert b" OK " in tagged, tagged
        out, tagged = c.cmd("FETCH 1 FLAGS")
        assert b" BAD " in tagged, tagged
        out, tagged = c.cmd("UID FETCH 1:* FLAGS")
        assert b" OK " in tagged and out == b"", (out, tagged)
    finally:
        c.close()


# --- expunged by someone else ----------------------------------------------------

def test_expunged_message_rfc2180(plat):
    addr, pw = fresh_mailbox(plat, 3)
    c = plat.client(addr, pw)
    try:
        out, tagged = c.cmd("FETCH 1:3 (UID RFC822.SIZE)")
        assert out.count(b"FETCH") == 3
        # another client expunges message 2 behind this session's back
        files = maildir_files(plat, addr)
        os.unlink(files[1][0])
        out, tagged = c.cmd("FETCH 1:3 (UID BODY.PEEK[HEADER])")
        # RFC 2180 4.1.2: the others answered, nothing for 2, tagged NO
        seqs = re.findall(rb"\* (\d+) FETCH", out)
        assert seqs == [b"1", b"3"], out
        assert re.match(rb"t\d+ NO \[EXPUNGEISSUED\]", tagged), tagged
        # what the view still knows is answered
        out, tagged = c.cmd("FETCH 2 (UID FLAGS RFC822.SIZE)")
        assert re.match(rb"\* 2 FETCH \(UID \d+ FLAGS \(", out), out
        assert b" OK" in tagged, tagged
        out, tagged = c.cmd("NOOP")
        assert b"* 2 EXPUNGE" in out, out
        out, tagged = c.cmd("FETCH 1:2 (UID BODY.PEEK[HEADER])")
        assert out.count(b"FETCH") == 2 and b" OK " in tagged
    finally:
        c.close()


# --- a big message: streaming, partials, back-pressure ----------------------------

BIG_SIZE = 20 * 1024 * 1024


def big_message():
    lines = [b"From: big@example.org", b"To: user@example.test",
             b"Subject: twenty megabytes", b"MIME-Version: 1.0",
             b"Content-Type: text/plain", b""]
    n = 0
    size = sum(len(x) + 2 for x in lines)
    while size < BIG_SIZE:
        line = (b".dot %08d " % n if n % 97 == 0 else b"line %08d " % n) + \
            b"abcdefghijklmnopqrstuvwxyz0123456789" * (1 + n % 3)
        lines.append(line)
        size += len(line) + 2
        n += 1
    return b"\r\n".join(lines) + b"\r\n"


@pytest.fixture(scope="module")
def big(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, M_SIMPLE)
    plat.deliver(addr, big_message())
    plat.deliver(addr, M_DOTS)
    c = plat.client(addr, pw)
    c.cmd("LOGOUT")
    c.close()
    files = maildir_files(plat, addr)
    assert max(len(d) for _, d in files) == len(files[1][1])
    return addr, pw, crlf(files[1][1])


def test_big_message_whole_and_partials(plat, big):
    addr, pw, want = big
    assert len(want) > BIG_SIZE - 1
    c = plat.client(addr, pw)
    try:
        t0 = time.monotonic()
        out, tagged = c.cmd("FETCH 2 (RFC822.SIZE BODY.PEEK[])")
        took = time.monotonic() - t0
        assert b" OK " in tagged, tagged
        head = b"* 2 FETCH (RFC822.SIZE %d BODY[] {%d}\r\n" % (len(want),
                                                               len(want))
        assert out == head + want + b")\r\n"
        print("FETCH BODY[] of %d bytes: %.2f s" % (len(want), took))
        n = len(want)
        for origin, count in ((0, 1000), (1000, 1000), (n - 500, 1000),
                              (n, 100), (n + 10, 100), (12345677, 5000000)):
            out, tagged = c.cmd("FETCH 2 (BODY.PEEK[]<%d.%d>)" %
                                (origin, count))
            part = want[origin:origin + count]
            assert out == b"* 2 FETCH (BODY[]<%d> {%d}\r\n%s)\r\n" % (
                origin, len(part), part), (origin, count, out[:200])
        body = want[want.index(b"\r\n\r\n") + 4:]
        out, tagged = c.cmd("FETCH 2 (BODY.PEEK[TEXT]<1000.1000> "
                            "BODY.PEEK[1]<%d.100>)" % (len(body) - 50))
        assert out == (b"* 2 FETCH (BODY[TEXT]<1000> {1000}\r\n%s "
                       b"BODY[1]<%d> {50}\r\n%s)\r\n" % (
                           body[1000:2000], len(body) - 50, body[-50:]))
        # messages around it are unaffected, in one command
        out, tagged = c.cmd("FETCH 1:3 (BODY.PEEK[TEXT])")
        assert out.count(b" FETCH ") == 3 and out.endswith(
            b"{%d}\r\n%s)\r\n" % (len(DOT_BODY), DOT_BODY))
        assert len(out) > len(body)
    finally:
        c.close()


def test_big_message_slow_reader(plat, big):
    """A client that reads slowly: the server stops at the high-water
    mark and goes on as the client drains; its memory stays small;
    pipelined commands are answered after the FETCH, in order; other
    connections are served meanwhile."""
    addr, pw, want = big
    pids = plat.imap_pids()
    before = dict((p, rss_anon_kb(p)) for p in pids)
    c = Client(plat.imap_port, rcvbuf=64 * 1024)
    assert b" OK " in c.cmd('LOGIN "%s" "%s"' % (addr, pw))[1]
    assert b" OK " in c.cmd("SELECT INBOX")[1]
    c.send(b"s1 FETCH 2 (BODY[])\r\ns2 FETCH 2 (FLAGS)\r\ns3 NOOP\r\n")
    got = c.take(200)
    assert re.match(rb"\* 2 FETCH \(FLAGS \([^)]*\\Seen", got), got
    time.sleep(1.0)
    # the server holds at most its queue, not the message
    grown = max(rss_anon_kb(p) - before.get(p, 0) for p in pids)
    assert grown < 16 * 1024, "aviary-imap grew by %d kB" % grown
    # another connection is answered while this one is stuck
    other = plat.client(addr, pw)
    out, tagged = other.cmd("FETCH 1 (UID RFC822.SIZE)")
    assert b" OK " in tagged and out.startswith(b"* 1 FETCH (UID ")
    other.close()
    # read the rest in small steps
    rest = bytearray(got) + c.buf
    c.buf.clear()
    while True:
        try:
            chunk = c.sock.recv(256 * 1024)
        except socket.timeout:
            break
        if not chunk:
            break
        rest += chunk
        if rest.endswith(b"s3 OK NOOP completed.\r\n") or \
                re.search(rb"\r\ns3 (OK|NO|BAD)[^\r]*\r\n$", rest):
            break
        if len(rest) < 4 * 1024 * 1024:
            time.sleep(0.002)
    rest = bytes(rest)
    m = re.match(rb"\* 2 FETCH \(FLAGS \([^)]*\) BODY\[\] \{(\d+)\}\r\n",
                 rest)
    assert m and int(m.group(1)) == len(want), rest[:200]
    after = rest[m.end():]
    assert after[:len(want)] == want
    tail = after[len(want):]
    assert re.match(rb"\)\r\ns1 OK [^\r]*\r\n\* 2 FETCH \(FLAGS \([^)]*\)\)"
                    rb"\r\ns2 OK [^\r]*\r\n(\* [^\r]*\r\n)*s3 OK [^\r]*\r\n$",
                    tail), tail
    c.close()


def test_disconnect_during_big_fetch(plat, big):
    """A client that goes away in the middle of a suspended FETCH: the
    server frees it (checked by the sanitizer build's leak report at the
    end) and serves the next client."""
    addr, pw, want = big
    for _ in range(3):
        c = Client(plat.imap_port, rcvbuf=32 * 1024)
        assert b" OK " in c.cmd('LOGIN "%s" "%s"' % (addr, pw))[1]
        assert b" OK " in c.cmd("EXAMINE INBOX")[1]
        c.send(b"x FETCH 1:3 (BODY[])\r\n")
        c.take(100000)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
    c = plat.client(addr, pw)
    out, tagged = c.cmd("FETCH 3 (BODY.PEEK[TEXT])")
    assert out.endswith(DOT_BODY + b")\r\n") and b" OK " in tagged
    c.close()


def test_concurrent_big_fetches(plat, big):
    addr, pw, want = big
    errors = []

    def one():
        try:
            c = plat.client(addr, pw, select="INBOX")
            out, tagged = c.cmd("FETCH 2 (BODY.PEEK[])")
            if not out.endswith(want + b")\r\n") or b" OK " not in tagged:
                errors.append("bad answer, %d bytes" % len(out))
            c.close()
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors


# --- 10,000 messages ------------------------------------------------------------

def test_fetch_10000_envelopes(plat):
    """FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE) over 10,000
    messages; the files are put into cur/ directly (delivering them over
    LMTP would measure LMTP). Prints the times."""
    addr, pw = plat.mailbox()
    plat.deliver(addr, M_SIMPLE)
    home = plat.home(addr)
    st = os.stat(os.path.join(home, "new"))
    body = b"".join(b"line %d of a typical short message body\n" % i
                    for i in range(60))
    t = 1700000000
    for i in range(9999):
        data = (b"Return-Path: <s%d@example.org>\n"
                b"Delivered-To: %s\n"
                b"Received: from mx.example.org by mx.example.test; "
                b"Tue, 14 Nov 2023 22:13:20 +0000\n"
                b"From: Sender %d <s%d@example.org>\n"
                b"To: %s\n"
                b"Subject: message number %d of the benchmark\n"
                b"Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
                b"Message-ID: <bench-%d@example.org>\n"
                b"MIME-Version: 1.0\n"
                b"Content-Type: text/plain; charset=utf-8\n\n"
                % (i, addr.encode(), i, i, addr.encode(), i, i)) + body
        vsize = len(crlf(data))
        name = "%d.M%dP4242.bench,S=%d,W=%d:2,%s" % (
            t + i, i, len(data), vsize, "S" if i % 3 == 0 else "")
        path = os.path.join(home, "cur", name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (t + i, t + i))
        if os.getuid() == 0:
            os.chown(path, st.st_uid, st.st_gid)
    c = plat.client(addr, pw, select=None)
    try:
        t0 = time.monotonic()
        out, tagged = c.cmd("SELECT INBOX")
        t_select = time.monotonic() - t0
        assert b"* 10000 EXISTS" in out, out[:500]
        times = []
        for _ in range(3):
            t0 = time.monotonic()
            out, tagged = c.cmd("FETCH 1:* (UID FLAGS INTERNALDATE "
                                "RFC822.SIZE ENVELOPE)")
            times.append(time.monotonic() - t0)
            assert b" OK " in tagged and out.count(b"\r\n* ") == 9999
        t0 = time.monotonic()
        out2, tagged = c.cmd("FETCH 1:* (UID FLAGS)")
        t_flags = time.monotonic() - t0
        assert b" OK " in tagged
        print("10,000 messages: SELECT %.2f s, FETCH (UID FLAGS "
              "INTERNALDATE RFC822.SIZE ENVELOPE) %s s (%d bytes), "
              "FETCH (UID FLAGS) %.2f s" % (
                  t_select, " / ".join("%.2f" % x for x in times),
                  len(out), t_flags))
        limit = 60.0 if os.environ.get("AVIARY_SAN") else 15.0
        assert min(times) < limit
    finally:
        c.close()
