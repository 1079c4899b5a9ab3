"""What the benchmarks share: the repository's tools on the path, free
loopback ports, bench/lmtp's message-size mix, and a socket client that
reads lines and byte counts fast enough not to be what is measured."""
import math
import os
import socket
import ssl
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import aviarydev  # noqa: E402,F401


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def message_size(rnd):
    """2 KB to 200 KB, median about 8 KB (log-normal, as bench/lmtp)."""
    return int(min(200_000, max(2_000, rnd.lognormvariate(math.log(8000),
                                                           0.9))))


class LineSocket:
    """A client connection (TLS if asked, certificate not checked) that
    reads CRLF lines and exact byte counts from a large buffer."""

    def __init__(self, port, tls=False, timeout=300):
        s = socket.create_connection(("127.0.0.1", port), timeout)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        self.s = s
        self.buf = b""

    def more(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 2:]
                return out
            self.more()

    def skip(self, n):
        """Drop the next n bytes (a literal)."""
        while len(self.buf) < n:
            self.more()
        self.buf = self.buf[n:]
