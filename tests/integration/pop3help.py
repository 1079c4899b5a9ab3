"""aviary-pop3 for the integration tests: a whole platform (aviaryd with
aviary-auth, aviary-lmtp and aviary-pop3, and aviary-imap when asked) on
a private MariaDB, and small clients.

- Platform: the stack, aviaryd in the foreground with its log in a file
  (checked for sanitizer reports when it stops), LMTP and POP3 on free
  loopback ports. login.local_networks is 127.0.0.1/32 only, and POP3
  also listens on 127.0.0.2, so a client bound to 127.0.0.2 is "remote":
  plaintext logins need TLS there. Platform.running() is the body of a
  module fixture: `yield from Platform.running(tmp_path_factory, build,
  "pop3")` (a subclass calls it on itself).
- mailbox(): a fresh mailbox with a known password.
- deliver(): a message through LMTP.
- Raw: a POP3 client on a raw socket, for what poplib hides (exact
  bytes, pipelining, bad input, dropping the connection); LineClient is
  its line-level base, which imaphelp.Raw shares.
"""
import os
import poplib
import secrets
import smtplib
import socket
import ssl
import subprocess
import time

import avstack
import aviarydev

REMOTE_IP = "127.0.0.2"
DOMAIN = "example.test"


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


class Platform:
    """imap=True also runs aviary-imap (imaphelp.py has its clients)."""

    def __init__(self, base, build, imap=False):
        self.lmtp_port = free_port()
        self.pop3_port = free_port()
        self.pop3s_port = free_port()
        self.remote_port = free_port(REMOTE_IP)
        imap_listen, imaps_listen = [], []
        if imap:
            self.imap_port = free_port()
            self.imaps_port = free_port()
            self.imap_remote_port = free_port(REMOTE_IP)
            imap_listen = ["127.0.0.1:%d" % self.imap_port,
                           "%s:%d" % (REMOTE_IP, self.imap_remote_port)]
            imaps_listen = ["127.0.0.1:%d" % self.imaps_port]
        self.stack = aviarydev.Stack(
            base, build,
            lmtp_listen=["127.0.0.1:%d" % self.lmtp_port],
            pop3_listen=["127.0.0.1:%d" % self.pop3_port,
                         "%s:%d" % (REMOTE_IP, self.remote_port)],
            pop3s_listen=["127.0.0.1:%d" % self.pop3s_port],
            imap_listen=imap_listen, imaps_listen=imaps_listen)
        self.ports = [("127.0.0.1", self.lmtp_port),
                      ("127.0.0.1", self.pop3_port),
                      ("127.0.0.1", self.pop3s_port),
                      (REMOTE_IP, self.remote_port)]
        if imap:
            self.ports += [("127.0.0.1", self.imap_port),
                           ("127.0.0.1", self.imaps_port),
                           (REMOTE_IP, self.imap_remote_port)]
        self.log_path = os.path.join(self.stack.base, "aviaryd.log")
        self.proc = None

    @classmethod
    def running(cls, tmp_path_factory, build, name, **kw):
        """A generator for a module fixture: the platform (cls) in a new
        directory of pytest's named after name, started; stopped after
        the module, when aviaryd's log must hold no sanitizer report."""
        p = cls(avstack.short_tmpdir(tmp_path_factory, name), build, **kw)
        try:
            p.start()
            yield p
        finally:
            p.stop()
        reports = p.sanitizer_reports()
        assert reports == [], "sanitizer reports in aviaryd's log:\n" + \
            "\n".join(reports)

    def config(self, **kw):
        kw.setdefault("login_extra", '  local_networks: ["127.0.0.1/32"]\n')
        self.stack.write_config(**kw)

    def start(self):
        self.stack.up()
        self.config()
        env = dict(os.environ)
        env.pop("AVIARY_CONFIG", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [os.path.join(self.stack.build, "aviaryd"), "-F", "-c",
                 self.stack.config], stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, env=env, preexec_fn=aviarydev.die_with_parent)
        deadline = time.monotonic() + 30
        for host, port in self.ports:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("aviaryd exited:\n" + self.log()[-3000:])
                try:
                    socket.create_connection((host, port), 1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("%s:%d does not answer:\n" %
                                           (host, port) +
                                           self.log()[-3000:])
                    time.sleep(0.05)
        # The auth sockets too (aviaryd starts the services together).
        for path in (self.stack.auth_client_socket,
                     self.stack.auth_userdb_socket):
            while not os.path.exists(path):
                if time.monotonic() > deadline:
                    raise RuntimeError("aviary-auth does not answer")
                time.sleep(0.05)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        try:
            if self.proc is not None:
                aviarydev.stop_process(self.proc)
        finally:
            avstack.stop_stack(self.stack)

    def sanitizer_reports(self):
        return [line for line in self.log().splitlines()
                if any(m in line for m in SANITIZER_MARKS)]

    # --- mailboxes and mail ---

    def mailbox(self, local=None, quota=None, spaces=True):
        """A new mailbox: (address, password). The password has a space
        in it unless spaces=False (for clients that cannot quote)."""
        local = local or "u" + secrets.token_hex(4)
        addr = "%s@%s" % (local, DOMAIN)
        password = ("pw " if spaces else "pw") + secrets.token_hex(9)
        r = avstack.run_admin(self.stack.config, "domain", "show", DOMAIN)
        if r.returncode == 67:
            avstack.run_admin(self.stack.config, "domain", "add", DOMAIN)
        args = ["mailbox", "add", addr, "--password-stdin"]
        if quota:
            args += ["--quota", quota]
        r = avstack.run_admin(self.stack.config, *args, input=password + "\n")
        assert r.returncode == 0, r.stderr
        return addr, password

    def home(self, addr):
        local, domain = addr.split("@")
        return os.path.join(self.stack.mailroot, domain, local)

    def deliver(self, addr, body):
        """body: bytes of the message (CRLF line ends, as SMTP sends)."""
        with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
            lmtp.sendmail("sender@example.org", [addr], body)

    def files(self, addr):
        """{base name: (dir, flags)} of INBOX."""
        out = {}
        home = self.home(addr)
        for d in ("new", "cur"):
            p = os.path.join(home, d)
            if not os.path.isdir(p):
                continue
            for name in os.listdir(p):
                base, _, info = name.partition(":")
                out[base] = (d, info[2:] if info.startswith("2,") else "")
        return out

    # --- clients ---

    def pop3(self, remote=False, timeout=30):
        if remote:
            return RemotePOP3(REMOTE_IP, self.remote_port, timeout=timeout)
        return poplib.POP3("127.0.0.1", self.pop3_port, timeout=timeout)

    def pop3s(self, timeout=30):
        return poplib.POP3_SSL("127.0.0.1", self.pop3s_port,
                               context=tls_context(), timeout=timeout)

    def login(self, addr, password, **kw):
        p = self.pop3(**kw)
        p.user(addr)
        p.pass_(password)
        return p

    def raw(self, remote=False):
        if remote:
            return Raw(REMOTE_IP, self.remote_port, source=REMOTE_IP)
        return Raw("127.0.0.1", self.pop3_port)


class RemotePOP3(poplib.POP3):
    """poplib from 127.0.0.2, which the test configuration does not count
    as local."""

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(REMOTE_IP, 0))


