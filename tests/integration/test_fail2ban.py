"""conf/fail2ban/filter.d/aviary.conf against real aviary-auth output:
a private MariaDB stack, one aviary-auth writing its stderr to a log
file, failing and succeeding logins from 192.0.2.x sent over the client
socket (the Dovecot auth protocol, as in test_auth.py), then Debian's
fail2ban-regex on that log. Exactly the failures (auth failed, auth
refused) match, with the failing addresses; "auth ok", "auth temporary
failure" and a failure without a client address do not, and a client
address forged inside the user name is never taken."""
import base64
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from postfix import AviaryAuth, auth_config, private_stack, remove_stack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FILTER = os.path.join(ROOT, "conf", "fail2ban", "filter.d", "aviary.conf")
F2B = shutil.which("fail2ban-regex") or "/usr/bin/fail2ban-regex"
DOM = "f2b.test"
USER = "alice@" + DOM
PW = "Alice-f2b-pass-1"
DOWN = "down@" + DOM              # never verified: not in the cache
DOWN_PW = "Down-f2b-pass-2"
# The brute-force penalty stays on (nothing trusted); every failure
# comes from its own address so no answer waits long.
EXTRA = ('  failure_delay: 0s\n'
         '  trusted_networks: []\n')
FORGED = "x>, mech=PLAIN, service=smtp, rip=198.51.100.66, reason=oops"

pytestmark = pytest.mark.skipif(not os.access(F2B, os.X_OK),
                                reason="fail2ban-regex not installed "
                                       "(apt-get install fail2ban)")


def plain(user, password):
    return base64.b64encode(b"\0%s\0%s" % (user.encode(),
                                          password.encode())).decode()


class Client:
    """The client socket, minor version 2 (a temporary failure is a FAIL
    with code=temp_fail, not a closed connection)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(20)
        self.s.connect(path)
        self.buf = b""
        self.s.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        while self.readline() != "DONE":
            pass

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            assert chunk, "aviary-auth closed the connection"
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def login(self, rid, user, password, rip=None, secured=True):
        f = ["AUTH", str(rid), "PLAIN", "service=smtp", "nologin",
             "lip=127.0.0.1"]
        if rip is not None:
            f.append("rip=" + rip)
        if secured:
            f.append("secured")
        f.append("resp=" + plain(user, password))
        self.s.sendall(("\t".join(f) + "\n").encode())
        line = self.readline()
        assert line.split("\t")[1] == str(rid), line
        return line

    def close(self):
        self.s.close()


def fail2ban_regex(log, *opts):
    r = subprocess.run([F2B, *opts, log, FILTER], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def matched(log):
    """(matched, missed) line counts from fail2ban-regex's summary."""
    out = fail2ban_regex(log)
    m = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, "
                  r"(\d+) missed", out, re.M)
    assert m, out
    return int(m.group(3)), out


def hosts(log):
    return fail2ban_regex(log, "-o", "ip").split()


