"""core/mail/authclient.c (the asynchronous client of aviary-auth's
client socket that the IMAP/POP3 logins use) against a real aviary-auth
on a private MariaDB stack, through the C driver
<build>/tests/authclient_probe (tests/integration/authclient_probe.c):

    authclient_probe SOCKET MECH USERS [COUNT [TIMEOUT_MS]]  < passwords

It prints "i OK user=..", "i FAIL code=.. reason=..", "i TEMP" per
request, "i CONT <challenge>" for LOGIN, then "connections=<n>".
Fake servers (Python sockets) cover a connection lost mid-request and a
server that never answers.
"""
import os
import socket
import subprocess
import tempfile
import threading

import pytest

from avstack import BUILD
from postfix import (SANITIZER_RE, AviaryAuth, auth_config, private_stack,
                     remove_stack)

PROBE = os.path.join(BUILD, "tests", "authclient_probe")
DOM = "example.test"
ALICE = "alice@" + DOM
BOB = "bob@" + DOM
DAVE = "dave@" + DOM          # disabled mailbox
PW = {ALICE: "Alice-pass-1", BOB: "Bob-pass-2", DAVE: "Dave-pass-3"}
WRONG = "Wrong-password-x"


def probe(sock, mech, users, passwords, count=1, timeout_ms=15000,
          wait=60):
    r = subprocess.run([PROBE, sock, mech, users, str(count),
                        str(timeout_ms)],
                       input="".join(p + "\n" for p in passwords),
                       capture_output=True, text=True, timeout=wait)
    assert not SANITIZER_RE.search(r.stderr), r.stderr
    for secret in list(PW.values()) + [WRONG]:
        assert secret not in r.stderr, "password logged: " + r.stderr
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert lines and lines[-1].startswith("connections="), r.stdout
    results = {}
    conts = []
    for line in lines[:-1]:
        i, _, rest = line.partition(" ")
        if rest.startswith("CONT "):
            conts.append(rest[5:])
        else:
            assert int(i) not in results, r.stdout
            results[int(i)] = rest
    assert sorted(results) == list(range(count)), r.stdout
    return ([results[i] for i in range(count)], conts,
            int(lines[-1].split("=")[1]), r.stderr)


@pytest.fixture(scope="module")
def env(build):
    if not os.access(PROBE, os.X_OK):
        pytest.fail("%s not built (make unit-tests)" % PROBE)
    st = private_stack(build, "av-authcl-")
    auth = None
    try:
        st.run_admin("domain", "add", DOM)
        for addr, pw in PW.items():
            st.run_admin("mailbox", "add", addr, "--password-stdin",
                         input=pw + "\n")
        st.run_admin("mailbox", "disable", DAVE)
        config, client, userdb = auth_config(
            st, "auth", '  failure_delay: 0s\n'
                        '  trusted_networks: ["127.0.0.0/8"]\n')
        auth = AviaryAuth(build, config, client, userdb,
                          os.path.join(st.base, "aviary-auth.log"))
        auth.start()
        yield auth
    finally:
        try:
            if auth is not None:
                auth.stop()
                report = auth.sanitizer_report()
                assert not report, report
                log = auth.log_text()
                for secret in list(PW.values()) + [WRONG]:
                    assert secret not in log
        finally:
            remove_stack(st)


def test_plain_ok(env):
    res, conts, conns, err = probe(env.client_socket, "PLAIN", ALICE,
                                   [PW[ALICE]])
    assert res == ["OK user=" + ALICE], err + env.log_text()[-3000:]
    assert conts == [] and conns == 1


def test_plain_wrong_password(env):
    res, _, _, _ = probe(env.client_socket, "PLAIN", ALICE, [WRONG])
    assert res[0].startswith("FAIL code=none reason="), res


def test_login_exchange(env):
    res, conts, _, _ = probe(env.client_socket, "LOGIN", BOB, [PW[BOB]])
    assert conts == ["Username:", "Password:"]
    assert res == ["OK user=" + BOB]


def test_login_wrong_password(env):
    res, conts, _, _ = probe(env.client_socket, "LOGIN", BOB, [WRONG])
    assert conts == ["Username:", "Password:"]
    assert res[0].startswith("FAIL code=none"), res


def test_disabled_mailbox(env):
    res, _, _, _ = probe(env.client_socket, "PLAIN", DAVE, [PW[DAVE]])
    assert res[0].startswith("FAIL code=user_disabled"), res


def test_unsupported_mech(env):
    res, _, _, _ = probe(env.client_socket, "CRAM-MD5", ALICE, [PW[ALICE]])
    assert res == ["FAIL code=none reason=Unsupported authentication "
                   "mechanism"]


def test_pipelined_on_one_connection(env):
    # 60 requests at once, alternating right and wrong passwords and
    # both mechanisms' users: each answer goes to its own request.
    n = 60
    res, _, conns, _ = probe(env.client_socket, "PLAIN",
                             ",".join([ALICE, BOB, ALICE]),
                             [PW[ALICE], PW[BOB], WRONG], count=n)
    for i, r in enumerate(res):
        if i % 3 == 0:
            assert r == "OK user=" + ALICE, (i, r)
        elif i % 3 == 1:
            assert r == "OK user=" + BOB, (i, r)
        else:
            assert r.startswith("FAIL code=none"), (i, r)
    assert conns == 1


def test_pipelined_login_exchanges(env):
    n = 20
    res, conts, conns, _ = probe(env.client_socket, "LOGIN",
                                 ",".join([ALICE, BOB]),
                                 [PW[ALICE], PW[BOB]], count=n)
    assert res == ["OK user=" + (ALICE if i % 2 == 0 else BOB)
                   for i in range(n)]
    assert len(conts) == 2 * n and conns == 1


