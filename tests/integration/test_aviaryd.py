"""aviaryd, the supervisor (docs/aviaryd.md), run for real: it creates
the auth sockets, starts <build>/aviary-auth with them, restarts it when
it dies, reloads on SIGHUP and stops on SIGTERM, against a private
MariaDB stack of this module's own (tools/aviarydev.py).

Some tests replace aviary-auth by a small Python stand-in (through
aviaryd.libexec_dir) to see exactly what a service receives, or to
misbehave in ways aviary-auth does not: ignore SIGTERM, exit at once.
The lmtp service (a UNIX socket and TCP listeners) is tested with a
stand-in aviary-lmtp only; every other test disables it.

Every aviaryd a test starts is stopped in the fixture's teardown, and
every service process it was seen to run is killed by pid if it
outlived it.
"""
import base64
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avstack  # noqa: E402
from avstack import aviarydev  # noqa: E402

AVIARYD = os.path.join(avstack.BUILD, "aviaryd")
READY_TIMEOUT = 30          # sanitizer builds start slowly
STOP_TIMEOUT = 10           # aviaryd.stop_timeout's default
EX_CONFIG = 78

DOMAIN = "example.test"
USER = "alice@" + DOMAIN
PASSWORD = "Alice-aviaryd-1"


# -- processes -----------------------------------------------------------------

def proc_stat(pid):
    """(comm, state, ppid) of a process, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    rest = text.rsplit(")", 1)[1].split()
    return comm, rest[0], int(rest[1])


def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[1] != "Z"


def children(ppid, comm="aviary-auth"):
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st and st[0] == comm and st[2] == ppid and st[1] != "Z":
                pids.append(int(name))
    return pids


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError("no Uid line for %d" % pid)


class Aviaryd:
    """<build>/aviaryd -F -c CONFIG as a child of the tests; its stderr
    (its own log and its services') collected line by line."""

    def __init__(self, config):
        self.config = config
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        self.seen = set()        # service pids, killed at cleanup if left
        self.proc = subprocess.Popen(
            [AVIARYD, "-F", "-c", config], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=avstack.admin_env(), preexec_fn=aviarydev.die_with_parent)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        with self.cond:
            return "\n".join(self.lines)

    def mark(self):
        """Where the log is now: wait_for(..., since=mark) looks after it."""
        with self.cond:
            return len(self.lines)

    def wait_for(self, pattern, timeout=READY_TIMEOUT, since=0):
        """The match of the first line from 'since' on that matches."""
        return self.wait_for_at(pattern, timeout, since)[0]

    def wait_for_at(self, pattern, timeout=READY_TIMEOUT, since=0):
        """(match, index of its line)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(since, len(self.lines)):
                    m = rx.search(self.lines[i])
                    if m:
                        return m, i
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    break
                self.cond.wait(left)
        pytest.fail("no /%s/ in aviaryd's log (%s); log:\n%s" % (
            pattern, "it exited: %s" % self.proc.poll() if self.eof
            else "%ds" % timeout, self.output()))

    def child(self, timeout=READY_TIMEOUT, other_than=None,
              comm="aviary-auth"):
        """The pid of the one 'comm' child (not 'other_than')."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in children(self.pid, comm) if p != other_than]
            self.seen.update(pids)
            if len(pids) == 1:
                return pids[0]
            assert len(pids) < 2, "two services at once: %s" % pids
            time.sleep(0.05)
        pytest.fail("no %s child in %ds; log:\n%s" % (
            comm, timeout, self.output()))

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT + 5):
        """Signal; the exit status and the seconds it took."""
        t = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail("aviaryd still running %ds after signal %d:\n%s" % (
                timeout, sig, self.output()))
        self.reader.join(5)
        return rc, time.monotonic() - t

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.seen:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.proc.stdout:
            self.proc.stdout.close()


# -- the Dovecot auth protocol -------------------------------------------------

def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def handshake(s):
    """Postfix's side of the handshake; the server's lines up to DONE."""
    s.sendall(b"VERSION\t1\t0\nCPID\t%d\n" % os.getpid())
    data = b""
    while not data.endswith(b"DONE\n"):
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake: %r" % data)
        data += chunk
    return data.decode()


