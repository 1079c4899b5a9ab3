"""aviary-pop3 with real clients: poplib (plain, STLS, POP3S), raw
sockets for exact bytes and bad input, curl, fetchmail; mail delivered
through aviary-lmtp, the whole platform run by aviaryd."""
import base64
import hashlib
import os
import poplib
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

import avstack
from pop3help import Platform, REMOTE_IP, tls_context, unstuff


@pytest.fixture(scope="module")
def plat(tmp_path_factory, build):
    yield from Platform.running(tmp_path_factory, build, "pop3")


def msg(subject, body=b"hello\r\n", extra=b""):
    return (b"From: sender@example.org\r\nTo: x@example.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n" + extra + b"\r\n" + body)


def file_bytes(plat, addr, base):
    d, flags = plat.files(addr)[base]
    home = plat.home(addr)
    name = base + (":2," + flags if d == "cur" else "")
    with open(os.path.join(home, d, name), "rb") as f:
        return f.read()


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def uidlist(plat, addr):
    with open(os.path.join(plat.home(addr), "dovecot-uidlist"), "rb") as f:
        lines = f.read().decode().splitlines()
    head = dict((f[0], f[1:]) for f in lines[0].split()[1:])
    recs = {}
    for line in lines[1:]:
        left, name = line.split(" :", 1)
        recs[name] = int(left.split()[0])
    return int(head["V"]), recs


# --- capabilities and logins ---------------------------------------------

def test_greeting_and_capa_local(plat):
    p = plat.pop3()
    assert p.getwelcome().startswith(b"+OK")
    caps = p.capa()
    for c in ("CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING",
              "AUTH-RESP-CODE", "STLS", "USER"):
        assert c in caps, caps
    assert caps["SASL"] == ["PLAIN", "LOGIN"]
    p.quit()


def test_capa_remote_hides_plaintext_until_stls(plat):
    addr, pw = plat.mailbox()
    p = plat.pop3(remote=True)
    caps = p.capa()
    assert "STLS" in caps and "USER" not in caps and "SASL" not in caps
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\].*TLS"):
        p.user(addr)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p._shortcmd("AUTH PLAIN " + base64.b64encode(
            b"\0" + addr.encode() + b"\0" + pw.encode()).decode())
    p.stls(tls_context())
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps
    p.user(addr)
    assert p.pass_(pw).startswith(b"+OK")
    p.quit()
    # The refusal happened before any password reached aviary-auth.
    assert addr in plat.log()


def test_remote_plaintext_allowed_by_config_is_not_local(plat):
    """A client from 127.0.0.2 really is treated as remote: the log
    shows its address."""
    addr, pw = plat.mailbox()
    p = plat.pop3(remote=True)
    p.stls(tls_context())
    p.user(addr)
    p.pass_(pw)
    p.quit()
    assert re.search(r"pop3: login user=%s rip=%s " % (re.escape(addr),
                                                       re.escape(REMOTE_IP)),
                     plat.log())


def test_user_pass_login_and_wrong_password(plat):
    addr, pw = plat.mailbox()
    p = plat.pop3()
    p.user(addr)
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        p.pass_(pw + "x")
    p.user(addr)
    assert p.pass_(pw) == b"+OK Logged in."
    assert p.stat() == (0, 0)
    p.quit()


def test_unknown_user(plat):
    p = plat.pop3()
    p.user("nobody-here@example.test")
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        p.pass_("whatever")
    p.quit()


def test_pass_without_user_and_commands_before_login(plat):
    r = plat.raw()
    assert r.cmd("PASS secret").startswith(b"-ERR")
    assert r.cmd("STAT") == b"-ERR Not logged in."
    assert r.cmd("APOP a b").startswith(b"-ERR")
    assert r.cmd("XYZZY") == b"-ERR Unknown command"
    assert r.cmd("QUIT").startswith(b"+OK")
    r.close()


def test_auth_plain_initial_response(plat):
    addr, pw = plat.mailbox()
    r = plat.raw()
    ir = base64.b64encode(b"\0" + addr.encode() + b"\0" + pw.encode())
    assert r.cmd("AUTH PLAIN " + ir.decode()) == b"+OK Logged in."
    assert r.cmd("STAT") == b"+OK 0 0"
    r.cmd("QUIT")
    r.close()