class LineClient:
    """A client on a plain socket (from source when given) that reads
    CRLF lines; its first line is the greeting."""

    def __init__(self, host, port, source=None, timeout=30):
        self.sock = socket.create_connection(
            (host, port), timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def close(self):
        self.sock.close()


class Raw(LineClient):
    """A line-level POP3 client on a plain socket."""

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.line()

    def multi(self):
        """The lines of a multi-line answer up to the '.', still
        byte-stuffed, each without CRLF."""
        lines = []
        while True:
            line = self.line()
            if line == b".":
                return lines
            lines.append(line)

    def raw_multi(self):
        """The exact bytes of a multi-line answer, through the final
        '.CRLF' (which is included)."""
        while True:
            i = self.buf.find(b"\r\n.\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i + 5], self.buf[i + 5:]
                return out
            if self.buf.startswith(b".\r\n"):
                out, self.buf = self.buf[:3], self.buf[3:]
                return out
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed in a multi-line answer")
            self.buf += chunk

    def login(self, addr, password):
        assert self.cmd("USER " + addr).startswith(b"+OK")
        r = self.cmd("PASS " + password)
        assert r.startswith(b"+OK"), r
        return r


def unstuff(raw):
    """The bytes a multi-line answer carries, its last CRLF included:
    without the final '.CRLF' and the dot-stuffing."""
    assert raw.endswith(b"\r\n.\r\n") or raw == b".\r\n"
    lines = raw[:-3].split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b".") else line
                         for line in lines)