def auth_plain(path, user, password, rid=1):
    with connect(path) as s:
        assert "MECH\tPLAIN" in handshake(s)
        resp = base64.b64encode(b"\0%s\0%s" % (user.encode(),
                                               password.encode())).decode()
        s.sendall(("AUTH\t%d\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1"
                   "\trip=127.0.0.1\tresp=%s\n" % (rid, resp)).encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode().rstrip("\n")


def answers(path):
    try:
        with connect(path, timeout=5) as s:
            return "DONE" in handshake(s)
    except OSError:
        return False


def wait_answering(path, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(path):
            return
        time.sleep(0.05)
    pytest.fail("%s does not answer within %ds" % (path, timeout))


# -- fixtures -------------------------------------------------------------------

@pytest.fixture(scope="module")
def dstack(tmp_path_factory):
    """A private MariaDB stack with one mailbox, for this module alone."""
    if not os.access(AVIARYD, os.X_OK):
        pytest.fail("%s not built (run make, or set AVIARY_BUILD)" % AVIARYD)
    s = aviarydev.Stack(avstack.short_tmpdir(tmp_path_factory, "aviaryd"),
                        avstack.BUILD)
    try:
        s.up()
        s.run_admin("domain", "add", DOMAIN)
        s.run_admin("mailbox", "add", USER, "--password-stdin",
                    input=PASSWORD + "\n")
        yield s
    finally:
        avstack.stop_stack(s)


def without_section(text, name):
    """YAML text without its top-level section 'name' (if any)."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line[:1] not in (" ", "\t", "#", "\n", ""):
            skipping = line.startswith(name + ":")
        if not skipping:
            out.append(line)
    return "".join(out)


class Env:
    def __init__(self, stack):
        self.stack = stack
        self.run = stack.db.rundir
        self.client = os.path.join(self.run, "auth-client")
        self.userdb = os.path.join(self.run, "auth-userdb")
        self.lmtp = os.path.join(self.run, "lmtp")
        self.daemons = []

    def lmtp_section(self, listen=(), enabled=True, user=None):
        """Lines for config(lmtp=...): the socket at self.lmtp, mode
        0660, and 'listen' as the TCP list."""
        if user is None:
            user = "nobody" if os.geteuid() == 0 else ""
        return ("  enabled: %s\n  user: \"%s\"\n  socket:\n    path: %s\n"
                "    mode: \"0660\"\n    user: \"\"\n    group: \"\"\n"
                "  listen: %s\n" % ("true" if enabled else "false", user,
                                    self.lmtp, json.dumps(list(listen))))

    def config(self, auth_extra="", extra="", replace=(), lmtp=None):
        """Rewrite the stack's aviary.yaml: its defaults, failure_delay 0s
        (no waiting on wrong passwords), the auth sockets' modes 0666
        (client) and 0660 (userdb), plus the given lines, with (old,
        new) text replacements applied. 'lmtp': the lines of the
        lmtp section, which replaces any the stack writes; by default
        "enabled: false" (aviary-lmtp is not among the binaries tested
        here). Returns its path."""
        self.stack.write_config(extra=extra, auth_extra="  failure_delay: 0s\n"
                                + auth_extra)
        with open(self.stack.config) as f:
            text = without_section(f.read(), "lmtp")
        # The socket modes these tests expect, whatever the stack's are.
        for path, mode in ((self.client, "0666"), (self.userdb, "0660")):
            text, n = re.subn(r'(\n    path: %s\n    mode: )"\d+"\n'
                              % re.escape(path), r'\g<1>"%s"\n' % mode, text)
            assert n == 1, (path, text)
        if not text.endswith("\n"):
            text += "\n"
        text += "lmtp:\n" + (lmtp if lmtp is not None else
                             "  enabled: false\n")
        for old, new in replace:
            assert old in text, old
            text = text.replace(old, new)
        with open(self.stack.config, "w") as f:
            f.write(text)
        return self.stack.config

    def start(self, ready=True):
        d = Aviaryd(self.stack.config)
        self.daemons.append(d)
        if ready:
            d.wait_for(r"aviaryd\[\d+\]: aviaryd: ready")
        return d

    def serving(self, d, other_than=None):
        """The pid of d's aviary-auth once it has read its configuration
        and serves: only then may a test change the file under it."""
        pid = d.child(other_than=other_than)
        d.wait_for(r"aviary-auth\[%d\]: auth: ready" % pid)
        return pid


@pytest.fixture
def env(dstack):
    e = Env(dstack)
    e.config()
    try:
        yield e
    finally:
        for d in e.daemons:
            d.cleanup()
        e.config()


def fake_service(directory, body, name="aviary-auth"):
    """A stand-in service binary 'name' in 'directory' (for
    aviaryd.libexec_dir): a Python script doing 'body'."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("#!/usr/bin/python3\nimport json, os, select, signal, "
                "socket, sys, time\n" + body)
    os.chmod(path, 0o755)
    return directory


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- configuration --------------------------------------------------------------

def test_check_prints_the_effective_config(env):
    cfg = env.config(auth_extra="  workers: 3\n")
    r = subprocess.run([AVIARYD, "-c", cfg, "--check"], capture_output=True,
                       text=True, timeout=30, env=avstack.admin_env())
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    out = r.stdout
    for want in ("aviaryd:\n  libexec_dir: \"\"\n  restart_max: 1m\n"
                 "  stop_timeout: 10s\n",
                 "\nauth:\n  enabled: true\n",
                 "    path: \"%s\"\n    mode: \"0666\"\n" % env.client,
                 "    path: \"%s\"\n    mode: \"0660\"\n" % env.userdb,
                 "  workers: 3\n"):
        assert want in out, (want, out)
    # Checking creates nothing and starts nothing.
    assert not os.path.exists(env.client)
    assert not os.path.exists(env.userdb)


def test_unknown_key_exits_78_with_file_and_line(env):
    cfg = env.config(extra="frobnicate: 1\n")
    with open(cfg) as f:
        line = f.read().splitlines().index("frobnicate: 1") + 1
    for args in (["--check"], ["-F"]):
        r = subprocess.run([AVIARYD, "-c", cfg] + args, capture_output=True,
                           text=True, timeout=30, env=avstack.admin_env())
        assert r.returncode == EX_CONFIG, (args, r.returncode, r.stderr)
        assert "%s:%d: " % (cfg, line) in r.stderr, r.stderr
        assert "frobnicate" in r.stderr
        assert r.stdout == ""
    assert not os.path.exists(env.client)


@pytest.mark.parametrize("case", ["relative", "duplicate", "libexec", "user",
                                  "lmtp-binary", "lmtp-path", "lmtp-user",
                                  "lmtp-unknown-user"])
def test_aviaryd_config_errors_exit_78(env, tmp_path, case):
    """What aviaryd checks on top of the file's syntax: socket paths,
    the service binaries, the service user (when root)."""
    if case in ("lmtp-user", "lmtp-unknown-user"):
        if os.geteuid() != 0:
            pytest.skip("the service user is only checked as root")
    if case == "lmtp-binary":
        # Enabled without aviary-lmtp in the libexec directory.
        libexec = fake_service(str(tmp_path / "libexec"), "")
        cfg = env.config(extra="aviaryd:\n  libexec_dir: %s\n" % libexec,
                         lmtp=env.lmtp_section(["127.0.0.1:%d" %
                                                free_port()]))
        want = "%s/aviary-lmtp: no such file" % libexec
    elif case == "lmtp-path":
        cfg = env.config(lmtp=env.lmtp_section().replace(env.lmtp,
                                                         env.userdb))
        want = "lmtp.socket.path: %s is already another socket's path" % \
            env.userdb
    elif case == "lmtp-user":
        cfg = env.config(lmtp=env.lmtp_section(user="root"))
        want = "lmtp.user: set the system user the service runs as"
    elif case == "lmtp-unknown-user":
        cfg = env.config(lmtp=env.lmtp_section(user="no-such-user-here"))
        want = "lmtp.user: unknown user 'no-such-user-here'"
    elif case == "relative":
        cfg = env.config(replace=[("path: %s\n" % env.client,
                                   "path: run/auth-client\n")])
        want = "auth.client_socket.path: must be an absolute path"
    elif case == "duplicate":
        cfg = env.config(replace=[("path: %s\n" % env.userdb,
                                   "path: %s\n" % env.client)])
        want = "is already another socket's path"
    elif case == "libexec":
        cfg = env.config(extra="aviaryd:\n  libexec_dir: %s\n" % tmp_path)
        want = "%s/aviary-auth: no such file" % tmp_path
    else:
        if os.geteuid() != 0:
            pytest.skip("the service user is only checked as root")
        cfg = env.config(replace=[('  user: "nobody"\n', '  user: root\n')])
        want = "auth.user: set the system user the service runs as"
    r = subprocess.run([AVIARYD, "-F", "-c", cfg], capture_output=True,
                       text=True, timeout=30, env=avstack.admin_env())
    assert r.returncode == EX_CONFIG, (r.returncode, r.stderr)
    # "file: ..." or, where the loader knows it, "file:line: ...".
    assert re.search(r"fatal: %s(:\d+)?: " % re.escape(cfg), r.stderr) and \
        want in r.stderr, r.stderr
    assert not os.path.exists(env.client)


# -- running --------------------------------------------------------------------

def test_sockets_and_service(env):
    d = env.start()
    pid = d.child()
    d.wait_for(r"auth: started aviary-auth \(pid %d\)" % pid)
    # The sockets as configured.
    assert stat.S_ISSOCK(os.stat(env.client).st_mode)
    assert stat.S_IMODE(os.stat(env.client).st_mode) == 0o666
    assert stat.S_IMODE(os.stat(env.userdb).st_mode) == 0o660
    # The Dovecot handshake, then a real login against SQL.
    with connect(env.client) as s:
        hs = handshake(s)
    assert hs.startswith("VERSION\t1\t") and "MECH\tPLAIN" in hs
    assert "SPID\t%d\n" % pid in hs
    assert auth_plain(env.client, USER, PASSWORD) == "OK\t1\tuser=" + USER
    # The service: argv without a shell, its own session, its sockets
    # as 3 and 4 (the very sockets aviaryd holds), its user.
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert f.read().split(b"\0")[:-1] == [b"aviary-auth", b"-c",
                                               env.stack.config.encode()]
    assert os.getsid(pid) == pid
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody").pw_uid
        assert uid_of(pid) == [nobody] * 4
        with open("/proc/%d/environ" % pid, "rb") as f:
            assert b"AVIARY_LISTEN_FDS=client=3,userdb=4" in \
                f.read().split(b"\0")
        ours = {os.readlink("/proc/%d/fd/%s" % (d.pid, fd))
                for fd in os.listdir("/proc/%d/fd" % d.pid)}
        for fd in (3, 4):
            link = os.readlink("/proc/%d/fd/%d" % (pid, fd))
            assert link.startswith("socket:") and link in ours, link
        assert uid_of(d.pid)[0] == 0      # aviaryd itself stays root
    rc, _ = d.stop()
    assert rc == 0, d.output()


def test_service_receives_exactly_its_sockets(env, tmp_path):
    """What a service gets from aviaryd, seen from inside a stand-in."""
    out = tmp_path / "seen.json"
    libexec = fake_service(str(tmp_path / "libexec"), f"""
fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
info = {{
    "argv": sys.argv,
    "listen": os.environ.get("AVIARY_LISTEN_FDS"),
    "notify": os.environ.get("NOTIFY_SOCKET"),
    "fds": fds,
    "names": [socket.socket(fileno=os.dup(fd)).getsockname() for fd in (3, 4)],
    "listening": [socket.socket(fileno=os.dup(fd)).getsockopt(
        socket.SOL_SOCKET, socket.SO_ACCEPTCONN) for fd in (3, 4)],
    "stdin": os.readlink("/proc/self/fd/0"),
    "sid": os.getsid(0) == os.getpid(),
    "sigblk": [l.split()[1] for l in open("/proc/self/status")
               if l.startswith("SigBlk:")][0],
}}
with open({str(out)!r} + ".tmp", "w") as f:
    json.dump(info, f)
os.rename({str(out)!r} + ".tmp", {str(out)!r})
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    time.sleep(1)
""")
    env.config(extra="aviaryd:\n  libexec_dir: %s\n" % libexec)
    d = env.start()
    d.child()
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    info = json.loads(out.read_text())
    assert info["argv"] == [os.path.join(libexec, "aviary-auth"), "-c",
                            env.stack.config]  # as the script sees it
    assert info["listen"] == "client=3,userdb=4"
    assert info["notify"] is None
    # 0-2, the two sockets, and the directory listing /proc/self/fd.
    assert info["fds"][:5] == [0, 1, 2, 3, 4] and len(info["fds"]) == 6, info
    assert info["names"] == [env.client, env.userdb]
    assert info["listening"] == [1, 1]
    assert info["stdin"] == "/dev/null"
    assert info["sid"] is True
    assert int(info["sigblk"], 16) == 0
    rc, _ = d.stop()
    assert rc == 0


def test_kill9_restarts_the_service_and_clients_wait(env):
    d = env.start()
    old = d.child()
    mark = d.mark()
    os.kill(old, signal.SIGKILL)
    # Connected while no service runs: the socket stays open in aviaryd,
    # so the client waits in the backlog and is served after the restart.
    t = time.monotonic()
    with connect(env.client, timeout=15) as s:
        assert "DONE" in handshake(s)
    assert time.monotonic() - t < 10
    d.wait_for(r"auth: aviary-auth \(pid %d\) killed by signal 9 .*; "
               r"restarting in 1s" % old, since=mark)
    new = d.child(other_than=old)
    assert new != old
    d.wait_for(r"auth: started aviary-auth \(pid %d\)" % new, since=mark)
    assert auth_plain(env.client, USER, PASSWORD) == "OK\t1\tuser=" + USER
    # A second crash soon after: the delay doubles.
    mark = d.mark()
    os.kill(new, signal.SIGKILL)
    d.wait_for(r"\(pid %d\) killed by signal 9 .*; restarting in 2s" % new,
               since=mark)
    third = d.child(other_than=new)
    wait_answering(env.client)
    assert third not in (old, new)
    rc, _ = d.stop()
    assert rc == 0


def test_backoff_doubles_up_to_restart_max(env, tmp_path):
    libexec = fake_service(str(tmp_path / "libexec"), "sys.exit(3)\n")
    env.config(extra="aviaryd:\n  libexec_dir: %s\n  restart_max: 2s\n"
               % libexec)
    d = env.start()
    delays = []
    since = 0
    for _ in range(4):
        m, i = d.wait_for_at(r"auth: aviary-auth \(pid \d+\) exited with "
                             r"status 3; restarting in (\d+)s", timeout=10,
                             since=since)
        delays.append(int(m.group(1)))
        since = i + 1
    assert delays == [1, 2, 2, 2], d.output()
    rc, _ = d.stop()
    assert rc == 0


def test_exec_failure_is_retried(env, tmp_path):
    """A binary that cannot be executed: aviaryd says why (the child
    reports the exec's errno), retries with back-off, and is not ready."""
    libexec = tmp_path / "libexec"
    libexec.mkdir()
    (libexec / "aviary-auth").write_text("#!/nonexistent/interpreter\n")
    (libexec / "aviary-auth").chmod(0o755)
    env.config(extra="aviaryd:\n  libexec_dir: %s\n" % libexec)
    d = env.start(ready=False)
    d.wait_for(r"error: auth: cannot start aviary-auth: %s/aviary-auth: "
               r"exec: No such file or directory; trying again in 1s"
               % re.escape(str(libexec)))
    d.wait_for(r"trying again in 2s")
    assert "ready" not in d.output()
    # The socket exists and queues the client, but nobody answers.
    with connect(env.client, timeout=0.5) as s:
        with pytest.raises(socket.timeout):
            handshake(s)
    rc, _ = d.stop()
    assert rc == 0
    assert not os.path.exists(env.client)


def test_sighup_valid_config_restarts_and_keeps_socket(env):
    d = env.start()
    old = env.serving(d)
    ino = os.stat(env.client).st_ino
    env.config(auth_extra="  workers: 2\n")
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    # Clients connecting during the reload are queued, never refused
    # (connect raises if they are). The old service may close a
    # connection it accepted just before it stopped; no more than that.
    deadline = time.monotonic() + 2
    served = dropped = 0
    while time.monotonic() < deadline:
        with connect(env.client, timeout=15) as s:
            try:
                handshake(s)
                served += 1
            except ConnectionError:
                dropped += 1
    assert served > 0 and dropped <= 1, (served, dropped)
    d.wait_for(r"reloaded %s" % re.escape(env.stack.config), since=mark)
    # Any status: under LeakSanitizer aviary-auth exits 1 when it is
    # stopped with client connections still open (it does not free
    # them at exit), which this loop makes likely.
    d.wait_for(r"auth: aviary-auth \(pid %d\) (exited with status \d+|"
               r"killed by signal 15)" % old, since=mark)
    new = d.child(other_than=old)
    d.wait_for(r"aviary-auth\[%d\]: auth: ready .*2 workers" % new, since=mark)
    assert os.stat(env.client).st_ino == ino      # the same socket
    assert auth_plain(env.client, USER, PASSWORD) == "OK\t1\tuser=" + USER
    rc, _ = d.stop()
    assert rc == 0


def test_sighup_changed_socket_path_and_mode(env):
    d = env.start()
    old = env.serving(d)
    client2 = env.client + "2"
    userdb_ino = os.stat(env.userdb).st_ino
    env.config(replace=[("path: %s\n" % env.client, "path: %s\n" % client2),
                        ('mode: "0660"', 'mode: "0600"')])
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"reloaded ", since=mark)
    d.child(other_than=old)
    wait_answering(client2)
    assert auth_plain(client2, USER, PASSWORD) == "OK\t1\tuser=" + USER
    assert not os.path.exists(env.client)         # the old path is gone
    # The userdb socket was replaced in place by one with the new mode.
    st = os.stat(env.userdb)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_ino != userdb_ino
    assert not os.path.exists(env.userdb + ".new")
    with connect(env.userdb) as s:
        s.sendall(b"VERSION\t1\t1\n")
        s.settimeout(5)
        assert s.recv(4096).startswith(b"VERSION\t1\t")
    rc, _ = d.stop()
    assert rc == 0
    assert not os.path.exists(client2) and not os.path.exists(env.userdb)


