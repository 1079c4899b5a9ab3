"""aviary-auth spoken to directly: the Dovecot auth protocol on the client
socket (what Postfix's smtpd_sasl_type = dovecot and Aviary's logins
use) and the userdb socket, with Python sockets, against a private
MariaDB stack (protocols.md section 1 has the wire facts).

The module's main aviary-auth runs with failure_delay 0s and the
loopback trusted (no brute-force penalty from 127.0.0.1). Tests that
need other settings, or that may kill the process, start their own
aviary-auth on the same database with their own sockets.
"""
import base64
import os
import re
import signal
import socket
import time

import pytest

from avstack import BUILD
from postfix import AviaryAuth, auth_config, private_stack, remove_stack

DOM = "example.test"
OFF = "off.test"            # a disabled domain
ALIAS = "alias.test"        # alias domain of DOM
MAIN_EXTRA = ('  failure_delay: 0s\n'
              '  trusted_networks: ["127.0.0.0/8"]\n')
# The brute-force penalty: nothing trusted, no failure delay, the
# default penalty_max (5s).
PEN_EXTRA = ('  failure_delay: 0s\n'
             '  trusted_networks: []\n')

PW = {
    "alice@" + DOM: "Alice-pass-1",
    "bob@" + DOM: "bob pass with spaces",
    "carol@" + DOM: "Carol-old-pass",
    "dave@" + DOM: "Dave-disabled-9",
    "erin@" + OFF: "Erin-off-domain",
    "frank@" + DOM: "Frank-to-disable",
    "grace@" + DOM: "Grace-stale-cache",
    "down1@" + DOM: "Down1-never-cached",
    "down2@" + DOM: "Down2-never-cached",
    "pen1@" + DOM: "Pen1-right",
    "pen2@" + DOM: "Pen2-right",
}
CAROL_NEW = "Carol-new-pass"
WRONG = "Wrong-password-x"
ALICE = "alice@" + DOM
BOB = "bob@" + DOM

def _sanitized():
    try:
        with open(os.path.join(BUILD, "aviary-auth"), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = _sanitized()    # make SAN=1 (LeakSanitizer runs at exit)
# Every password this module sends, for the log check at the end.
SECRETS = set(PW.values()) | {CAROL_NEW, WRONG} | \
    {"pen-wrong-%d" % i for i in range(20)} | {"pen2-same-wrong"} | \
    {"bob-wrong-%d" % i for i in range(60, 70)} | \
    {"np-wrong-%d" % i for i in range(1, 6)}


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain(user, password, authzid=""):
    return b64(b"%s\0%s\0%s" % (authzid.encode(), user.encode(),
                                 password.encode()))


def fields(line):
    """'FAIL\\t5\\tcode=x\\treason=y' -> {'': ['FAIL', '5'], 'code': 'x',
    ...}: positional fields under '', name=value pairs by name."""
    out = {"": []}
    for f in line.split("\t"):
        if "=" in f:
            k, _, v = f.partition("=")
            out[k] = v
        elif len(out) == 1:
            out[""].append(f)
        else:
            out[f] = True
    return out


class Conn:
    """One client connection to a Dovecot-protocol socket."""

    def __init__(self, path, timeout=15):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.pending = []      # lines read while looking for another id

    def close(self):
        self.s.close()

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, *lines):
        self.s.sendall("".join(l + "\n" for l in lines).encode())

    def readline(self, timeout=None):
        """The next line without its LF; None at EOF (or reset)."""
        if timeout is not None:
            self.s.settimeout(timeout)
        while b"\n" not in self.buf:
            try:
                chunk = self.s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def reply(self, rid, timeout=15):
        """The next reply line for request id rid (other replies are
        kept for later calls)."""
        for i, line in enumerate(self.pending):
            if line.split("\t")[1:2] == [str(rid)]:
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no reply for id %s" % rid
            line = self.readline(timeout=left)
            assert line is not None, "connection closed waiting for id %s" % rid
            if line.split("\t")[1:2] == [str(rid)]:
                return line
            self.pending.append(line)

    def drain(self, quiet=0.5):
        """Read until nothing arrives for 'quiet' s; keep the lines."""
        while True:
            try:
                line = self.readline(timeout=quiet)
            except socket.timeout:
                return
            if line is None:
                return
            self.pending.append(line)

    def eof(self, timeout=5):
        """True when the server closed the connection (whatever it sent
        before is returned in self.tail)."""
        self.s.settimeout(timeout)
        self.tail = []
        while True:
            try:
                line = self.readline()
            except socket.timeout:
                return False
            if line is None:
                return True
            self.tail.append(line)

    def auth(self, rid, mech, resp=None, rip="127.0.0.1", service="smtp",
             extra=()):
        f = ["AUTH", str(rid), mech, "service=" + service, "nologin",
             "lip=127.0.0.1", "rip=" + rip, *extra]
        if resp is not None:
            f.append("resp=" + resp)
        self.send("\t".join(f))

    def plain(self, rid, user, password, **kw):
        self.auth(rid, "PLAIN", resp=plain(user, password), **kw)
        return self.reply(rid)

    def cont(self, rid, data):
        self.send("CONT\t%s\t%s" % (rid, data))
        return self.reply(rid)


