"""Debian's Dovecot 2.3 as the oracle of the integration tests (what IMAP
clients saw before a migration), run privately: only its binaries are
used, nothing under /etc/dovecot, no system daemon, no network port.
Dovecot refuses to run as root, so when the tests run as root its mail
and its processes belong to nobody.

- Oracle: a Maildir of its own (copied from one aviary serves, or
  written from messages) with a minimal configuration; run() answers a
  script of commands with one pre-authenticated /usr/lib/dovecot/imap on
  stdin/stdout and returns the transcript, session() keeps such a
  process open for one command at a time.
- Server: a private Dovecot master with its LMTP on a UNIX socket and
  mail for any user below its directory, as nobody: start(), deliver(),
  imap() (the pre-authenticated IMAP as a given user), stop().
- run_imap(): the pre-authenticated IMAP with a configuration, a user,
  a home and a script; what both use.
- copy_maildir(), copy_tree(), chown_tree(): Maildirs copied with their
  mtimes (INTERNALDATE) and given to the mail user.
- parse_fetches(): {msgno: {item: raw value}} of the FETCH answers of a
  transcript, for comparing item by item.
- needs_imap (a skip mark for oracle tests) and require_server() (fails
  without Dovecot, skips when not root): what a missing Dovecot does.
"""
import grp
import os
import pwd
import re
import select
import shutil
import smtplib
import subprocess
import time

import pytest

DOVECOT = "/usr/sbin/dovecot"
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
HAVE_IMAP = os.access(DOVECOT_IMAP, os.X_OK)
needs_imap = pytest.mark.skipif(not HAVE_IMAP,
                                reason="dovecot-imapd is not installed")


def require_server():
    """For a Server: Debian's packages are test dependencies (a failure
    without them); the private master needs root (a skip otherwise)."""
    if not (os.path.exists(DOVECOT) and os.path.exists(DOVECOT_IMAP)):
        pytest.fail("Debian's dovecot-imapd and dovecot-lmtpd are needed "
                    "(tools/deps.sh installs them)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's private instance needs root here")


def nobody():
    return pwd.getpwnam("nobody")


def mail_owner():
    """(uid, gid) of an Oracle's mail and process: nobody when root,
    else the tests' own."""
    if os.getuid() == 0:
        pw = nobody()
        return pw.pw_uid, pw.pw_gid
    return os.getuid(), os.getgid()


# --- Maildirs ---------------------------------------------------------------

MAILDIR_STATE = ("dovecot-uidlist", "dovecot-keywords")


def chown_tree(top, uid, gid):
    for root, dirs, files in os.walk(top):
        os.chown(root, uid, gid)
        for f in files:
            os.chown(os.path.join(root, f), uid, gid)


def copy_tree(src, dst, uid, gid):
    """cp -a of a whole mail tree (folders included) over dst: contents,
    mtimes (INTERNALDATE) and the owner uid:gid."""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst, copy_function=shutil.copy2, symlinks=False)
    chown_tree(dst, uid, gid)


def copy_maildir(src, dst):
    """INBOX of the Maildir src into a new dst: the files of cur/, new/
    and tmp/ with their mtimes, dovecot-uidlist and dovecot-keywords (so
    UIDs, keywords and INTERNALDATEs agree); no subfolders."""
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(dst, d))
        s = os.path.join(src, d)
        if os.path.isdir(s):
            for name in os.listdir(s):
                shutil.copy2(os.path.join(s, name), os.path.join(dst, d, name))
    for name in MAILDIR_STATE:
        if os.path.exists(os.path.join(src, name)):
            shutil.copy2(os.path.join(src, name), os.path.join(dst, name))


def write_maildir(dst, messages, t0=1000000000):
    """Messages (bytes) into cur/ of a new Maildir dst, with mtimes t0,
    t0 + 1, ... (UIDs in list order)."""
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(dst, d))
    for i, data in enumerate(messages):
        t = t0 + i
        path = os.path.join(dst, "cur", "%d.M%dP1.oracle:2," % (t, i))
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (t, t))


# --- the pre-authenticated IMAP ----------------------------------------------

def spawn_imap(conf, user, home, uid, gid, tz=None, cwd=None):
    """/usr/lib/dovecot/imap -c conf as user (USER and HOME in its
    environment; TZ when given), as uid:gid when root; pipes on its
    stdin, stdout and stderr."""
    env = {"USER": user, "HOME": home, "PATH": "/usr/bin:/bin"}
    if tz:
        env["TZ"] = tz

    def drop():
        if os.getuid() == 0:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
    return subprocess.Popen([DOVECOT_IMAP, "-c", conf],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env,
                            preexec_fn=drop, cwd=cwd)


_LOGOUT_ANSWER = re.compile(rb"(^|\r\n)z (OK|NO|BAD) ")