def test_sighup_broken_config_keeps_the_old_one(env):
    d = env.start()
    old = env.serving(d)
    cfg = env.config(extra="frobnicate: 1\n")
    with open(cfg) as f:
        line = f.read().splitlines().index("frobnicate: 1") + 1
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"error: reload failed, still running the previous "
               r"configuration: %s:%d: " % (re.escape(cfg), line), since=mark)
    time.sleep(0.5)
    assert d.proc.poll() is None
    assert children(d.pid) == [old], d.output()   # not restarted
    assert auth_plain(env.client, USER, PASSWORD) == "OK\t1\tuser=" + USER
    # A valid configuration again: the next SIGHUP applies it.
    env.config()
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"reloaded ", since=mark)
    d.child(other_than=old)
    wait_answering(env.client)
    rc, _ = d.stop()
    assert rc == 0


def test_sighup_disables_and_enables_the_service(env):
    env.config(auth_extra="  enabled: false\n")
    d = env.start()
    d.wait_for(r"aviaryd: ready \(0 services\)")
    assert children(d.pid) == [] and not os.path.exists(env.client)
    env.config()
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"reloaded ", since=mark)
    pid = env.serving(d)
    wait_answering(env.client)
    env.config(auth_extra="  enabled: false\n")
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"auth: aviary-auth \(pid %d\) (exited with status 0|"
               r"killed by signal 15)" % pid, since=mark)
    assert not os.path.exists(env.client) and not os.path.exists(env.userdb)
    assert children(d.pid) == []
    rc, _ = d.stop()
    assert rc == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_is_graceful_and_cleans_up(env, sig):
    d = env.start()
    pid = d.child()
    assert answers(env.client)
    rc, took = d.stop(sig)
    assert rc == 0, d.output()
    assert took < STOP_TIMEOUT
    assert not alive(pid)
    assert not os.path.exists(env.client) and not os.path.exists(env.userdb)
    out = d.output()
    assert "stopping aviary-auth (pid %d)" % pid in out
    assert re.search(r"aviaryd\[%d\]: stopped$" % d.pid, out, re.M), out


