"""aviary-lmtp for the integration tests.

- lmtp_config(): an aviary.yaml for one aviary-lmtp instance (its own
  LMTP socket, its own lmtp: settings, the userdb socket of a running
  aviary-auth), written next to the stack's own configuration.
- AviaryLmtp: <build>/aviary-lmtp -c <config> as a child of the tests,
  like postfix.AviaryAuth: its stderr (the log) kept in a file, started
  once the socket accepts and greets with 220, stopped by pid, its log
  checked for AddressSanitizer/UBSan reports.
- Raw: a small LMTP client on a raw socket, for what smtplib.LMTP cannot
  do (one reply per recipient after DATA, pipelining, bad input).
- Maildir helpers: what a delivered file must contain, file names.

aviary-lmtp needs aviary-auth's userdb socket for RCPT; it binds
lmtp.socket (and lmtp.listen) itself when started by hand.
"""
import os
import re
import signal
import socket
import time

from postfix import ServiceProcess

DOMAIN = "example.test"

# "<unique>,S=<size>,W=<vsize>" (maildir.h), no info part in new/.
NAME_RE = re.compile(r"^([^,:/]+),S=(\d+),W=(\d+)$")


def _replace_once(text, old, new):
    assert text.count(old) == 1, "expected %r once in the config" % old
    return text.replace(old, new)


def lmtp_config(stack, name, userdb_socket, lmtp_extra="", listen=()):
    """Write <base>/<name>.yaml: the stack's configuration with
    lmtp_extra (lines indented two spaces) in its lmtp section, the LMTP
    socket <run>/<name>, the TCP listeners 'listen' ("host:port") and
    auth.userdb_socket = userdb_socket (where aviary-lmtp looks users
    up). The stack's own aviary.yaml is left as it was. Returns (config
    path, LMTP socket path)."""
    with open(stack.config) as f:
        saved = f.read()
    old_listen = stack.lmtp_listen
    stack.lmtp_listen = list(listen)
    try:
        stack.write_config(lmtp_extra=lmtp_extra)
        with open(stack.config) as f:
            text = f.read()
    finally:
        stack.lmtp_listen = old_listen
        with open(stack.config, "w") as f:
            f.write(saved)
    run = stack.db.rundir
    sock = os.path.join(run, name)
    text = _replace_once(text, "path: %s/lmtp\n" % run, "path: %s\n" % sock)
    text = _replace_once(text, "path: %s/auth-userdb\n" % run,
                         "path: %s\n" % userdb_socket)
    path = os.path.join(stack.base, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path, sock


class AviaryLmtp(ServiceProcess):
    """aviary-lmtp; ready when a new connection gets its 220 greeting."""

    binary_name = "aviary-lmtp"

    def __init__(self, build, config, socket_path, log_path):
        super().__init__(build, config, log_path)
        self.socket_path = socket_path

    def where(self):
        return self.socket_path

    def ready(self):
        return self.greets()

    def greets(self):
        """A new connection gets a 220 greeting (then we QUIT)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(self.socket_path)
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        return False
                    data += chunk
                if not data.startswith(b"220 "):
                    return False
                s.sendall(b"QUIT\r\n")
                try:
                    while s.recv(4096):
                        pass
                except OSError:
                    pass
                return True
        except OSError:
            return False

    def kill(self):
        """SIGKILL, by pid, and reap."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)


class Closed(Exception):
    """The server closed the connection."""


class Raw:
    """LMTP on a raw socket: addr is a unix socket path or (host, port).
    reply() reads one (possibly multi-line) reply and returns
    (code, [text of each line])."""

    def __init__(self, addr, timeout=30, greet=True):
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(addr)
        else:
            self.sock = socket.create_connection(addr, timeout=timeout)
        self.buf = b""
        if greet:
            code, lines = self.reply()
            assert code == 220, lines

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise Closed(self.buf)
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self):
        texts = []
        while True:
            line = self.line()
            assert re.match(r"^[2-5]\d\d([ -]|$)", line), "bad reply %r" % line
            texts.append(line[4:])
            if len(line) == 3 or line[3] == " ":
                return int(line[:3]), texts

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def closed(self, timeout=10):
        """True when the server closes without sending anything more."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return self.buf == b""
                self.buf += chunk
        except ConnectionResetError:
            return self.buf == b""
        except socket.timeout:
            return False


def stuff(body):
    """The DATA stream for a body with CRLF line ends: dots doubled at
    the start of each line (RFC 5321 4.5.2), then CRLF.CRLF."""
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", body) + b".\r\n"


def stored(body):
    """What the server stores for a body sent with stuff(body): CRLF
    turned into LF (a bare CR stays)."""
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body.replace(b"\r\n", b"\n")


def vsize(data):
    """RFC 822 size of a stored file: an LF not preceded by CR counts
    as CRLF (maildir.h: W= counts every LF as CRLF; an LF after a bare
    CR is one line end already, as in Dovecot)."""
    return len(data) + len(re.findall(rb"(?<!\r)\n", data))


def home(stack, addr):
    local, domain = addr.lower().split("@")
    return os.path.join(stack.mailroot, domain, local)


def maildir_files(stack, addr, folder=None, sub="new"):
    """Names in <home>[/.<folder>]/<sub>/ (sorted), [] if missing."""
    d = home(stack, addr)
    if folder:
        d = os.path.join(d, "." + folder)
    d = os.path.join(d, sub)
    try:
        return sorted(os.listdir(d))
    except FileNotFoundError:
        return []


def read_new(stack, addr, folder=None):
    """[(name, bytes, stat)] of the files in new/."""
    d = home(stack, addr)
    if folder:
        d = os.path.join(d, "." + folder)
    d = os.path.join(d, "new")
    out = []
    for name in maildir_files(stack, addr, folder):
        p = os.path.join(d, name)
        with open(p, "rb") as f:
            out.append((name, f.read(), os.stat(p)))
    return out


def wait_for(pred, timeout, step=0.1):
    """Poll pred() until it returns something true; return that, or the
    last value after 'timeout' s."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)