class Client(Conn):
    """The client socket: handshake done on creation."""

    def __init__(self, path, minor=2, timeout=15):
        super().__init__(path, timeout)
        self.send("VERSION\t1\t%d" % minor, "CPID\t%d" % os.getpid())
        self.handshake = []
        while True:
            line = self.readline()
            assert line is not None, "closed during the handshake"
            self.handshake.append(line)
            if line == "DONE":
                break


def is_ok(line, rid, user):
    return line == "OK\t%s\tuser=%s" % (rid, user)


def is_fail(line, rid, code=None):
    f = fields(line)
    return f[""] == ["FAIL", str(rid)] and f.get("code") == code and \
        "reason" in f and "user" not in f


class Env:
    pass


@pytest.fixture(scope="module")
def env(build):
    e = Env()
    e.build = build
    e.stack = private_stack(build, "av-authp-")
    e.auth = None
    e.extra = []           # other aviary-auth instances still running
    try:
        st = e.stack
        for d in (DOM, OFF):
            st.run_admin("domain", "add", d)
        for addr, pw in PW.items():
            args = ["mailbox", "add", addr, "--password-stdin"]
            if addr == BOB:
                args += ["--quota", "500M", "--quota-messages", "1000"]
            st.run_admin(*args, input=pw + "\n")
        st.run_admin("mailbox", "disable", "dave@" + DOM)
        st.run_admin("domain", "disable", OFF)
        st.run_admin("alias-domain", "add", ALIAS, DOM)
        e.config, e.client, e.userdb = auth_config(st, "auth", MAIN_EXTRA)
        e.auth = AviaryAuth(build, e.config, e.client, e.userdb,
                            os.path.join(st.base, "aviary-auth.log"))
        e.auth.start()
        yield e
    finally:
        reports = []
        try:
            for a in [e.auth] + e.extra:
                if a is not None:
                    a.stop()
                    if not getattr(a, "expect_report", False):
                        reports.append(a.sanitizer_report())
        finally:
            remove_stack(e.stack)
        if any(reports):
            pytest.fail("sanitizer report from aviary-auth:\n" +
                        "\n".join(r for r in reports if r))


@pytest.fixture(autouse=True)
def auth_healthy(env):
    """After each test: the main aviary-auth still runs, and neither it
    nor an aviary-auth the test started reported a sanitizer error."""
    first = len(env.extra)
    yield
    for a in [env.auth] + env.extra[first:]:
        if getattr(a, "expect_report", False):
            continue
        report = a.sanitizer_report()
        assert not report, "sanitizer report from aviary-auth:\n" + report
    assert env.auth.alive(), \
        "aviary-auth died:\n" + env.auth.log_text()[-4000:]


def spawn(env, name, extra):
    """Another aviary-auth on the module's database (own sockets, own
    log), stopped by the module fixture at the latest."""
    config, client, userdb = auth_config(env.stack, name, extra)
    a = AviaryAuth(env.build, config, client, userdb,
                   os.path.join(env.stack.base, name + ".log"))
    env.extra.append(a)
    return a.start()


@pytest.fixture
def c(env):
    conn = Client(env.client)
    yield conn
    conn.close()


def works(env, conn=None, rid=None):
    """A fresh request (a new id) on conn (default: a new connection)
    succeeds: the connection and the server are still usable."""
    own = conn is None
    conn = conn or Client(env.client)
    rid = rid or 4000 + int(time.monotonic() * 1000) % 100000
    try:
        line = conn.plain(rid, ALICE, PW[ALICE])
        assert is_ok(line, rid, ALICE), line
    finally:
        if own:
            conn.close()


# -- handshake -------------------------------------------------------------

def test_handshake(env):
    conn = Conn(env.client)
    try:
        # The server speaks first, without waiting for the client.
        lines = [conn.readline() for _ in range(7)]
        assert lines[:3] == ["VERSION\t1\t2", "MECH\tPLAIN\tplaintext",
                             "MECH\tLOGIN\tplaintext"]
        assert lines[3] == "SPID\t%d" % env.auth.pid
        assert re.fullmatch(r"CUID\t[1-9][0-9]*", lines[4]), lines[4]
        assert re.fullmatch(r"COOKIE\t[0-9a-f]{32}", lines[5]), lines[5]
        assert lines[6] == "DONE"
        conn.send("VERSION\t1\t2", "CPID\t%d" % os.getpid())
        works(env, conn)
    finally:
        conn.close()


def test_handshake_is_per_connection(env):
    a, b = Client(env.client), Client(env.client)
    try:
        cuid = [x[4] for x in (a.handshake, b.handshake)]
        cookie = [x[5] for x in (a.handshake, b.handshake)]
        assert cuid[0] != cuid[1] and cookie[0] != cookie[1]
        # Every MECH line comes before SPID (Postfix relies on it).
        for h in (a.handshake, b.handshake):
            kinds = [l.split("\t")[0] for l in h]
            assert kinds == ["VERSION", "MECH", "MECH", "SPID", "CUID",
                             "COOKIE", "DONE"]
    finally:
        a.close()
        b.close()