def test_stop_timeout_then_sigkill(env, tmp_path):
    flag = tmp_path / "ignoring"
    libexec = fake_service(str(tmp_path / "libexec"), f"""
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open({str(flag)!r}, "w").close()
while True:
    time.sleep(1)
""")
    env.config(extra="aviaryd:\n  libexec_dir: %s\n  stop_timeout: 1s\n"
               % libexec)
    d = env.start()
    pid = d.child()
    deadline = time.monotonic() + 10
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.05)          # until it ignores SIGTERM
    rc, took = d.stop()
    assert rc == 0, d.output()
    assert 1 <= took < 5
    assert not alive(pid)
    d.wait_for(r"did not stop within 1s; sending SIGKILL")
    d.wait_for(r"\(pid %d\) killed by signal 9" % pid)
    assert not os.path.exists(env.client)


# -- lmtp: a UNIX socket and TCP listeners -----------------------------------

# A stand-in aviary-lmtp: it writes what it received to <OUT>/<pid>.json,
# then greets every connection on any of its sockets with the socket's
# name from AVIARY_LISTEN_FDS ("220 tcp0") and closes it.
LMTP_STANDIN = """
out = sys.argv[sys.argv.index("-c") + 1] + ".lmtp"
fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
named = {}
for item in os.environ["AVIARY_LISTEN_FDS"].split(","):
    k, _, v = item.partition("=")
    named[k] = socket.socket(fileno=int(v))
info = {
    "argv": sys.argv,
    "listen": os.environ["AVIARY_LISTEN_FDS"],
    "fds": fds,
    "socks": {k: [s.family, s.getsockname(), s.fileno(),
                  s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN),
                  os.fstat(s.fileno()).st_ino] for k, s in named.items()},
}
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "%d.tmp" % os.getpid()), "w") as f:
    json.dump(info, f)
os.rename(os.path.join(out, "%d.tmp" % os.getpid()),
          os.path.join(out, "%d.json" % os.getpid()))
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
by_fd = {s.fileno(): k for k, s in named.items()}
while True:
    for s in select.select(list(named.values()), [], [])[0]:
        try:
            c, _ = s.accept()
        except BlockingIOError:
            continue
        c.sendall(("220 %s\\r\\n" % by_fd[s.fileno()]).encode())
        c.close()
"""