def test_auth_plain_continuation_and_login(plat):
    addr, pw = plat.mailbox()
    r = plat.raw()
    assert r.cmd("AUTH PLAIN") == b"+ "
    ir = base64.b64encode(b"\0" + addr.encode() + b"\0" + pw.encode())
    assert r.cmd(ir.decode()) == b"+OK Logged in."
    r.cmd("QUIT")
    r.close()
    r = plat.raw()
    line = r.cmd("AUTH LOGIN")
    assert base64.b64decode(line[2:]) == b"Username:"
    line = r.cmd(base64.b64encode(addr.encode()).decode())
    assert base64.b64decode(line[2:]) == b"Password:"
    assert r.cmd(base64.b64encode(pw.encode()).decode()) == b"+OK Logged in."
    r.cmd("QUIT")
    r.close()


def test_auth_cancel_bad_base64_unknown_mechanism(plat):
    r = plat.raw()
    assert r.cmd("AUTH PLAIN") == b"+ "
    assert r.cmd("*") == b"-ERR Authentication cancelled."
    assert r.cmd("AUTH PLAIN") == b"+ "
    assert r.cmd("!!!notbase64") == b"-ERR Invalid base64 data."
    assert r.cmd("AUTH CRAM-MD5").startswith(b"-ERR Unsupported")
    r.send(b"AUTH\r\n")
    assert r.line() == b"+OK"
    assert r.multi() == [b"PLAIN", b"LOGIN"]
    r.cmd("QUIT")
    r.close()


def test_pop3s_and_stls(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, msg("tls"))
    p = plat.pop3s()
    assert "STLS" not in p.capa()
    p.user(addr)
    p.pass_(pw)
    assert p.stat()[0] == 1
    p.quit()
    p = plat.pop3()
    p.stls(tls_context())
    with pytest.raises(poplib.error_proto, match="already"):
        p._shortcmd("STLS")
    p.user(addr)
    p.pass_(pw)
    assert p.stat()[0] == 1
    p.quit()


def test_stls_discards_pipelined_plaintext(plat):
    """Commands sent in the clear after STLS must never run (the STARTTLS
    injection hole): either they are dropped and the handshake works, or
    they reach the TLS layer as garbage and the handshake fails."""
    import ssl
    s = socket.create_connection(("127.0.0.1", plat.pop3_port), 10)
    f = s.makefile("rb", buffering=0)
    assert f.readline().startswith(b"+OK")
    s.sendall(b"STLS\r\nCAPA\r\n")
    assert f.readline() == b"+OK Begin TLS negotiation now.\r\n"
    try:
        t = tls_context().wrap_socket(s)
    except (ssl.SSLError, ConnectionError):
        s.close()
        return
    t.sendall(b"NOOP\r\n")
    buf = t.recv(1000)
    # NOOP before login is an error, and nothing answers the CAPA.
    assert buf == b"-ERR Not logged in.\r\n", buf
    t.close()


# --- the maildrop ----------------------------------------------------------

def test_retr_is_byte_exact(plat):
    addr, pw = plat.mailbox()
    bodies = [
        msg("dots", b".leading dot\r\n..two dots\r\n.\r\nend\r\n"),
        msg("8bit", "Grüße, naïve café – ✓\r\n".encode() + bytes(range(128, 256)) + b"\r\n",
            extra=b"Content-Type: text/plain; charset=utf-8\r\n"
                  b"Content-Transfer-Encoding: 8bit\r\n"),
        msg("no final newline", b"last line without newline"),
        msg("empty body", b""),
    ]
    for b in bodies:
        plat.deliver(addr, b)
    files = plat.files(addr)
    r = plat.raw()
    r.login(addr, pw)
    r.send(b"LIST\r\n")
    assert r.line().startswith(b"+OK 4 messages")
    sizes = [int(x.split()[1]) for x in r.multi()]
    r.send(b"UIDL\r\n")
    assert r.line() == b"+OK"
    uidls = [x.split()[1] for x in r.multi()]
    assert len(set(uidls)) == 4
    got = []
    for i in range(1, 5):
        head = r.cmd("RETR %d" % i)
        assert head == b"+OK %d octets" % sizes[i - 1]
        raw = r.raw_multi()
        got.append(unstuff(raw))
    # What was sent is the stored file with CRLF line ends.
    stored = sorted(file_bytes(plat, addr, b) for b in files)
    sent = sorted(got)
    expect = []
    for data in stored:
        c = crlf(data)
        expect.append(c if c.endswith(b"\r\n") else c + b"\r\n")
    assert sorted(expect) == sent
    # LIST sizes are the exact octet counts (an unterminated last line
    # gets its CRLF only as part of the terminator).
    for i, data in enumerate(got):
        assert sizes[i] in (len(data), len(data) - 2)
    # The dot-leading lines were stuffed on the wire.
    r.send(b"RETR 1\r\n")
    r.line()
    raw = r.raw_multi()
    if b"leading dot" in raw:
        assert b"\r\n..leading dot\r\n...two dots\r\n..\r\nend" in raw
    r.cmd("QUIT")
    r.close()