def test_postfix_handshake_minor_0(env):
    c0 = Client(env.client, minor=0)
    try:
        assert c0.handshake[0] == "VERSION\t1\t2"
        works(env, c0)
    finally:
        c0.close()


def test_request_before_handshake_is_dropped(env):
    conn = Conn(env.client)
    try:
        conn.send("AUTH\t1\tPLAIN\tservice=smtp\trip=127.0.0.1\tresp=" +
                  plain(ALICE, PW[ALICE]))
        assert conn.eof()
        assert not any(l.startswith("OK") for l in conn.tail), conn.tail
    finally:
        conn.close()
    works(env)


# -- successful exchanges ---------------------------------------------------

def test_plain_initial_response(c):
    line = c.plain(1, ALICE, PW[ALICE])
    assert line == "OK\t1\tuser=" + ALICE


def test_plain_normalises_the_login_name(c):
    assert c.plain(2, "Alice@EXAMPLE.Test", PW[ALICE]) == \
        "OK\t2\tuser=" + ALICE


def test_plain_authzid_equal_to_authcid(c):
    c.auth(3, "PLAIN", resp=plain(ALICE, PW[ALICE], authzid=ALICE))
    assert c.reply(3) == "OK\t3\tuser=" + ALICE


def test_plain_password_with_spaces(c):
    assert c.plain(4, BOB, PW[BOB]) == "OK\t4\tuser=" + BOB


def test_plain_at_alias_domain_is_the_real_mailbox(c):
    assert c.plain(5, "alice@" + ALIAS, PW[ALICE]) == "OK\t5\tuser=" + ALICE


def test_plain_without_initial_response(c):
    c.auth(6, "PLAIN")
    # The payload field is present even though it is empty.
    assert c.reply(6) == "CONT\t6\t"
    assert c.cont(6, plain(ALICE, PW[ALICE])) == "OK\t6\tuser=" + ALICE


def test_plain_empty_resp_minor_0_means_no_response(env):
    """Postfix (minor 0) sends 'resp=' for no initial response."""
    c0 = Client(env.client, minor=0)
    try:
        c0.auth(7, "PLAIN", resp="")
        assert c0.reply(7) == "CONT\t7\t"
        assert c0.cont(7, plain(ALICE, PW[ALICE])) == "OK\t7\tuser=" + ALICE
    finally:
        c0.close()


def test_login_with_challenges(c):
    c.auth(8, "LOGIN")
    assert c.reply(8) == "CONT\t8\tVXNlcm5hbWU6"          # "Username:"
    assert c.cont(8, b64(ALICE)) == "CONT\t8\tUGFzc3dvcmQ6"  # "Password:"
    assert c.cont(8, b64(PW[ALICE])) == "OK\t8\tuser=" + ALICE


def test_login_with_initial_response(c):
    c.auth(9, "LOGIN", resp=b64(BOB))
    assert c.reply(9) == "CONT\t9\tUGFzc3dvcmQ6"
    assert c.cont(9, b64(PW[BOB])) == "OK\t9\tuser=" + BOB


def test_mechanism_name_case_insensitive(c):
    c.auth(10, "plain", resp=plain(ALICE, PW[ALICE]))
    assert c.reply(10) == "OK\t10\tuser=" + ALICE


# -- refusals: a FAIL, and the connection stays usable -----------------------

def _plain_req(user, password, authzid=""):
    return ("PLAIN", plain(user, password, authzid))