def lmtp_libexec(tmp_path):
    """A libexec directory with the stand-in aviary-lmtp and the real
    aviary-auth (a symbolic link: both services run)."""
    d = fake_service(str(tmp_path / "libexec"), LMTP_STANDIN, "aviary-lmtp")
    os.symlink(os.path.join(avstack.BUILD, "aviary-auth"),
               os.path.join(d, "aviary-auth"))
    return d


def lmtp_seen(env, d, other_than=None):
    """(pid, what it received) of d's aviary-lmtp."""
    pid = d.child(comm="aviary-lmtp", other_than=other_than)
    path = os.path.join(env.stack.config + ".lmtp", "%d.json" % pid)
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        assert time.monotonic() < deadline, d.output()
        time.sleep(0.05)
    with open(path) as f:
        return pid, json.load(f)


def greeting(addr, timeout=10):
    """What the stand-in says on a UNIX path or a (host, port)."""
    family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(addr)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
        return data.decode().strip()


def refused(port):
    with socket.socket() as s:
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def test_lmtp_sockets_and_reloads(env, tmp_path):
    """The lmtp service gets its UNIX socket as 3 ("socket") and one TCP
    listener per lmtp.listen entry as 4, 5, ... ("tcp0", "tcp1", ...);
    a reload keeps the listeners whose address stays, whatever their
    new position, binds the new ones and closes the removed ones."""
    libexec = lmtp_libexec(tmp_path)
    p1 = free_port()
    p2 = free_port()
    while p2 == p1:
        p2 = free_port()
    a1, a2 = "127.0.0.1:%d" % p1, "127.0.0.1:%d" % p2
    ex = "aviaryd:\n  libexec_dir: %s\n" % libexec
    env.config(extra=ex, lmtp=env.lmtp_section([a1]))
    d = env.start()
    d.wait_for(r"aviaryd: ready \(2 services\)")
    d.child()                                     # aviary-auth, for cleanup
    pid, info = lmtp_seen(env, d)
    d.wait_for(r"lmtp: started aviary-lmtp \(pid %d\)" % pid)
    assert info["argv"][1:] == ["-c", env.stack.config]
    assert info["listen"] == "socket=3,tcp0=4"
    # 0-2, its two sockets (none of aviary-auth's), the listing's own.
    assert info["fds"][:5] == [0, 1, 2, 3, 4] and len(info["fds"]) == 6, info
    unix, tcp0 = info["socks"]["socket"], info["socks"]["tcp0"]
    assert unix[:4] == [socket.AF_UNIX, env.lmtp, 3, 1]
    assert tcp0[:4] == [socket.AF_INET, ["127.0.0.1", p1], 4, 1]
    st = os.stat(env.lmtp)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
    assert greeting(env.lmtp) == "220 socket"
    assert greeting(("127.0.0.1", p1)) == "220 tcp0"
    assert answers(env.client)                    # auth serves meanwhile

    # A listener added in front: the old one is kept, now as tcp1.
    env.config(extra=ex, lmtp=env.lmtp_section([a2, a1]))
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"reloaded ", since=mark)
    pid2, info = lmtp_seen(env, d, other_than=pid)
    assert info["listen"] == "socket=3,tcp0=4,tcp1=5"
    socks = info["socks"]
    assert socks["tcp0"][:4] == [socket.AF_INET, ["127.0.0.1", p2], 4, 1]
    assert socks["tcp1"][:4] == [socket.AF_INET, ["127.0.0.1", p1], 5, 1]
    assert socks["tcp1"][4] == tcp0[4]            # the same socket
    assert socks["socket"][4] == unix[4]
    assert greeting(("127.0.0.1", p1)) == "220 tcp1"
    assert greeting(("127.0.0.1", p2)) == "220 tcp0"
    assert greeting(env.lmtp) == "220 socket"

    # The first one removed: closed (refused), the other kept as tcp0.
    kept = socks["tcp0"][4]
    env.config(extra=ex, lmtp=env.lmtp_section([a2]))
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"reloaded ", since=mark)
    pid3, info = lmtp_seen(env, d, other_than=pid2)
    assert info["listen"] == "socket=3,tcp0=4"
    assert info["socks"]["tcp0"][4] == kept
    assert refused(p1)
    assert greeting(("127.0.0.1", p2)) == "220 tcp0"

    # An address that cannot be bound (someone else listens there): the
    # reload fails as a whole, the service and its sockets stay as they
    # were.
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        a3 = "127.0.0.1:%d" % other.getsockname()[1]
        env.config(extra=ex, lmtp=env.lmtp_section([a2, a3]))
        mark = d.mark()
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(r"error: reload failed, still running the previous "
                   r"configuration: lmtp.listen: %s: Address already in use"
                   % re.escape(a3), since=mark)
        assert children(d.pid, "aviary-lmtp") == [pid3]
        assert greeting(("127.0.0.1", p2)) == "220 tcp0"

    # Disabled: the service stops, its socket file and listener go.
    env.config(extra=ex, lmtp=env.lmtp_section([a2], enabled=False))
    mark = d.mark()
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"lmtp: aviary-lmtp \(pid %d\) exited with status 0" % pid3,
               since=mark)
    d.wait_for(r"reloaded ", since=mark)
    assert not os.path.exists(env.lmtp)
    assert refused(p2)
    assert children(d.pid, "aviary-lmtp") == []
    assert answers(env.client)
    rc, _ = d.stop()
    assert rc == 0, d.output()