def test_top(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, msg("top", b"l1\r\nl2\r\n.l3\r\nl4\r\n"))
    r = plat.raw()
    r.login(addr, pw)
    assert r.cmd("TOP 1 0") == b"+OK"
    lines = r.multi()
    assert lines[-1] == b"" and b"Subject: top" in lines
    assert r.cmd("TOP 1 3") == b"+OK"
    lines = r.multi()
    assert lines[-3:] == [b"l1", b"l2", b"..l3"]
    assert r.cmd("TOP 1 100") == b"+OK"
    assert r.multi()[-1] == b"l4"
    assert r.cmd("TOP 2 1").startswith(b"-ERR")
    assert r.cmd("TOP 1").startswith(b"-ERR")
    r.cmd("QUIT")
    r.close()
    # TOP does not mark the message read.
    assert list(plat.files(addr).values()) == [("cur", "")]


def test_dele_quit_removes_dropped_connection_keeps(plat):
    addr, pw = plat.mailbox()
    for i in range(3):
        plat.deliver(addr, msg("m%d" % i))
    r = plat.raw()
    r.login(addr, pw)
    assert r.cmd("DELE 1") == b"+OK Marked to be deleted."
    assert r.cmd("DELE 1").startswith(b"-ERR")
    assert r.cmd("RETR 1").startswith(b"-ERR")
    assert r.cmd("STAT").startswith(b"+OK 2 ")
    r.close()                                   # no QUIT
    time.sleep(0.3)
    assert len(plat.files(addr)) == 3
    assert all(d == "new" for d, _ in plat.files(addr).values())
    p = plat.login(addr, pw)
    assert p.stat()[0] == 3
    p.dele(1)
    p.rset()
    p.dele(2)
    p.quit()
    assert len(plat.files(addr)) == 2
    # What remains moved to cur/ (seen by a client), not flagged \Seen.
    assert sorted(plat.files(addr).values()) == [("cur", ""), ("cur", "")]


def test_retr_marks_seen_at_quit(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, msg("a"))
    plat.deliver(addr, msg("b"))
    p = plat.login(addr, pw)
    p.retr(1)
    p.quit()
    flags = sorted(plat.files(addr).values())
    assert flags == [("cur", ""), ("cur", "S")]


def test_uidl_stable_and_dovecot_format(plat):
    addr, pw = plat.mailbox()
    for i in range(3):
        plat.deliver(addr, msg("u%d" % i))
    p = plat.login(addr, pw)
    first = p.uidl()[1]
    p.quit()
    uidvalidity, recs = uidlist(plat, addr)
    want = sorted(b"%08X%08X" % (uid, uidvalidity) for uid in recs.values())
    got = sorted(x.split()[1] for x in first)
    assert got == want
    plat.deliver(addr, msg("later"))
    p = plat.login(addr, pw)
    second = p.uidl()[1]
    p.dele(1)
    p.quit()
    assert second[:3] == first
    p = plat.login(addr, pw)
    third = [x.split()[1] for x in p.uidl()[1]]
    p.quit()
    assert third == [x.split()[1] for x in second[1:]]


def test_delivery_during_session_waits_for_next_login(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, msg("before"))
    p = plat.login(addr, pw)
    assert p.stat()[0] == 1
    plat.deliver(addr, msg("during"))
    assert p.stat()[0] == 1
    assert len(p.list()[1]) == 1
    p.quit()
    p = plat.login(addr, pw)
    assert p.stat()[0] == 2
    p.quit()


def test_concurrent_delivery_while_retrieving(plat):
    addr, pw = plat.mailbox()
    for i in range(20):
        plat.deliver(addr, msg("c%d" % i, (b"x" * 100 + b"\r\n") * 50))
    stop = threading.Event()
    delivered = []

    def deliverer():
        while not stop.is_set():
            plat.deliver(addr, msg("live%d" % len(delivered)))
            delivered.append(1)

    t = threading.Thread(target=deliverer)
    t.start()
    try:
        p = plat.login(addr, pw)
        n = p.stat()[0]
        for i in range(1, n + 1):
            p.retr(i)
            p.dele(i)
        p.quit()
    finally:
        stop.set()
        t.join()
    assert n >= 20
    p = plat.login(addr, pw)
    assert p.stat()[0] == len(delivered) - (n - 20)
    p.quit()


