"""`make run` (tools/devstack.py): comes up, creates a working demo
mailbox, stops cleanly on SIGTERM leaving no server behind, and a second
run reuses its var directory."""
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from avhelpers import EX_NOPERM, assert_fail, assert_ok, jsonout
from avstack import MARIADB, PYTHON, REPO, admin_env, run_admin, short_tmpdir

READY_TIMEOUT = 90
STOP_TIMEOUT = 30


def child_pids(ppid):
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, split after ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
            pids.append(int(name))
    return pids


def mariadbd_pids(datadir):
    """Processes whose command line has --datadir=DATADIR."""
    want = b"--datadir=" + os.fsencode(datadir)
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if want in args:
            pids.append(int(name))
    return pids


def default_env():
    env = admin_env()
    env.pop("AVIARY_DEMO_PASSWORD", None)
    return env


class Devstack:
    """tools/devstack.py run, its output collected by a thread."""

    def __init__(self, build, var, env=None):
        self.var = var
        self.lines = []
        self.known = set()
        self.q = queue.Queue()
        self.proc = subprocess.Popen(
            [PYTHON, "tools/devstack.py", "run", "--build", build, "--var", var],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=env or default_env(),
            start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self.q.put(line)
        self.q.put(None)

    def output(self):
        return "\n".join(self.lines)

    def wait_for(self, text, timeout):
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                pytest.fail("no %r within %ds; output:\n%s" % (
                    text, timeout, self.output()))
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail("devstack exited (%s) before %r; output:\n%s" % (
                    self.proc.wait(), text, self.output()))
            self.servers()
            if line.rstrip("\n") == text:
                return

    def password(self):
        for line in self.lines:
            m = re.search(r"demo@example\.test\s+password: (\S+)$", line)
            if m:
                return m.group(1)
        pytest.fail("no demo password in:\n" + self.output())

    def stop(self):
        """SIGTERM; the exit status, within STOP_TIMEOUT."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail("devstack still running %ds after SIGTERM:\n%s" % (
                STOP_TIMEOUT, self.output()))
        self.reader.join(5)
        return rc

    def servers(self):
        """Our mariadbd (children of the devstack process), remembered:
        once the devstack is gone they are nobody's children."""
        if self.proc.poll() is None:
            for pid in child_pids(self.proc.pid):
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        if b"mariadbd" in f.read().split(b"\0")[0]:
                            self.known.add(pid)
                except OSError:
                    pass
        return self.known

    def kill(self):
        """Whatever happened: nothing of ours may survive the test. Only
        our own processes, by pid (another stack may share the datadir)."""
        pids = set(self.servers())
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        deadline = time.time() + STOP_TIMEOUT
        while time.time() < deadline and any(alive(p) for p in pids):
            time.sleep(0.1)      # PR_SET_PDEATHSIG sends it SIGTERM
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid):
    """Running (not a zombie) and still a mariadbd."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return "(mariadbd)" in stat and stat.rsplit(")", 1)[1].split()[0] != "Z"


def socket_of(var):
    """The MariaDB socket, from the generated aviary.yaml (it need not be
    below var: aviarydev puts it in a public directory when var is
    private)."""
    with open(os.path.join(var, "aviary.yaml")) as f:
        m = re.search(r'^  hosts: \["unix:([^"]+)"\]', f.read(), re.M)
    assert m, "no unix socket in %s/aviary.yaml" % var
    return m.group(1)


def root_sql(var, sql):
    r = subprocess.run([MARIADB, "--no-defaults", "-uroot",
                        "--socket=" + socket_of(var),
                        "--batch", "--skip-column-names", "aviary"],
                       input=sql, text=True, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def demo_hash(var):
    out = root_sql(var, "SELECT m.password FROM mailboxes m JOIN domains d "
                        "ON d.id = m.domain_id WHERE m.local_part = 'demo' "
                        "AND d.name = 'example.test';\n")
    lines = out.splitlines()
    assert len(lines) == 1, out
    return lines[0]


def verify(hash_, password):
    return run_admin(None, "pw", "--verify", hash_, "--password-stdin",
                     input=password + "\n")


def check_imap(var, password):
    """IMAP on 10143 (STARTTLS) and IMAPS on 10993: see mail delivered
    over LMTP, file it into a folder, be told of new mail while idling."""
    import imaplib
    import smtplib
    import ssl
    ctx = ssl.create_default_context(cafile=os.path.join(var, "tls",
                                                         "cert.pem"))
    m = imaplib.IMAP4("127.0.0.1", 10143, timeout=30)
    m.starttls(ctx)
    m.login("demo@example.test", password)
    with smtplib.LMTP("127.0.0.1", 10024) as lmtp:
        lmtp.sendmail("someone@example.org", ["demo@example.test"],
                      b"Subject: imap check\r\n\r\nfor IMAP\r\n")
    typ, data = m.select("INBOX")
    n = int(data[0])
    assert n >= 1
    typ, data = m.fetch(str(n), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"imap check" in data[0][1]
    typ, data = m.copy(str(n), "Archive")
    assert typ == "OK" and b"COPYUID" in data[0]
    m.logout()
    m = imaplib.IMAP4_SSL("127.0.0.1", 10993, ssl_context=ctx, timeout=30)
    m.login("demo@example.test", password)
    m.select("INBOX")
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+ ")
    with smtplib.LMTP("127.0.0.1", 10024) as lmtp:
        lmtp.sendmail("someone@example.org", ["demo@example.test"],
                      b"Subject: pushed\r\n\r\nnew\r\n")
    assert m.readline().endswith(b"EXISTS\r\n")
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag + b" OK"):
        pass
    m.logout()


def check_pop3(var, password):
    """Mail delivered over LMTP on 10024 is read over POP3 (10110, with
    STLS) and POP3S (10995) with poplib, and by fetchmail on 10995 with
    the certificate `make run` generated in var/tls/."""
    import poplib
    import smtplib
    import ssl
    with smtplib.LMTP("127.0.0.1", 10024) as lmtp:
        lmtp.sendmail("someone@example.org", ["demo@example.test"],
                      b"Subject: make run\r\n\r\nhello from the dev stack\r\n")
    ctx = ssl.create_default_context(cafile=os.path.join(var, "tls",
                                                         "cert.pem"))
    p = poplib.POP3("127.0.0.1", 10110, timeout=30)
    p.stls(ctx)
    p.user("demo@example.test")
    p.pass_(password)
    n = p.stat()[0]
    assert n >= 1
    assert b"hello from the dev stack" in b"\n".join(p.retr(n)[1])
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", 10995, context=ctx, timeout=30)
    p.user("demo@example.test")
    p.pass_(password)
    assert p.stat()[0] == n
    p.quit()
    home = os.path.join(var, "fetchmail")
    os.makedirs(home, exist_ok=True)
    rc = os.path.join(home, "fetchmailrc")
    with open(rc, "w") as f:
        f.write('poll localhost service 10995 protocol pop3 auth password\n'
                '  user "demo@example.test" there with password "%s" '
                'is "root" here\n  ssl sslcertck sslcertfile "%s" '
                'fetchall keep\n' % (password, os.path.join(var, "tls",
                                                            "cert.pem")))
    os.chmod(rc, 0o600)
    out = os.path.join(home, "out.bsmtp")
    r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "--nosyslog",
                        "--bsmtp", out, "--idfile",
                        os.path.join(home, "ids")],
                       env=dict(os.environ, HOME=home), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(out) as f:
        assert "hello from the dev stack" in f.read()
    shutil.rmtree(home)


def run_once(build, var, env=None):
    """Start, check the demo mailbox, stop. Returns the demo password and
    its stored hash."""
    ds = Devstack(build, var, env)
    try:
        ds.wait_for("aviary: ready", READY_TIMEOUT)
        password = ds.password()
        config = os.path.join(var, "aviary.yaml")
        js = jsonout(run_admin(config, "mailbox", "show", "demo@example.test",
                               "--json"))
        assert js["address"] == "demo@example.test" and js["active"] is True
        h = demo_hash(var)
        assert h.startswith("{SHA512-CRYPT}$6$")
        assert assert_ok(verify(h, password)).stdout == "verified\n"
        assert mariadbd_pids(os.path.join(var, "mysql"))
        assert_ok(run_admin(config, "domain", "add", "persist.test"))
        check_imap(var, password)
        check_pop3(var, password)

        rc = ds.stop()
        assert rc == 0, ds.output()
        assert ds.lines[-1] == "aviary: stopped", ds.output()
        assert mariadbd_pids(os.path.join(var, "mysql")) == []
        return password, h
    finally:
        ds.kill()


def test_devstack_run_stop_and_rerun(tmp_path_factory, build):
    var = os.path.join(short_tmpdir(tmp_path_factory, "devstack"), "var")

    first, first_hash = run_once(build, var)
    assert len(first) >= 8
    with open(os.path.join(var, "secrets", "demo.pass")) as f:
        assert f.read().strip() == first
    assert os.stat(os.path.join(var, "secrets", "demo.pass")).st_mode & 0o077 == 0

    # Again, on the same var directory, with a chosen demo password.
    env = admin_env(AVIARY_DEMO_PASSWORD="some-pass")
    ds = Devstack(build, var, env)
    try:
        ds.wait_for("aviary: ready", READY_TIMEOUT)
        assert ds.password() == "some-pass"
        config = os.path.join(var, "aviary.yaml")
        # The first run's data is still there.
        assert_ok(run_admin(config, "domain", "show", "persist.test"))
        h = demo_hash(var)
        assert h != first_hash
        assert_ok(verify(h, "some-pass"))
        assert_fail(verify(h, first), EX_NOPERM)
        rc = ds.stop()
        assert rc == 0, ds.output()
        assert mariadbd_pids(os.path.join(var, "mysql")) == []
    finally:
        ds.kill()
    with open(os.path.join(var, "secrets", "demo.pass")) as f:
        assert f.read().strip() == "some-pass"


def test_devstack_second_run_keeps_the_first(build):
    # A var directory that others can traverse, as ./var in a checkout
    # usually is: the socket then lives below var itself (aviarydev
    # moves it to a fresh /tmp directory only for private ones).
    base = tempfile.mkdtemp(prefix="av-devstack-", dir="/tmp")
    os.chmod(base, 0o755)
    var = os.path.join(base, "var")
    config = os.path.join(var, "aviary.yaml")
    first = Devstack(build, var)
    second = None
    try:
        first.wait_for("aviary: ready", READY_TIMEOUT)
        assert_ok(run_admin(config, "domain", "list"))
        sock = socket_of(var)
        second = Devstack(build, var)
        deadline = time.time() + 5
        while time.time() < deadline and second.proc.poll() is None and \
                os.path.exists(sock):
            time.sleep(0.05)
        # Whatever the second one does, the first stack keeps working.
        assert os.path.exists(sock)
        assert_ok(run_admin(config, "domain", "list"))
    finally:
        if second is not None:
            # Its server waits for the first one's InnoDB lock and takes
            # its time over SIGTERM: it never got to run, so kill it.
            for pid in second.servers():
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
            if second.proc.poll() is None:
                second.proc.send_signal(signal.SIGTERM)
                try:
                    second.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    pass
            second.kill()
        if first.proc.poll() is None:
            first.proc.send_signal(signal.SIGTERM)
            try:
                first.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        first.kill()
        shutil.rmtree(base, ignore_errors=True)