def test_lmtp_disabled_creates_nothing(env):
    """lmtp.enabled: false: no binary needed, no socket, no listener."""
    port = free_port()
    env.config(lmtp=env.lmtp_section(["127.0.0.1:%d" % port],
                                     enabled=False))
    d = env.start()
    d.wait_for(r"aviaryd: ready \(1 service\)")
    assert not os.path.exists(env.lmtp)
    assert refused(port)
    assert children(d.pid, "aviary-lmtp") == []
    assert "aviary-lmtp" not in d.output()
    rc, _ = d.stop()
    assert rc == 0


def test_lmtp_listen_in_use_at_start_exits_71(env, tmp_path):
    """A TCP address that cannot be bound is a system error, not a
    configuration error: exit 71, and nothing is left behind."""
    libexec = fake_service(str(tmp_path / "libexec"), "", "aviary-lmtp")
    fake_service(libexec, "", "aviary-auth")
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        spec = "127.0.0.1:%d" % other.getsockname()[1]
        cfg = env.config(extra="aviaryd:\n  libexec_dir: %s\n" % libexec,
                         lmtp=env.lmtp_section([spec]))
        r = subprocess.run([AVIARYD, "-F", "-c", cfg], capture_output=True,
                           text=True, timeout=30, env=avstack.admin_env())
    assert r.returncode == 71, (r.returncode, r.stderr)
    assert "fatal: lmtp.listen: %s: Address already in use" % spec in \
        r.stderr, r.stderr
    assert not os.path.exists(env.lmtp) and not os.path.exists(env.client)