REFUSALS = {
    "wrong_password": (_plain_req(ALICE, WRONG), None),
    "unknown_user": (_plain_req("nosuchuser@" + DOM, WRONG), None),
    "unknown_domain": (_plain_req("alice@nosuchdomain.test", PW[ALICE]), None),
    "no_domain": (_plain_req("alice", PW[ALICE]), None),
    "inactive_mailbox": (_plain_req("dave@" + DOM, PW["dave@" + DOM]),
                         "user_disabled"),
    # A wrong password does not tell that the mailbox is disabled.
    "inactive_mailbox_wrong_password": (_plain_req("dave@" + DOM, WRONG), None),
    "inactive_domain": (_plain_req("erin@" + OFF, PW["erin@" + OFF]),
                        "user_disabled"),
    "empty_password": (_plain_req(ALICE, ""), None),
    "authzid_differs": (_plain_req(ALICE, PW[ALICE], authzid=BOB),
                        "authz_fail"),
    "malformed_base64": (("PLAIN", "!!not*base64!!"), "invalid_base64"),
    "plain_one_nul": (("PLAIN", b64(ALICE + "\0" + PW[ALICE])), None),
    "plain_three_nuls": (("PLAIN", b64("\0%s\0%s\0x" % (ALICE, PW[ALICE]))),
                         None),
    "empty_user": (_plain_req("", PW[ALICE]), None),
    "password_too_long": (_plain_req(ALICE, "p" * 600), None),
    "user_too_long": (_plain_req("a" * 300 + "@" + DOM, WRONG), None),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_and_connection_usable(env, c, case):
    (mech, resp), code = REFUSALS[case]
    c.auth(11, mech, resp=resp)
    line = c.reply(11)
    assert is_fail(line, 11, code), line
    if code is None:
        # No hint whether the user or the password was wrong.
        assert fields(line)["reason"] == "Authentication failed", line
    works(env, c, rid=12)


def test_unknown_mechanism(env, c):
    c.auth(13, "CRAM-MD5")
    line = c.reply(13)
    assert is_fail(line, 13), line
    c.auth(14, "X-NO-SUCH-MECH", resp="AAAA")
    assert is_fail(c.reply(14), 14)
    works(env, c, rid=15)


def test_malformed_base64_in_cont(env, c):
    c.auth(16, "LOGIN")
    assert c.reply(16) == "CONT\t16\tVXNlcm5hbWU6"
    line = c.cont(16, "%%%")
    assert is_fail(line, 16, "invalid_base64"), line
    works(env, c, rid=17)


def test_empty_cont_for_plain(env, c):
    c.auth(18, "PLAIN")
    assert c.reply(18) == "CONT\t18\t"
    assert is_fail(c.cont(18, ""), 18)
    works(env, c, rid=19)


def test_nul_in_login_user_name(env, c):
    c.auth(20, "LOGIN", resp=b64("alice\0@" + DOM))
    assert is_fail(c.reply(20), 20)
    works(env, c, rid=21)


def test_same_reason_for_unknown_user_and_wrong_password(c):
    a = c.plain(22, ALICE, WRONG)
    b = c.plain(23, "nosuchuser2@" + DOM, WRONG)
    assert a.split("\t")[2:] == b.split("\t")[2:], (a, b)


# -- connection-level behaviour ----------------------------------------------

LINE_HEAD = "AUTH\t%d\tPLAIN\tservice=smtp\tlip=127.0.0.1\trip=127.0.0.1\tx="


def padded_auth_line(rid, total):
    """An AUTH line (without LF) of exactly 'total' bytes: a valid PLAIN
    request for alice with an unknown parameter as padding."""
    head = LINE_HEAD % rid
    tail = "\tresp=" + plain(ALICE, PW[ALICE])
    return head + "a" * (total - len(head) - len(tail)) + tail


def test_line_of_16384_bytes_is_accepted(c):
    line = padded_auth_line(24, 16384)
    assert len(line) == 16384
    c.send(line)
    assert c.reply(24) == "OK\t24\tuser=" + ALICE


def test_line_of_16385_bytes_closes(env, c):
    c.send(padded_auth_line(25, 16385))
    assert c.eof()
    assert not any(l.startswith("OK") for l in c.tail), c.tail
    works(env)


def test_overlong_line_closes_and_server_keeps_accepting(env, c):
    try:
        c.send_raw(b"AUTH\t26\tPLAIN\tservice=smtp\trip=127.0.0.1\tresp=" +
                   b"A" * 40000 + b"\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert c.eof()
    works(env)
    works(env)


def test_fifty_pipelined_requests_on_one_connection(env, c):
    """50 AUTH requests in one write, with different outcomes: each id
    gets exactly its own answer."""
    expect, lines = {}, []
    for rid in range(100, 150):
        kind = rid % 4
        if kind == 0:
            user, pw, ok = ALICE, PW[ALICE], True
        elif kind == 1:
            user, pw, ok = BOB, PW[BOB], True
        elif kind == 2:
            user, pw, ok = ALICE, WRONG, False
        else:
            user, pw, ok = "nosuch%d@%s" % (rid, DOM), WRONG, False
        expect[rid] = ("OK\t%d\tuser=%s" % (rid, user)) if ok else None
        lines.append("AUTH\t%d\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1"
                     "\trip=127.0.0.1\tresp=%s" % (rid, plain(user, pw)))
    c.send(*lines)
    got = {}
    deadline = time.monotonic() + 30
    while len(got) < 50:
        line = c.readline(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, "closed after %d replies" % len(got)
        rid = int(line.split("\t")[1])
        assert rid in expect and rid not in got, line
        got[rid] = line
    for rid, want in expect.items():
        if want is None:
            assert is_fail(got[rid], rid), got[rid]
        else:
            assert got[rid] == want, (got[rid], want)
    works(env, c, rid=151)


def test_too_many_unfinished_requests(env, c):
    """At most 256 unfinished requests per connection: more get a
    temporary FAIL; the connection stays usable once they are gone."""
    c.send(*["AUTH\t%d\tLOGIN\tservice=smtp\tlip=127.0.0.1\t"
             "rip=127.0.0.1" % rid for rid in range(1000, 1260)])
    conts, fails = set(), set()
    while len(conts) + len(fails) < 260:
        line = c.readline()
        assert line is not None
        f = fields(line)
        rid = int(f[""][1])
        if f[""][0] == "CONT":
            conts.add(rid)
        else:
            assert f.get("code") == "temp_fail", line
            fails.add(rid)
    assert len(conts) == 256 and fails == set(range(1256, 1260)), \
        (len(conts), sorted(fails))
    c.send(*["CANCEL\t%d" % rid for rid in sorted(conts)])
    works(env, c, rid=1300)


def test_cont_for_unknown_id(env, c):
    c.send("CONT\t999\t" + b64("x"))
    assert c.reply(999) == \
        "FAIL\t999\treason=Authentication request timed out"
    works(env, c, rid=27)


def test_cont_while_verifying_gets_one_final_reply(env, c):
    """AUTH with the complete initial response, then at once a CONT for
    the same id (a confused client): whatever the answer, one id gets
    exactly one final reply."""
    c.send("AUTH\t34\tPLAIN\tservice=smtp\tlip=127.0.0.1\trip=127.0.0.1"
           "\tresp=" + plain(ALICE, PW[ALICE]), "CONT\t34\t" + b64("x"))
    first = c.reply(34)
    assert first.split("\t")[0] in ("OK", "FAIL"), first
    works(env, c, rid=35)
    c.drain(0.5)
    extra = [l for l in c.pending if l.split("\t")[1:2] == ["34"]]
    assert extra == [], (first, extra)


def test_cancel_then_cont(env, c):
    c.auth(28, "LOGIN")
    assert c.reply(28).startswith("CONT\t28\t")
    c.send("CANCEL\t28")
    assert c.cont(28, b64(ALICE)) == \
        "FAIL\t28\treason=Authentication request timed out"
    works(env, c, rid=29)


@pytest.mark.parametrize("minor", [0, 2])
def test_abandoned_login_does_not_block_next(env, minor):
    """Postfix after an SMTP '*': the request is simply abandoned, and
    the next AUTH comes with a new id on the same connection."""
    conn = Client(env.client, minor=minor)
    try:
        conn.auth(30, "LOGIN")
        assert conn.reply(30) == "CONT\t30\tVXNlcm5hbWU6"
        assert conn.cont(30, b64(ALICE)) == "CONT\t30\tUGFzc3dvcmQ6"
        # 30 is abandoned mid-exchange.
        conn.auth(31, "LOGIN")
        assert conn.reply(31) == "CONT\t31\tVXNlcm5hbWU6"
        assert conn.cont(31, b64(BOB)) == "CONT\t31\tUGFzc3dvcmQ6"
        assert conn.cont(31, b64(PW[BOB])) == "OK\t31\tuser=" + BOB
        works(env, conn, rid=32)
    finally:
        conn.close()


def test_duplicate_id_in_flight_drops_connection(env, c):
    """As in Dovecot, reusing the id of an unfinished request is a client
    bug that ends the connection."""
    c.auth(33, "LOGIN")
    assert c.reply(33).startswith("CONT\t33\t")
    c.auth(33, "LOGIN")
    assert c.eof()
    works(env)


def test_client_gone_before_its_failure_is_answered(env):
    """A client that sends requests and goes away (here: shuts down its
    reading side first, so that the server's reply write fails at once)
    must not take the server down. Run on a separate aviary-auth with
    the module's settings."""
    a = spawn(env, "gone", MAIN_EXTRA)
    try:
        for i in range(5):
            conn = Client(a.client_socket)
            conn.s.shutdown(socket.SHUT_RD)
            conn.send(*["AUTH\t%d\tPLAIN\tservice=smtp\trip=127.0.0.1"
                        "\tresp=%%%%%%" % rid for rid in (1, 2, 3)])
            conn.close()
            time.sleep(0.2)
            assert a.alive(), "aviary-auth died:\n" + a.log_text()[-3000:]
        conn = Client(a.client_socket)
        try:
            assert conn.plain(5, ALICE, PW[ALICE]) == "OK\t5\tuser=" + ALICE
        finally:
            conn.close()
    finally:
        a.stop()


# -- cache ------------------------------------------------------------------

def test_password_change_takes_effect_immediately(env, c):
    carol = "carol@" + DOM
    assert c.plain(40, carol, PW[carol]) == "OK\t40\tuser=" + carol
    assert c.plain(41, carol, PW[carol]) == "OK\t41\tuser=" + carol  # cached
    env.stack.run_admin("mailbox", "passwd", carol, "--password-stdin",
                        input=CAROL_NEW + "\n")
    assert is_fail(c.plain(42, carol, PW[carol]), 42)
    assert c.plain(43, carol, CAROL_NEW) == "OK\t43\tuser=" + carol
    assert is_fail(c.plain(44, carol, PW[carol]), 44)
    assert c.plain(45, carol, CAROL_NEW) == "OK\t45\tuser=" + carol


def test_disable_takes_effect_immediately(env, c):
    frank = "frank@" + DOM
    assert c.plain(46, frank, PW[frank]) == "OK\t46\tuser=" + frank
    env.stack.run_admin("mailbox", "disable", frank)
    try:
        assert is_fail(c.plain(47, frank, PW[frank]), 47, "user_disabled")
    finally:
        env.stack.run_admin("mailbox", "enable", frank)
    assert c.plain(48, frank, PW[frank]) == "OK\t48\tuser=" + frank


# -- plaintext policy ---------------------------------------------------------

def test_plaintext_refused_off_loopback_without_tls(env, c):
    line = c.plain(50, ALICE, PW[ALICE], rip="192.0.2.10")
    assert is_fail(line, 50), line
    assert "Plaintext authentication disallowed" in line, line
    c.auth(51, "LOGIN", rip="192.0.2.10")
    assert is_fail(c.reply(51), 51)
    works(env, c, rid=52)


@pytest.mark.parametrize("flag", ["secured", "secured=tls"])
def test_plaintext_accepted_when_secured(c, flag):
    line = c.plain(53, ALICE, PW[ALICE], rip="192.0.2.10", extra=(flag,))
    assert line == "OK\t53\tuser=" + ALICE


def test_plaintext_accepted_from_ipv6_loopback(c):
    assert c.plain(54, ALICE, PW[ALICE], rip="::1") == \
        "OK\t54\tuser=" + ALICE


# -- brute-force penalty (own aviary-auth: nothing trusted, no delay) ---------

def penalty_list(a):
    conn = Conn(a.userdb_socket)
    try:
        assert conn.readline() == "VERSION\t1\t1"
        conn.readline()
        conn.send("VERSION\t1\t1", "PENALTY-LIST\t1")
        out = {}
        while True:
            line = conn.readline()
            assert line is not None
            f = line.split("\t")
            if f[0] == "DONE":
                return out
            assert f[0] == "PENALTY", line
            out[f[2]] = (int(f[3]), int(f[5]))   # failures, delay ms
    finally:
        conn.close()


def timed_plain(conn, rid, user, password, rip):
    t = time.monotonic()
    conn.auth(rid, "PLAIN", resp=plain(user, password), rip=rip,
              extra=("secured",))
    line = conn.reply(rid, timeout=30)
    return line, time.monotonic() - t


@pytest.fixture(scope="module")
def pen(env):
    return spawn(env, "pen", PEN_EXTRA)


def test_penalty_same_wrong_password_does_not_escalate(env, pen):
    conn = Client(pen.client_socket)
    user = "pen2@" + DOM
    try:
        times = []
        for rid in range(1, 7):
            line, dt = timed_plain(conn, rid, user, "pen2-same-wrong",
                                   "192.0.2.21")
            assert is_fail(line, rid), line
            times.append(dt)
        # One failure counted: 250 ms before each later attempt, no more.
        assert times[0] < 0.2, times
        assert all(0.2 <= t < 0.7 for t in times[1:]), times
        assert penalty_list(pen)["ip:192.0.2.21"] == (1, 250)
    finally:
        conn.close()


def test_penalty_escalates_and_is_capped(env, pen):
    conn = Client(pen.client_socket)
    user = "pen1@" + DOM
    rip = "192.0.2.20"
    try:
        times = []
        for i in range(5):
            line, dt = timed_plain(conn, i + 1, user, "pen-wrong-%d" % i, rip)
            assert is_fail(line, i + 1), line
            times.append(dt)
        # 0, 250, 500, 1000, 2000 ms before each attempt.
        assert times[0] < 0.2, times
        for got, want in zip(times[1:], (0.25, 0.5, 1.0, 2.0)):
            assert want - 0.05 <= got < want + 0.6, times
        assert times[4] > times[2] > times[1], times
        assert penalty_list(pen)["ip:" + rip] == (5, 4000)
        # Many more failures at once (different passwords; each waits the
        # current 4 s penalty) ...
        t = time.monotonic()
        for i in range(5, 11):
            conn.auth(100 + i, "PLAIN", resp=plain(user, "pen-wrong-%d" % i),
                      rip=rip, extra=("secured",))
        for i in range(5, 11):
            assert is_fail(conn.reply(100 + i, timeout=30), 100 + i)
        assert time.monotonic() - t < 8
        failures, delay = penalty_list(pen)["ip:" + rip]
        assert failures == 11 and delay == 5000, (failures, delay)
        # ... and the delay stays at the cap (5 s), well under Postfix's
        # 10 s, even for the right password.
        line, dt = timed_plain(conn, 200, user, PW[user], rip)
        assert line == "OK\t200\tuser=" + user
        assert 4.5 <= dt < 8, dt
        # A success clears the penalty.
        assert "ip:" + rip not in penalty_list(pen)
        line, dt = timed_plain(conn, 201, user, PW[user], rip)
        assert line == "OK\t201\tuser=" + user and dt < 0.5, dt
    finally:
        conn.close()


def test_no_penalty_flag_exempts(env, pen):
    conn = Client(pen.client_socket)
    try:
        t = time.monotonic()
        for rid in range(1, 6):
            conn.auth(rid, "PLAIN", resp=plain(ALICE, "np-wrong-%d" % rid),
                      rip="192.0.2.22", extra=("secured", "no-penalty"))
            assert is_fail(conn.reply(rid), rid)
        assert time.monotonic() - t < 1.0
        assert "ip:192.0.2.22" not in penalty_list(pen)
    finally:
        conn.close()


def test_trusted_network_not_penalised(env, c):
    """The main instance trusts 127.0.0.0/8: failures never slow it."""
    for rid in range(60, 70):
        assert is_fail(c.plain(rid, BOB, "bob-wrong-%d" % rid), rid)
    t = time.monotonic()
    assert c.plain(70, BOB, PW[BOB]) == "OK\t70\tuser=" + BOB
    assert time.monotonic() - t < 0.5


# -- failure delay and request timeout (own aviary-auth) ---------------------

def test_failure_delay_does_not_block_other_requests(env):
    a = spawn(env, "delay", MAIN_EXTRA.replace("failure_delay: 0s",
                                               "failure_delay: 1s") +
              "  request_timeout: 1s\n")
    conn = Client(a.client_socket)
    try:
        t = time.monotonic()
        conn.auth(1, "PLAIN", resp=plain(ALICE, WRONG))
        conn.auth(2, "PLAIN", resp=plain(BOB, PW[BOB]))
        first = conn.readline()
        assert first == "OK\t2\tuser=" + BOB, first
        assert time.monotonic() - t < 0.8
        assert is_fail(conn.reply(1), 1)
        assert 0.9 <= time.monotonic() - t < 3
        # An exchange left waiting for CONT times out (request_timeout).
        conn.auth(3, "LOGIN")
        assert conn.reply(3).startswith("CONT\t3\t")
        t = time.monotonic()
        assert conn.reply(3, timeout=10) == \
            "FAIL\t3\treason=Authentication request timed out"
        assert 0.9 <= time.monotonic() - t < 5
        assert conn.plain(4, ALICE, PW[ALICE]) == "OK\t4\tuser=" + ALICE
    finally:
        conn.close()
        a.stop()


# -- signals (own aviary-auth each) ------------------------------------------

def test_sigterm_stops_cleanly(env):
    a = spawn(env, "term", MAIN_EXTRA)
    conn = Client(a.client_socket)
    assert conn.plain(1, ALICE, PW[ALICE]) == "OK\t1\tuser=" + ALICE
    conn.close()
    assert a.wait_idle()
    a.proc.send_signal(signal.SIGTERM)
    try:
        a.proc.wait(10)
    finally:
        a.stop()
    assert a.proc.returncode == 0, a.proc.returncode
    assert "auth: stopping (signal 15)" in a.log_text()


def test_sighup_flushes_cache_and_keeps_running(env):
    a = spawn(env, "hup", MAIN_EXTRA)
    try:
        conn = Client(a.client_socket)
        assert conn.plain(1, ALICE, PW[ALICE]) == "OK\t1\tuser=" + ALICE
        conn.close()
        a.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert a.alive(), "aviary-auth died of SIGHUP (%s)" % a.proc.returncode
        assert "cache flushed" in a.log_text()
        conn = Client(a.client_socket)
        assert conn.plain(2, ALICE, PW[ALICE]) == "OK\t2\tuser=" + ALICE
        conn.close()
    finally:
        a.stop()


def test_sigterm_with_connections_open_exits_cleanly(env):
    """Postfix keeps its auth connection open for the life of each smtpd:
    a stop with clients connected is the normal case."""
    a = spawn(env, "open", MAIN_EXTRA)
    a.expect_report = True      # this test checks it itself
    c1 = Client(a.client_socket)
    u1 = Userdb(a.userdb_socket)
    try:
        assert c1.plain(1, ALICE, PW[ALICE]) == "OK\t1\tuser=" + ALICE
        assert u1.user(2, ALICE).startswith("USER\t2\t")
        status = a.stop(idle_wait=0)
    finally:
        c1.close()
        u1.close()
    report = a.sanitizer_report()
    assert not report, report
    assert status == 0, status
    assert "auth: stopping (signal 15)" in a.log_text()


# -- userdb socket -------------------------------------------------------------

class Userdb(Conn):
    def __init__(self, path):
        super().__init__(path)
        self.handshake = [self.readline(), self.readline()]
        self.send("VERSION\t1\t1")

    def user(self, rid, name, service="lmtp"):
        self.send("USER\t%s\t%s\tservice=%s" % (rid, name, service))
        return self.reply(rid)


@pytest.fixture
def u(env):
    conn = Userdb(env.userdb)
    yield conn
    conn.close()


def userdb_fields(line):
    f = line.split("\t")
    return f[:3], dict(x.split("=", 1) for x in f[3:])


def test_userdb_handshake(env, u):
    assert u.handshake == ["VERSION\t1\t1", "SPID\t%d" % env.auth.pid]


def test_userdb_user(env, u):
    head, f = userdb_fields(u.user(1, BOB))
    assert head == ["USER", "1", BOB]
    home = os.path.join(env.stack.mailroot, DOM, "bob")
    # The mail user of the stack's configuration (nobody when root).
    cfg = open(env.stack.config).read()
    uid = re.search(r"\n  uid: (\d+)\n", cfg).group(1)
    gid = re.search(r"\n  gid: (\d+)\n", cfg).group(1)
    assert f == {"home": home, "uid": uid, "gid": gid,
                 "mail": "maildir:" + home,
                 "quota_rule": "*:bytes=%d" % (500 << 20),
                 "quota_rule2": "*:messages=1000", "active": "1"}


def test_userdb_user_without_quota(env, u):
    head, f = userdb_fields(u.user(2, ALICE.upper()))
    assert head == ["USER", "2", ALICE]
    assert f["quota_rule"] == "*:bytes=0" and f["active"] == "1"
    assert f["home"] == os.path.join(env.stack.mailroot, DOM, "alice")


def test_userdb_disabled_mailbox_is_found_inactive(u):
    head, f = userdb_fields(u.user(3, "dave@" + DOM))
    assert head == ["USER", "3", "dave@" + DOM] and f["active"] == "0"


def test_userdb_notfound(u):
    assert u.user(4, "nosuch@" + DOM) == "NOTFOUND\t4"
    assert u.user(5, "alice@nosuchdomain.test") == "NOTFOUND\t5"
    assert u.user(6, "not-an-address") == "NOTFOUND\t6"


def test_userdb_alias_domain_resolves_to_real_mailbox(env, u):
    head, f = userdb_fields(u.user(7, "bob@" + ALIAS))
    assert head == ["USER", "7", BOB]
    assert f["home"] == os.path.join(env.stack.mailroot, DOM, "bob")


def test_userdb_list(u):
    u.send("LIST\t8")
    users = []
    while True:
        line = u.readline()
        assert line is not None
        if line.startswith("DONE\t"):
            assert line == "DONE\t8\t"
            break
        f = line.split("\t")
        assert f[:2] == ["LIST", "8"] and len(f) == 3, line
        users.append(f[2])
    assert sorted(users) == sorted(PW), users
    # The request still works afterwards on the same connection.
    assert u.user(9, ALICE).startswith("USER\t9\t" + ALICE + "\t")


def test_userdb_overlong_line_closes(env, u):
    u.send("USER\t10\t" + "a" * 2000 + "@" + DOM + "\tservice=lmtp")
    assert u.eof()
    conn = Userdb(env.userdb)
    try:
        assert conn.user(11, ALICE).startswith("USER\t11\t")
    finally:
        conn.close()


# -- the database goes away ----------------------------------------------------

def test_database_down_then_back(env):
    """SQL down and nothing cached: a minor >= 1 client gets FAIL
    code=temp_fail, a minor-0 client (Postfix) gets its connection closed
    without a FAIL; a login verified before is served from the cache,
    never a wrong password; userdb lookups FAIL. Then MariaDB comes back
    and the same logins work, from the same aviary-auth process."""
    grace, d1, d2 = "grace@" + DOM, "down1@" + DOM, "down2@" + DOM
    pid = env.auth.pid
    c2 = Client(env.client, minor=2)
    assert c2.plain(1, grace, PW[grace]) == "OK\t1\tuser=" + grace
    env.stack.db.stop()
    try:
        line = c2.plain(2, d1, PW[d1])
        f = fields(line)
        assert f[""] == ["FAIL", "2"] and f.get("code") == "temp_fail", line
        # the connection goes on
        assert c2.plain(3, grace, PW[grace]) == "OK\t3\tuser=" + grace
        line = c2.plain(4, grace, WRONG)
        assert fields(line).get("code") == "temp_fail", line
        # Postfix: closed, no FAIL line (that would become a 535).
        c0 = Client(env.client, minor=0)
        c0.auth(5, "PLAIN", resp=plain(d2, PW[d2]))
        assert c0.eof(timeout=10)
        assert c0.tail == [], c0.tail
        c0.close()
        u = Userdb(env.userdb)
        line = u.user(6, ALICE)
        assert line.startswith("FAIL\t6"), line
        u.send("LIST\t66")
        assert u.readline() == "DONE\t66\tfail"
        u.close()
    finally:
        if not env.stack.db.ping():
            env.stack.db.start()
    line = c2.plain(7, d1, PW[d1])
    assert line == "OK\t7\tuser=" + d1, line
    c2.close()
    c0 = Client(env.client, minor=0)
    try:
        assert c0.plain(8, d2, PW[d2]) == "OK\t8\tuser=" + d2
        assert is_fail(c0.plain(9, d2, WRONG), 9)
    finally:
        c0.close()
    assert env.auth.alive() and env.auth.pid == pid


# -- last: the log --------------------------------------------------------------

def test_zz_log_has_no_secrets(env):
    logs = [env.auth.log_text()] + [a.log_text() for a in env.extra]
    text = "\n".join(logs)
    assert "auth ok: user=<%s>" % ALICE in text   # it does log
    hashes = [r.split("\t")[0] for r in env.stack.db.sql(
        "SELECT password FROM mailboxes", database=env.stack.dbname
    ).splitlines()]
    assert hashes and all(h.startswith("{") or h.startswith("$")
                          for h in hashes), hashes
    needles = set(hashes)
    for pw in SECRETS:
        needles.add(pw)
        needles.add(b64(pw))
        for addr in list(PW) + ["alice@" + ALIAS]:
            needles.add(plain(addr, pw))
    for n in sorted(needles):
        assert n not in text, "secret in aviary-auth's log: %r" % n
    assert "resp=" not in text
    assert "$6$" not in text
