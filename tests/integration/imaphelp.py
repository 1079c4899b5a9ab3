"""aviary-imap for the integration tests: the platform of pop3help.py
with aviary-imap running too (Platform(..., imap=True)), and clients:

- IMAPPlatform: that platform; a module fixture is `yield from
  IMAPPlatform.running(tmp_path_factory, build, "name")` (pop3help's
  Platform.running(): started, stopped after, checked for sanitizer
  reports). A subclass may set tz: aviaryd and its services then run
  with TZ set to it (INTERNALDATE offsets, SEARCH days).
- imap(), imaps(), login(): imaplib connections (plain, implicit TLS,
  logged in); remote=True connects from 127.0.0.2, which the test
  configuration does not count as local (LOGINDISABLED before TLS).
- Raw: a line-level client for exact bytes, pipelining, literals and
  bad input.
- uids_by_file(): what dovecot-uidlist says, {file: UID}.
"""
import imaplib
import os
import socket

from pop3help import (DOMAIN, REMOTE_IP, LineClient, Platform,  # noqa: F401
                      free_port, tls_context)

__all__ = ["Platform", "IMAPPlatform", "RemoteIMAP", "Raw", "REMOTE_IP",
           "DOMAIN", "tls_context", "free_port", "uids_by_file"]


class RemoteIMAP(imaplib.IMAP4):
    """imaplib from 127.0.0.2."""

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(REMOTE_IP, 0))


class IMAPPlatform(Platform):
    tz = None       # TZ of aviaryd and its services, when set

    def __init__(self, base, build):
        super().__init__(base, build, imap=True)

    def start(self):
        if self.tz is None:
            return super().start()
        # Platform.start() hands its environment to aviaryd
        old = os.environ.get("TZ")
        os.environ["TZ"] = self.tz
        try:
            super().start()
        finally:
            if old is None:
                os.environ.pop("TZ", None)
            else:
                os.environ["TZ"] = old

    def imap(self, remote=False, timeout=30):
        if remote:
            return RemoteIMAP(REMOTE_IP, self.imap_remote_port,
                              timeout=timeout)
        return imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=timeout)

    def imaps(self, timeout=30):
        return imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port,
                                 ssl_context=tls_context(), timeout=timeout)

    def login(self, addr, password, **kw):
        m = self.imap(**kw)
        m.login(addr, password)
        return m

    def raw(self, remote=False):
        if remote:
            return Raw(REMOTE_IP, self.imap_remote_port, source=REMOTE_IP)
        return Raw("127.0.0.1", self.imap_port)


class Raw(LineClient):
    """A line-level IMAP client on a plain socket."""

    def cmd(self, text, tag=b"a"):
        """Send 'tag text' and return (untagged lines, tagged line)."""
        if isinstance(text, str):
            text = text.encode()
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                return lines, line
            lines.append(line)

    def login(self, addr, password):
        _, r = self.cmd('LOGIN "%s" "%s"' % (addr, password))
        assert r.startswith(b"a OK"), r
        return r


def uids_by_file(home):
    """{file base name (before ":"): UID} from the dovecot-uidlist of the
    Maildir home, in the file's order."""
    with open(os.path.join(home, "dovecot-uidlist")) as f:
        lines = f.read().splitlines()
    out = {}
    for line in lines[1:]:
        if " :" in line:
            left, name = line.split(" :", 1)
            out[name.strip().split(":")[0]] = int(left.split()[0])
    return out