@pytest.mark.parametrize("spec,want", [
    ("nonsense", "expected address:port"),
    ("127.0.0.1", "expected address:port"),
    ("127.0.0.1:", "no port"),
    ("127.0.0.1:99999", "port must be a number from 1 to 65535"),
    ("127.0.0.1:0", "port must be a number from 1 to 65535"),
    ("127.0.0.1:lmtp", "port must be a number from 1 to 65535"),
    ("localhost:24", "is not a numeric IP address"),
    ("::1:24", "an IPv6 address goes in brackets"),
    ("[::1]24", "expected [IPv6 address]:port"),
    ("dup", "is listed twice"),
    ("samedup", "is the same address as"),
])
def test_lmtp_listen_errors_exit_78(env, tmp_path, spec, want):
    port = free_port()
    libexec = fake_service(str(tmp_path / "libexec"), "", "aviary-lmtp")
    fake_service(libexec, "", "aviary-auth")
    if spec == "dup":
        listen = ["127.0.0.1:%d" % port] * 2
        spec = listen[0]
    elif spec == "samedup":
        listen = ["127.0.0.1:%d" % port, "127.0.0.1:0%d" % port]
        spec = listen[1]
    else:
        listen = ["127.0.0.1:%d" % port, spec]
    cfg = env.config(extra="aviaryd:\n  libexec_dir: %s\n" % libexec,
                     lmtp=env.lmtp_section(listen))
    for args in (["--check"], ["-F"]):
        r = subprocess.run([AVIARYD, "-c", cfg] + args, capture_output=True,
                           text=True, timeout=30, env=avstack.admin_env())
        assert r.returncode == EX_CONFIG, (args, r.returncode, r.stderr)
        assert "fatal: %s: lmtp.listen: '%s'" % (cfg, spec) in r.stderr \
            and want in r.stderr, r.stderr
    assert not os.path.exists(env.lmtp) and not os.path.exists(env.client)
    assert refused(port)