def run_imap(conf, commands, user, home, uid, gid, tz=None, cwd=None,
             select_folder="INBOX", timeout=300):
    """One session of spawn_imap(): "s SELECT <select_folder>" first
    (unless None), the commands (str or bytes) tagged c0, c1, ..., then
    "z LOGOUT". (stdout, stderr) as bytes; see logged_out()."""
    script = b""
    if select_folder:
        script += b"s SELECT %s\r\n" % select_folder.encode()
    for i, c in enumerate(commands):
        script += b"c%d %s\r\n" % (i, c if isinstance(c, bytes)
                                   else c.encode())
    script += b"z LOGOUT\r\n"
    p = spawn_imap(conf, user, home, uid, gid, tz=tz, cwd=cwd)
    p.stdin.write(script)
    p.stdin.flush()
    # Dovecot hangs up when its input ends while output is pending: keep
    # stdin open until the LOGOUT answer has arrived.
    deadline = time.monotonic() + timeout
    out = b""
    while not _LOGOUT_ANSWER.search(out):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
            p.kill()
            p.communicate()
            raise subprocess.TimeoutExpired(DOVECOT_IMAP, timeout, out)
        chunk = os.read(p.stdout.fileno(), 1 << 20)
        if not chunk:
            break
        out += chunk
    p.stdin.close()
    p.stdin = None
    rest, err = p.communicate(timeout=timeout)
    return out + rest, err


def logged_out(out):
    """Whether a run_imap() transcript got to the end (LOGOUT answered
    OK): Dovecot on a pipe has been seen, once in thousands of runs, to
    end a session without writing its last answers."""
    return b"\r\nz OK " in out


