"""Aviary development and test stack: a private MariaDB server and the
set-up that `make run` and the integration tests share.

Everything lives below one directory (./var for `make run`, a temporary
directory for a test): the MariaDB datadir and unix socket, the
generated aviary.yaml, the secret files (mode 0600) and the mail tree.
Nothing touches the system's MariaDB. Passwords travel on standard
input or in 0600 files, never on a command line.
"""
import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
CLIENT = "/usr/bin/mariadb"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig=signal.SIGTERM):
    """Ask the kernel to signal us when our parent dies, so that a killed
    `make run` or test runner never leaves a server behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except OSError:
        pass


def write_secret(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)


def read_secret(path):
    with open(path) as f:
        return f.readline().rstrip("\r\n")


def sql_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def traversable_by_others(path):
    """True when every directory from / down to path lets other users
    through (the x bit for others), so that unprivileged services (the
    auth service as 'nobody', Postfix's smtpd) can reach sockets there."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except FileNotFoundError:
            pass
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


class MariaDB:
    """A mariadbd of our own: datadir below 'base', socket in 'rundir'
    (default base/run)."""

    def __init__(self, base, rundir=None):
        self.base = os.path.abspath(base)
        self.datadir = os.path.join(self.base, "mysql")
        self.rundir = rundir or os.path.join(self.base, "run")
        self.logdir = os.path.join(self.base, "log")
        self.socket = os.path.join(self.rundir, "mysqld.sock")
        self.pidfile = os.path.join(self.rundir, "mysqld.pid")
        self.log = os.path.join(self.logdir, "mariadb.log")
        self.proc = None

    def _server_args(self):
        args = [MARIADBD, "--no-defaults",
                "--datadir=" + self.datadir,
                "--socket=" + self.socket,
                "--pid-file=" + self.pidfile,
                "--log-error=" + self.log,
                "--skip-networking",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=2",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci"]
        if os.geteuid() == 0:
            args.append("--user=root")
        return args

    def initialized(self):
        return os.path.isdir(os.path.join(self.datadir, "mysql"))

    def install(self):
        for d in (self.datadir, self.rundir, self.logdir):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.rundir, 0o755)
        os.chmod(self.datadir, 0o700)
        args = [INSTALL_DB, "--no-defaults", "--datadir=" + self.datadir,
                "--auth-root-authentication-method=normal",
                "--skip-test-db"]
        if os.geteuid() == 0:
            args.append("--user=root")
        with open(os.path.join(self.logdir, "install.log"), "w") as out:
            subprocess.run(args, stdout=out, stderr=subprocess.STDOUT,
                           check=True, stdin=subprocess.DEVNULL)

    def start(self, timeout=60):
        if not self.initialized():
            self.install()
        os.makedirs(self.rundir, exist_ok=True)
        os.chmod(self.rundir, 0o755)
        os.makedirs(self.logdir, exist_ok=True)
        if os.path.exists(self.socket):
            # A live server answers on it: another `make run` (or test)
            # uses this directory. Never pull the socket from under it.
            if self.ping():
                raise RuntimeError("a MariaDB server is already running "
                                   "on %s (another make run?)" % self.socket)
            os.unlink(self.socket)
        self.proc = subprocess.Popen(self._server_args(),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     preexec_fn=die_with_parent)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited (%d); see %s" %
                                   (self.proc.returncode, self.log))
            if os.path.exists(self.socket) and self.ping():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("mariadbd did not start in %ds; see %s" %
                           (timeout, self.log))

    def ping(self):
        r = subprocess.run([CLIENT, "--no-defaults", "-uroot",
                            "--socket=" + self.socket, "-e", "SELECT 1"],
                           stdin=subprocess.DEVNULL, capture_output=True)
        return r.returncode == 0

    def stop(self, timeout=30):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def sql(self, statements, database=None):
        """Run SQL as the private root, given on standard input."""
        args = [CLIENT, "--no-defaults", "-uroot", "--socket=" + self.socket,
                "--batch", "--skip-column-names"]
        if database:
            args.append(database)
        r = subprocess.run(args, input=statements, text=True,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("SQL failed: %s" % r.stderr.strip())
        return r.stdout


class Stack:
    """The database side of an Aviary installation below 'base': accounts
    from schema/grants.sql, the schema through `aviary-admin db migrate`,
    and an aviary.yaml pointing at them."""

    def __init__(self, base, build, dbname="aviary", lmtp_listen=(),
                 pop3_listen=(), pop3s_listen=(), imap_listen=(),
                 imaps_listen=()):
        self.lmtp_listen = list(lmtp_listen)
        self.imap_listen = list(imap_listen)
        self.imaps_listen = list(imaps_listen)
        self.pop3_listen = list(pop3_listen)
        self.pop3s_listen = list(pop3s_listen)
        self.base = os.path.abspath(base)
        self.build = os.path.abspath(build)
        self.admin = os.path.join(self.build, "aviary-admin")
        # Sockets and mail must be reachable by the unprivileged services
        # (and Postfix). When 'base' sits below a private directory (a
        # test's temporary directory, a home directory), they go to a
        # public directory of their own in /tmp instead.
        os.makedirs(self.base, exist_ok=True)
        self.public_tmp = None
        if os.geteuid() == 0 and not traversable_by_others(self.base):
            self.public_tmp = tempfile.mkdtemp(prefix="aviary-", dir="/tmp")
            os.chmod(self.public_tmp, 0o755)
            public = self.public_tmp
        else:
            public = self.base
        self.db = MariaDB(self.base, os.path.join(public, "run"))
        self.dbname = dbname
        self.secrets = os.path.join(self.base, "secrets")
        self.config = os.path.join(self.base, "aviary.yaml")
        self.mailroot = os.path.join(public, "mail")
        self.tlsdir = os.path.join(self.base, "tls")

    @property
    def tls_cert(self):
        return os.path.join(self.tlsdir, "cert.pem")

    @property
    def tls_key(self):
        return os.path.join(self.tlsdir, "key.pem")

    def make_tls(self):
        """A self-signed certificate for localhost and 127.0.0.1 (kept if
        there is one): the login services' TLS in development and tests."""
        if os.path.exists(self.tls_cert) and os.path.exists(self.tls_key):
            return
        os.makedirs(self.tlsdir, mode=0o700, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-days", "3650",
             "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", self.tls_key + ".tmp", "-out", self.tls_cert + ".tmp"],
            check=True, capture_output=True)
        os.chmod(self.tls_key + ".tmp", 0o600)
        os.rename(self.tls_key + ".tmp", self.tls_key)
        os.rename(self.tls_cert + ".tmp", self.tls_cert)

    @property
    def auth_client_socket(self):
        return os.path.join(self.db.rundir, "auth-client")

    @property
    def auth_userdb_socket(self):
        return os.path.join(self.db.rundir, "auth-userdb")

    @property
    def lmtp_socket(self):
        return os.path.join(self.db.rundir, "lmtp")

    def secret_path(self, name):
        return os.path.join(self.secrets, name + ".pass")

    def _secret(self, name):
        path = self.secret_path(name)
        if not os.path.exists(path):
            write_secret(path, secrets.token_urlsafe(18))
        return read_secret(path)

    def grants(self):
        pre = "SET @db = %s, @host = 'localhost', @admin_password = %s, " \
              "@auth_password = %s, @postfix_password = %s;\n" % (
                  sql_quote(self.dbname), sql_quote(self._secret("db-admin")),
                  sql_quote(self._secret("db-auth")),
                  sql_quote(self._secret("db-postfix")))
        with open(os.path.join(REPO, "schema", "grants.sql")) as f:
            self.db.sql(pre + f.read())

    def write_config(self, extra="", auth_extra="", lmtp_extra="",
                     login_extra="", pop3_extra="", imap_extra=""):
        """aviary.yaml for this stack. auth_extra, lmtp_extra, login_extra,
        pop3_extra, imap_extra: more lines (indented two spaces) for those
        sections; extra: more top-level sections. POP3 (IMAP) is enabled
        when the stack has POP3 (IMAP) listeners. As root, the services run as 'nobody' and the mail
        tree belongs to it (the mail user), as vmail would in production."""
        os.makedirs(self.mailroot, exist_ok=True)
        run = self.db.rundir
        if os.geteuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            mail_uid, mail_gid = nobody.pw_uid, nobody.pw_gid
            os.chown(self.mailroot, mail_uid, mail_gid)
            service_user = "nobody"
        else:
            mail_uid, mail_gid = os.geteuid(), os.getegid()
            service_user = ""
        os.chmod(self.mailroot, 0o700)
        pop3 = bool(self.pop3_listen or self.pop3s_listen)
        imap = bool(self.imap_listen or self.imaps_listen)
        self.make_tls()
        text = f"""# Generated by tools/aviarydev.py for development and tests.
database:
  hosts: ["unix:{self.db.socket}"]
  name: {self.dbname}
  user: aviary_admin
  password_file: {self.secret_path("db-admin")}
  connect_timeout: 5s
mail:
  root: {self.mailroot}
  home: "%d/%n"
  uid: {mail_uid}
  gid: {mail_gid}
passwords:
  scheme: SHA512-CRYPT
auth:
  user: "{service_user}"
  client_socket:
    path: {run}/auth-client
    mode: "0666"
    user: ""
    group: ""
  userdb_socket:
    path: {run}/auth-userdb
    mode: "0666"
    user: ""
    group: ""
  database:
    user: aviary_auth
    password_file: {self.secret_path("db-auth")}
{auth_extra}lmtp:
  user: "{service_user}"
  socket:
    path: {run}/lmtp
    mode: "0666"
    user: ""
    group: ""
  hostname: mx.example.test
  listen: [{", ".join('"%s"' % x for x in self.lmtp_listen)}]
{lmtp_extra}login:
  tls:
    cert_file: {self.tls_cert}
    key_file: {self.tls_key}
{login_extra}pop3:
  enabled: {"true" if pop3 else "false"}
  user: "{service_user}"
  listen: [{", ".join('"%s"' % x for x in self.pop3_listen)}]
  listen_tls: [{", ".join('"%s"' % x for x in self.pop3s_listen)}]
{pop3_extra}imap:
  enabled: {"true" if imap else "false"}
  user: "{service_user}"
  listen: [{", ".join('"%s"' % x for x in self.imap_listen)}]
  listen_tls: [{", ".join('"%s"' % x for x in self.imaps_listen)}]
{imap_extra}{extra}"""
        with open(self.config, "w") as f:
            f.write(text)

    def run_admin(self, *args, input=None, check=True):
        env = dict(os.environ)
        env.pop("AVIARY_CONFIG", None)
        r = subprocess.run([self.admin, "-c", self.config, *args],
                           input=input, text=True, capture_output=True,
                           env=env)
        if check and r.returncode != 0:
            raise RuntimeError("aviary-admin %s: exit %d: %s" %
                               (" ".join(args), r.returncode, r.stderr.strip()))
        return r

    def up(self):
        os.makedirs(self.secrets, mode=0o700, exist_ok=True)
        os.chmod(self.secrets, 0o700)
        self.db.start()
        self.grants()            # accounts and database
        self.write_config()
        self.run_admin("db", "migrate")
        self.grants()            # now the view grants too

    def down(self):
        self.db.stop()
        if self.public_tmp is not None:
            shutil.rmtree(self.public_tmp, ignore_errors=True)
            self.public_tmp = None