def processes_running(argv):
    """Pids whose command line is exactly argv (a list of bytes)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                if f.read().split(b"\0")[:-1] == argv and alive(int(name)):
                    pids.append(int(name))
        except OSError:
            pass
    return pids


def test_daemon_mode(env):
    """Without -F: the command returns at once, the daemon runs on in a
    session of its own and serves; SIGTERM stops it and its service."""
    cfg = env.config()
    want = [AVIARYD.encode(), b"-c", cfg.encode()]
    service = []
    try:
        r = subprocess.run([AVIARYD, "-c", cfg], capture_output=True,
                           text=True, timeout=30, env=avstack.admin_env())
        assert r.returncode == 0, r.stderr
        assert r.stdout == "" and r.stderr == ""
        # Once the service answers it has exec'd: the daemon is the one
        # process left with aviaryd's command line (before its exec, a
        # service is a copy of aviaryd, command line included).
        wait_answering(env.client, READY_TIMEOUT)
        found = processes_running(want)
        assert len(found) == 1, found
        daemon = found[0]
        assert os.getsid(daemon) == daemon
        assert os.readlink("/proc/%d/cwd" % daemon) == "/"
        assert os.readlink("/proc/%d/fd/0" % daemon) == "/dev/null"
        service = children(daemon)
        assert len(service) == 1, service
        assert auth_plain(env.client, USER, PASSWORD) == "OK\t1\tuser=" + USER
        os.kill(daemon, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT + 5
        while alive(daemon) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(daemon)
        assert not any(alive(p) for p in service)
        assert not os.path.exists(env.client)
        assert not os.path.exists(env.userdb)
    finally:
        for pid in processes_running(want) + service:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