class Oracle:
    """A private Dovecot IMAP on a Maildir of its own, <work>/Maildir, as
    a pre-authenticated user "oracle" (HOME <work>; TZ tz when given),
    index in memory, log on stderr. Fill the Maildir (copy_from(),
    write_messages()), then run() or session(): the first of these gives
    <work> to the mail user (when root) and writes the configuration.
    As a context manager it removes <work> at the end."""

    def __init__(self, work, tz=None):
        self.work = work
        self.maildir = os.path.join(work, "Maildir")
        self.tz = tz
        self.conf = None
        os.makedirs(work, exist_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def remove(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def copy_from(self, src):
        copy_maildir(src, self.maildir)

    def write_messages(self, messages):
        write_maildir(self.maildir, messages)

    def _ready(self):
        if self.conf:
            return
        self.uid, self.gid = mail_owner()
        if os.getuid() == 0:
            chown_tree(self.work, self.uid, self.gid)
            os.chmod(self.work, 0o755)
        self.conf = os.path.join(self.work, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("base_dir = %s/run\nstate_dir = %s/run\n"
                    "log_path = /dev/stderr\nssl = no\n"
                    "mail_location = maildir:%s:INDEX=MEMORY\n"
                    "mail_uid = %d\nmail_gid = %d\n"
                    "first_valid_uid = %d\nfirst_valid_gid = %d\n"
                    % (self.work, self.work, self.maildir, self.uid,
                       self.gid, self.uid, self.gid))

    def transcript(self, commands, select_folder="INBOX"):
        """run_imap() here: (stdout, stderr), complete or not."""
        self._ready()
        return run_imap(self.conf, commands, "oracle", self.work, self.uid,
                        self.gid, tz=self.tz, cwd=self.work,
                        select_folder=select_folder)

    def run(self, commands, select_folder="INBOX"):
        """The transcript (bytes) of one session, which must have ended
        with LOGOUT answered OK (see run_imap() for the tags)."""
        out, err = self.transcript(commands, select_folder)
        assert logged_out(out), out[-2000:] + err[-2000:]
        return out

    def session(self):
        """A Session on this Maildir."""
        return Session(self)


class Session:
    """One pre-authenticated IMAP process of an Oracle, a command at a
    time, INBOX selected: cmd() returns (the tagged answer after the
    tag, [untagged lines]); close() logs out and ends the process."""

    def __init__(self, oracle, select_folder="INBOX"):
        oracle._ready()
        self.p = spawn_imap(oracle.conf, "oracle", oracle.work, oracle.uid,
                            oracle.gid, tz=oracle.tz, cwd=oracle.work)
        self.buf = b""
        self.n = 0
        assert self._line().startswith(b"* PREAUTH")
        if select_folder:
            status, _ = self.cmd(b"SELECT " + select_folder.encode())
            assert status.startswith(b"OK"), status

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, text):
        self.n += 1
        tag = b"d%d" % self.n
        self.p.stdin.write(tag + b" " + text + b"\r\n")
        self.p.stdin.flush()
        untagged = []
        while True:
            line = self._line()
            if line.startswith(tag + b" "):
                return line[len(tag) + 1:], untagged
            untagged.append(line)

    def close(self):
        try:
            self.cmd(b"LOGOUT")
        except Exception:
            pass
        self.p.stdin.close()
        self.p.kill()
        self.p.wait()


# --- a private Dovecot master with LMTP --------------------------------------

SERVER_CONF = """base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = lmtp
ssl = no
listen = 127.0.0.1
mail_location = maildir:{d}/mail/%d/%n
mail_uid = nobody
mail_gid = {group}
first_valid_uid = 1
default_internal_user = nobody
default_internal_group = {group}
default_login_user = nobody
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid=nobody gid={group} home={d}/mail/%d/%n
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Server:
    """Dovecot's master from base/dovecot.conf (SERVER_CONF): LMTP on the
    UNIX socket base/run/lmtp only, any user accepted (static passdb and
    userdb), mail of user@domain in base/mail/domain/user, owned by
    nobody. base must be a directory nobody can enter. See
    require_server()."""

    def __init__(self, base):
        self.d = base
        for sub in ("run", "state", "mail"):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
        pw = nobody()
        os.chown(os.path.join(base, "mail"), pw.pw_uid, pw.pw_gid)
        self.conf = os.path.join(base, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(SERVER_CONF.format(
                d=base, group=grp.getgrgid(pw.pw_gid).gr_name))

    def start(self):
        subprocess.run([DOVECOT, "-c", self.conf], check=True)
        sock = os.path.join(self.d, "run", "lmtp")
        deadline = time.monotonic() + 20
        while not os.path.exists(sock):
            assert time.monotonic() < deadline, "Dovecot LMTP not up"
            time.sleep(0.05)

    def stop(self):
        subprocess.run([DOVECOT, "-c", self.conf, "stop"],
                       capture_output=True)
        pid = os.path.join(self.d, "run", "master.pid")
        deadline = time.monotonic() + 20
        while os.path.exists(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def deliver(self, addr, body):
        lmtp = smtplib.LMTP(os.path.join(self.d, "run", "lmtp"))
        lmtp.sendmail("sender@example.org", [addr], body)
        lmtp.quit()

    def home(self, addr):
        local, domain = addr.split("@")
        return os.path.join(self.d, "mail", domain, local)

    def imap(self, addr, commands):
        """The commands (SELECT included) through Dovecot's IMAP,
        pre-authenticated as addr and run as nobody; the whole
        transcript as text, which must end with LOGOUT answered OK."""
        pw = nobody()
        out, err = run_imap(self.conf, commands, addr, self.home(addr),
                            pw.pw_uid, pw.pw_gid, select_folder=None,
                            timeout=60)
        text = out.decode(errors="replace")
        assert logged_out(out), text + err.decode(errors="replace")
        return text


# --- transcripts -------------------------------------------------------------

class ImapParseError(Exception):
    pass


def _value_end(buf, i):
    """End offset of the IMAP value starting at buf[i]."""
    c = buf[i:i + 1]
    if c == b"(":
        i += 1
        while True:
            while buf[i:i + 1] == b" ":
                i += 1
            if buf[i:i + 1] == b")":
                return i + 1
            i = _value_end(buf, i)
    if c == b'"':
        i += 1
        while buf[i:i + 1] != b'"':
            if buf[i:i + 1] == b"\\":
                i += 1
            if i >= len(buf):
                raise ImapParseError("unterminated string")
            i += 1
        return i + 1
    if c == b"{":
        m = re.compile(rb"\{(\d+)\}\r\n").match(buf, i)
        if not m:
            raise ImapParseError("bad literal at %d" % i)
        return m.end() + int(m.group(1))
    j = i
    while j < len(buf) and buf[j:j + 1] not in (b" ", b")", b"\r"):
        j += 1
    if j == i:
        raise ImapParseError("empty atom at %d" % i)
    return j


def _item_name_end(buf, i):
    j = i
    while j < len(buf) and buf[j:j + 1] != b" ":
        if buf[j:j + 1] == b"[":
            j = buf.index(b"]", j)
        j += 1
    return j


def parse_fetches(out):
    """{msgno: {item name: raw value bytes}} from IMAP output."""
    res = {}
    for m in re.finditer(rb"(?:^|\r\n)\* (\d+) FETCH \(", out):
        num = int(m.group(1))
        i = m.end()
        items = res.setdefault(num, {})
        while out[i:i + 1] != b")":
            j = _item_name_end(out, i)
            name = out[i:j].decode()
            k = _value_end(out, j + 1)
            items[name] = out[j + 1:k]
            i = k
            if out[i:i + 1] == b" ":
                i += 1
        if out[i:i + 3] != b")\r\n":
            raise ImapParseError("bad FETCH end for %d" % num)
    return res