def test_second_session_is_in_use(plat):
    addr, pw = plat.mailbox()
    p = plat.login(addr, pw)
    q = plat.pop3()
    q.user(addr)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        q.pass_(pw)
    q.quit()
    p.quit()
    q = plat.login(addr, pw)
    q.quit()


def test_message_numbers_and_arguments(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, msg("n"))
    r = plat.raw()
    r.login(addr, pw)
    assert r.cmd("LIST 2").startswith(b"-ERR There is no message 2")
    assert r.cmd("LIST 0").startswith(b"-ERR Invalid message number")
    assert r.cmd("LIST 4294967296").startswith(b"-ERR Invalid")
    assert r.cmd("LIST 1 2").startswith(b"-ERR Too many")
    assert r.cmd("RETR").startswith(b"-ERR Missing")
    assert r.cmd("UIDL 1").startswith(b"+OK 1 ")
    assert r.cmd("NOOP") == b"+OK"
    assert r.cmd("USER x") == b"-ERR Already logged in."
    r.send(b"CAPA\r\n")
    assert r.line().startswith(b"+OK")
    caps = r.multi()
    assert b"STLS" not in caps and b"USER" not in caps and b"TOP" in caps
    r.cmd("QUIT")
    r.close()


def test_pipelining_answers_in_order(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, msg("p1"))
    plat.deliver(addr, msg("p2"))
    r = plat.raw()
    r.send(("USER %s\r\nPASS %s\r\nSTAT\r\nRETR 1\r\nLIST\r\nDELE 2\r\n"
            "QUIT\r\n" % (addr, pw)).encode())
    assert r.line() == b"+OK"
    assert r.line() == b"+OK Logged in."
    assert r.line().startswith(b"+OK 2 ")
    assert r.line().startswith(b"+OK ")
    assert b"Subject: p" in r.raw_multi()
    assert r.line().startswith(b"+OK 2 messages")
    assert len(r.multi()) == 2
    assert r.line() == b"+OK Marked to be deleted."
    assert r.line().startswith(b"+OK Logging out, 1 messages deleted")
    r.close()


def test_long_lines_and_bad_commands(plat):
    r = plat.raw()
    r.send(b"NOOP " + b"x" * 9000 + b"\r\n")
    assert r.line() == b"-ERR Line too long."
    # The connection goes on after an over-long line.
    assert r.cmd("CAPA").startswith(b"+OK")
    r.multi()
    r.close()
    r = plat.raw()
    for i in range(9):
        assert r.cmd("BOGUS").startswith(b"-ERR")
    r.send(b"BOGUS\r\n")
    assert r.line().startswith(b"-ERR")
    assert r.line() == b"-ERR Too many bad commands."
    with pytest.raises(EOFError):
        r.line()
    r.close()