def stop_process(proc, timeout=30):
    """SIGTERM, then SIGKILL after 'timeout' seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_aviaryd(stack, timeout=30):
    """Run aviaryd in the foreground on the stack's configuration (it
    logs to our stderr) and wait until the auth sockets accept
    connections. Returns the Popen."""
    import socket
    proc = subprocess.Popen([os.path.join(stack.build, "aviaryd"), "-F",
                             "-c", stack.config], stdin=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)
    deadline = time.time() + timeout
    targets = [(socket.AF_UNIX, p) for p in (
        stack.auth_client_socket, stack.auth_userdb_socket, stack.lmtp_socket)]
    for spec in (stack.lmtp_listen + stack.pop3_listen + stack.pop3s_listen +
                 stack.imap_listen + stack.imaps_listen):
        host, port = spec.rsplit(":", 1)
        targets.append((socket.AF_INET, (host, int(port))))
    for family, addr in targets:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("aviaryd exited (%d)" % proc.returncode)
            try:
                s = socket.socket(family)
                s.connect(addr)
                s.close()
                break
            except OSError:
                s.close()
                if time.time() > deadline:
                    stop_process(proc)
                    raise RuntimeError("aviaryd: %s does not answer" % (addr,))
                time.sleep(0.1)
    return proc


def demo(stack, domain="example.test", local="demo"):
    """Create the demo domain and mailbox; return the demo password."""
    path = stack.secret_path("demo")
    wanted = os.environ.get("AVIARY_DEMO_PASSWORD")
    if stack.run_admin("domain", "show", domain, check=False).returncode == 67:
        stack.run_admin("domain", "add", domain)
    addr = "%s@%s" % (local, domain)
    if stack.run_admin("mailbox", "show", addr, check=False).returncode == 67:
        password = wanted or secrets.token_urlsafe(12)
        stack.run_admin("mailbox", "add", addr, "--password-stdin",
                        input=password + "\n")
        write_secret(path, password)
    elif wanted:
        stack.run_admin("mailbox", "passwd", addr, "--password-stdin",
                        input=wanted + "\n")
        write_secret(path, wanted)
    return read_secret(path)