def test_no_server_is_temp(env):
    with tempfile.TemporaryDirectory() as d:
        res, _, conns, err = probe(os.path.join(d, "nothing"), "PLAIN",
                                   ALICE, [PW[ALICE]], count=3)
    assert res == ["TEMP"] * 3 and conns == 0
    assert "cannot connect" in err


def test_stopped_auth_is_temp(env, build):
    """A second aviary-auth, stopped: its socket path is gone or
    refuses connections."""
    st_config = env.config
    with open(st_config) as f:
        text = f.read()
    base = os.path.dirname(env.client_socket)
    client = os.path.join(base, "stopped-client")
    userdb = os.path.join(base, "stopped-userdb")
    text = text.replace(env.client_socket, client).replace(
        env.userdb_socket, userdb)
    config = st_config.replace("auth.yaml", "stopped.yaml")
    with open(config, "w") as f:
        f.write(text)
    a = AviaryAuth(build, config, client, userdb,
                   os.path.join(os.path.dirname(config), "stopped.log"))
    a.start()
    try:
        res, _, _, _ = probe(client, "PLAIN", ALICE, [PW[ALICE]])
        assert res == ["OK user=" + ALICE]
    finally:
        a.stop()
    assert not a.sanitizer_report()
    res, _, _, _ = probe(client, "PLAIN", ALICE, [PW[ALICE]])
    assert res == ["TEMP"]


class FakeServer:
    """A client-socket server that sends the handshake, then either
    closes the connection on the first AUTH or never answers."""

    def __init__(self, path, mode):
        self.path, self.mode = path, mode
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(path)
        self.s.listen(5)
        self.received = b""
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        conn, _ = self.s.accept()
        with conn:
            conn.settimeout(10)
            if self.mode != "silent":
                conn.sendall(b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
                             b"SPID\t1\nCUID\t1\nCOOKIE\t" + b"ab" * 16 +
                             b"\nDONE\n")
            try:
                while b"AUTH\t" not in self.received:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    self.received += chunk
                if self.mode == "hang":
                    while True:
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        self.received += chunk
            except OSError:
                return

    def close(self):
        self.s.close()


@pytest.mark.parametrize("mode,timeout_ms", [("close", 15000),
                                              ("hang", 500),
                                              ("silent", 500)])
def test_lost_or_silent_server_is_temp(env, mode, timeout_ms):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "fake")
        srv = FakeServer(path, mode)
        try:
            res, _, _, err = probe(path, "PLAIN", ALICE, [PW[ALICE]],
                                   count=2, timeout_ms=timeout_ms)
        finally:
            srv.close()
            srv.t.join(5)
    assert res == ["TEMP", "TEMP"]
    data = srv.received.decode()
    assert data.startswith("VERSION\t1\t2\nCPID\t"), data
    if mode != "silent":
        # Client data is base64; the password never appears raw.
        assert "\tservice=imap\t" in data and "\tresp=" in data
        assert PW[ALICE] not in data
    else:
        assert "AUTH" not in data      # requests wait for DONE


def _handshake(cookie):
    return (b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t7\nCUID\t1\n"
            b"COOKIE\t" + cookie + b"\nDONE\n")


def _read_auth(conn, buf):
    while b"\n" not in buf or not any(l.startswith(b"AUTH\t")
                                      for l in buf.split(b"\n")[:-1]):
        chunk = conn.recv(4096)
        if not chunk:
            return None, buf
        buf += chunk
    for line in buf.split(b"\n"):
        if line.startswith(b"AUTH\t"):
            return line, buf
    return None, buf


def test_reconnects_after_break_and_unescapes(env):
    """The first connection breaks on AUTH (TEMP); the request begun
    again from the TEMP callback gets a new connection, whose answers
    are tab-escaped (user=, reason=) and carry a FAIL code."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "fake")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(5)
        seen = []

        def serve():
            for n in range(2):
                conn, _ = s.accept()
                with conn:
                    conn.settimeout(10)
                    conn.sendall(_handshake(b"%02d" % n * 16))
                    buf = b""
                    lines = []
                    while len(lines) < (1 if n == 0 else 2):
                        line, buf = _read_auth(conn, buf)
                        if line is None:
                            break
                        buf = buf.replace(line + b"\n", b"", 1)
                        lines.append(line)
                        seen.append(line)
                        if n == 0:
                            break
                    if n == 1:
                        for line in lines:
                            rid = line.split(b"\t")[1]
                            if b"resp=" + b"AGFsaWNl" in line:
                                conn.sendall(b"OK\t" + rid +
                                             b"\tuser=we\x01tird\x011@x\n")
                            else:
                                conn.sendall(b"FAIL\t" + rid +
                                             b"\tcode=pass_expired"
                                             b"\treason=a\x01nb\tnodelay\n")
                    conn.recv(4096) if n == 1 else None

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            r = subprocess.run([PROBE, path, "PLAIN", "alice,bob", "2"],
                               input="pw-a\npw-b\n", capture_output=True,
                               text=True, timeout=30,
                               env=dict(os.environ,
                                        AUTHCLIENT_PROBE_RETRY="1"))
        finally:
            s.close()
            t.join(5)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert not SANITIZER_RE.search(r.stderr), r.stderr
    out = r.stdout
    assert out.count("TEMP") == 2, out
    assert "0 OK user=we\tird\x01@x\n" in out, repr(out)
    assert "1 FAIL code=pass_expired reason=a\nb\n" in out, repr(out)
    assert out.endswith("connections=1\n"), out     # cookie seen: 2nd
    assert "pw-a" not in r.stderr and "pw-b" not in r.stderr
    # The ids are unique across connections.
    ids = [l.split(b"\t")[1] for l in seen]
    assert len(set(ids)) == len(ids), seen