def test_twenty_megabyte_message(plat):
    addr, pw = plat.mailbox()
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    body = line * (20 * 1024 * 1024 // len(line))
    plat.deliver(addr, msg("big", body))
    for client in (plat.login, None):
        if client is None:
            p = plat.pop3s()
            p.user(addr)
            p.pass_(pw)
        else:
            p = client(addr, pw)
        size = p.stat()[1]
        assert size > 20 * 1024 * 1024
        resp, lines, octets = p.retr(1)
        assert resp == b"+OK %d octets" % size
        got = b"\r\n".join(lines) + b"\r\n"
        assert got.endswith(body)
        assert hashlib.sha256(got[-len(body):]).digest() == \
            hashlib.sha256(body).digest()
        p.quit()


def test_quota_usage_drops_after_dele(plat):
    addr, pw = plat.mailbox(quota="1M")
    plat.deliver(addr, msg("q", b"y" * 10000 + b"\r\n"))
    p = plat.login(addr, pw)
    p.dele(1)
    p.quit()
    path = os.path.join(plat.home(addr), "maildirsize")
    if os.path.exists(path):
        with open(path) as f:
            lines = f.read().splitlines()[1:]
        total = sum(int(x.split()[0]) for x in lines)
        count = sum(int(x.split()[1]) for x in lines)
        assert (total, count) == (0, 0)


def test_idle_timeout_before_login_is_configurable(plat):
    """login.timeout (1 minute by default) is tested through the
    configuration check only: a real wait would make the suite slow."""
    r = avstack.run_admin(plat.stack.config, "db", "status")
    assert r.returncode == 0


# --- real clients ----------------------------------------------------------

def test_curl_pop3_and_pop3s(plat):
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is not installed (tools/deps.sh installs it)")
    addr, pw = plat.mailbox(spaces=False)
    plat.deliver(addr, msg("curl one", b"curl body\r\n"))
    netrc = os.path.join(plat.stack.base, "curl.netrc")
    with open(netrc, "w") as f:
        f.write("machine 127.0.0.1 login %s password %s\n" % (
            addr, pw))
    os.chmod(netrc, 0o600)
    # Passwords stay out of argv: curl reads them from the netrc file.
    out = subprocess.run([curl, "-sS", "--netrc-file", netrc,
                          "pop3://127.0.0.1:%d/" % plat.pop3_port],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert re.match(rb"1 \d+\r?\n", out.stdout)
    out = subprocess.run([curl, "-sS", "-k", "--netrc-file", netrc,
                          "pop3s://127.0.0.1:%d/1" % plat.pop3s_port],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert b"curl body" in out.stdout and b"Subject: curl one" in out.stdout
    out = subprocess.run([curl, "-sS", "--ssl-reqd", "-k", "--netrc-file",
                          netrc, "pop3://127.0.0.1:%d/1" % plat.pop3_port],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert b"curl body" in out.stdout


def test_fetchmail_downloads_and_deletes(plat, tmp_path):
    fetchmail = shutil.which("fetchmail")
    if fetchmail is None:
        pytest.fail("fetchmail is not installed (tools/deps.sh installs it)")
    addr, pw = plat.mailbox(spaces=False)
    for i in range(5):
        plat.deliver(addr, msg("fm%d" % i, b"fetchmail body %d\r\n" % i))
    home = tmp_path / "fmhome"
    home.mkdir()
    rc = home / ".fetchmailrc"
    out = home / "out.bsmtp"
    rc.write_text(
        'poll 127.0.0.1 service %d protocol pop3 auth password\n'
        '  user "%s" there with password "%s" is "root" here\n'
        '  sslproto "" fetchall nokeep\n' % (plat.pop3_port, addr, pw))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(home))
    r = subprocess.run([fetchmail, "-f", str(rc), "--nodetach", "--nosyslog",
                        "-v", "--bsmtp", str(out), "--idfile",
                        str(home / "ids")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    data = out.read_text()
    for i in range(5):
        assert "fetchmail body %d" % i in data
    assert plat.files(addr) == {}
    # And over POP3S with the certificate checked against our own.
    for i in range(2):
        plat.deliver(addr, msg("fs%d" % i, b"secure body %d\r\n" % i))
    rc.write_text(
        'poll localhost service %d protocol pop3 auth password\n'
        '  user "%s" there with password "%s" is "root" here\n'
        '  ssl sslcertck sslcertfile "%s" fetchall nokeep\n' % (
            plat.pop3s_port, addr, pw, plat.stack.tls_cert))
    os.chmod(rc, 0o600)
    out.unlink()
    r = subprocess.run([fetchmail, "-f", str(rc), "--nodetach", "--nosyslog",
                        "-v", "--bsmtp", str(out), "--idfile",
                        str(home / "ids")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "secure body 1" in out.read_text()
    assert plat.files(addr) == {}


# --- failures --------------------------------------------------------------

def test_auth_service_down_is_temporary(plat, tmp_path):
    """An aviary-pop3 whose aviary-auth socket answers nothing says
    -ERR [SYS/TEMP], never a wrong password."""
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    pnum = port.getsockname()[1]
    port.close()
    with open(plat.stack.config) as f:
        text = f.read()
    text = text.replace("path: %s/auth-client\n" % plat.stack.db.rundir,
                        "path: %s/nothing-here\n" % tmp_path)
    text = re.sub(r"(pop3:\n(?:  .*\n)*?)  listen: \[.*\]\n",
                  r'\1  listen: ["127.0.0.1:%d"]\n' % pnum, text, count=1)
    text = re.sub(r"  listen_tls: \[.*\]\n", "  listen_tls: []\n", text,
                  count=1)
    cfg = tmp_path / "down.yaml"
    cfg.write_text(text)
    log = tmp_path / "pop3.log"
    with open(log, "wb") as lf:
        proc = subprocess.Popen([os.path.join(plat.stack.build, "aviary-pop3"),
                                 "-c", str(cfg)], stdout=lf, stderr=lf,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                p = poplib.POP3("127.0.0.1", pnum, timeout=30)
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline
                time.sleep(0.05)
        p.user("demo@example.test")
        with pytest.raises(poplib.error_proto, match=r"\[SYS/TEMP\]"):
            p.pass_("x")
        p.quit()
    finally:
        proc.terminate()
        proc.wait(20)
    assert not any(m in log.read_text() for m in
                   ("AddressSanitizer", "runtime error:"))