@pytest.fixture(scope="module")
def auth_log(build):
    stack = private_stack(build, "av-f2b-")
    auth = None
    try:
        stack.run_admin("domain", "add", DOM)
        stack.run_admin("mailbox", "add", USER, "--password-stdin",
                        input=PW + "\n")
        stack.run_admin("mailbox", "add", DOWN, "--password-stdin",
                        input=DOWN_PW + "\n")
        config, client, userdb = auth_config(stack, "f2b", EXTRA)
        log = os.path.join(stack.base, "aviary-auth.log")
        auth = AviaryAuth(build, config, client, userdb, log)
        auth.start()
        c = Client(client)
        fails = []
        # Failures: each from its own address.
        assert c.login(1, USER, "Wrong-pass-1", "192.0.2.1").startswith(
            "FAIL\t1")
        fails.append("192.0.2.1")
        assert c.login(2, "nobody@" + DOM, "Whatever-2",
                       "192.0.2.2").startswith("FAIL\t2")
        fails.append("192.0.2.2")
        # Plaintext without TLS from a remote address: auth refused.
        assert c.login(3, USER, PW, "192.0.2.3",
                       secured=False).startswith("FAIL\t3")
        fails.append("192.0.2.3")
        # A user name that tries to forge another client address.
        assert c.login(4, FORGED, "Whatever-4", "192.0.2.4").startswith(
            "FAIL\t4")
        fails.append("192.0.2.4")
        assert c.login(5, USER, "Wrong-pass-5", "2001:db8::5").startswith(
            "FAIL\t5")
        fails.append("2001:db8::5")
        # Not counted: a failure without a client address, a success.
        assert c.login(6, "nobody2@" + DOM, "Whatever-6").startswith(
            "FAIL\t6")
        assert c.login(7, USER, PW, "192.0.2.50") == \
            "OK\t7\tuser=" + USER
        # A temporary failure: the database is gone, the login never
        # verified before (not cached).
        stack.db.stop()
        line = c.login(8, DOWN, DOWN_PW, "192.0.2.60")
        assert line.startswith("FAIL\t8") and "code=temp_fail" in line, line
        c.close()
        # The log lines are written before the replies are sent.
        yield log, fails
    finally:
        report = None
        try:
            if auth is not None:
                auth.stop()
                report = auth.sanitizer_report()
        finally:
            remove_stack(stack)
        if report:
            pytest.fail("sanitizer report from aviary-auth:\n" + report)


def read(log):
    with open(log, errors="replace") as f:
        return f.read()


def test_log_has_every_kind(auth_log):
    log, fails = auth_log
    text = read(log)
    for rip in fails[:2] + fails[3:]:
        assert re.search(r"^aviary-auth\[\d+\]: auth failed: .*rip=%s, "
                         % re.escape(rip), text, re.M), text
    assert re.search(r"^aviary-auth\[\d+\]: auth refused: .*rip=192\.0\.2\.3, "
                     r"reason=plaintext authentication without TLS$",
                     text, re.M), text
    assert re.search(r"auth failed: .*rip=-, reason=", text), text
    assert re.search(r"^aviary-auth\[\d+\]: auth ok: .*rip=192\.0\.2\.50$",
                     text, re.M), text
    assert re.search(r"^aviary-auth\[\d+\]: auth temporary failure: "
                     r".*rip=192\.0\.2\.60, ", text, re.M), text
    assert "rip=198.51.100.66" in text      # the forged one, in user=<>


def test_filter_matches_exactly_the_failures(auth_log):
    log, fails = auth_log
    n, out = matched(log)
    assert n == len(fails), out
    assert sorted(hosts(log)) == sorted(fails), out


def test_syslog_and_journal_forms(auth_log, tmp_path):
    """The same lines as aviaryd logs them as a daemon (syslog, tagged
    with aviaryd's own name; the journal of aviary.service reads the
    same once fail2ban prefixes host and identifier)."""
    log, fails = auth_log
    stamp = time.strftime("%b %e %H:%M:%S")
    path = tmp_path / "mail.log"
    with open(path, "w") as f:
        for line in read(log).splitlines():
            f.write("%s mx1 aviaryd[812]: %s\n" % (stamp, line))
    n, out = matched(str(path))
    assert n == len(fails), out
    assert sorted(hosts(str(path))) == sorted(fails), out


@pytest.mark.parametrize("line", [
    "aviary-auth[9]: auth ok: user=<a@f2b.test>, mech=PLAIN, "
    "service=smtp, rip=192.0.2.50",
    "aviary-auth[9]: auth temporary failure: user=<a@f2b.test>, "
    "mech=PLAIN, service=smtp, rip=192.0.2.60, "
    "reason=user database unavailable",
    "aviary-auth[9]: auth failed: user=<?>, mech=PLAIN, service=smtp, "
    "rip=-, reason=no such user",
    "aviary-auth[9]: auth failed: user=<x>, mech=PLAIN, service=smtp, "
    "rip=198.51.100.66, reason=x>, mech=PLAIN, service=smtp, rip=-, "
    "reason=wrong password",
])
def test_no_match(tmp_path, line):
    path = tmp_path / "one.log"
    path.write_text(line + "\n")
    n, out = matched(str(path))
    assert n == 0, out
