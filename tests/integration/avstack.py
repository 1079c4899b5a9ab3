"""Where the binaries are, how to run aviary-admin, and the private
MariaDB helpers (tools/aviarydev.py) that the fixtures in conftest.py
and the tests share."""
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("AVIARY_BUILD") or os.path.join(REPO, "build"))
ADMIN = os.path.join(BUILD, "aviary-admin")
PYTHON = "/usr/bin/python3"
MARIADB = "/usr/bin/mariadb"


def _sanitized(path):
    """Whether the binary is an AddressSanitizer build (make SAN=1)."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SAN = _sanitized(ADMIN)

sys.path.insert(0, os.path.join(REPO, "tools"))
import aviarydev  # noqa: E402,F401

# Tables in the order their rows can be deleted (children first).
TABLES = ("audit_log", "quota_usage", "aliases", "alias_domains", "mailboxes",
          "domains")

# A unix socket path must fit in sun_path (108 bytes with the NUL).
_SOCKET_MAX = 100


def short_tmpdir(tmp_path_factory, name):
    """A fresh directory for a private server: below pytest's temporary
    directory, unless the socket path would be too long there."""
    d = str(tmp_path_factory.mktemp(name))
    if len(os.path.join(d, "run", "mysqld.sock")) > _SOCKET_MAX:
        d = tempfile.mkdtemp(prefix="av-" + name + "-", dir="/tmp")
    return d


def admin_env(**extra):
    env = dict(os.environ)
    env.pop("AVIARY_CONFIG", None)
    env.pop("SUDO_USER", None)
    env.update(extra)
    return env


def run_admin(config, *args, input=None, **kw):
    """Run <build>/aviary-admin -c CONFIG ARGS; text mode, both streams
    captured. Without input, standard input is /dev/null so that nothing
    can prompt (a test run from a terminal would otherwise be asked to
    confirm deletions)."""
    cmd = [ADMIN]
    if config is not None:
        cmd += ["-c", config]
    cmd += [str(a) for a in args]
    if input is None:
        kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("timeout", 60)
    kw.setdefault("env", admin_env())
    return subprocess.run(cmd, input=input, text=True, capture_output=True,
                          **kw)


def stop_stack(stack, remove_data=True):
    """Stop a Stack's server; drop its datadir (tens of MB) too."""
    try:
        stack.down()
    finally:
        if remove_data:
            shutil.rmtree(stack.db.datadir, ignore_errors=True)


def sql_rows(stack, query):
    """Run SQL as the private root in the aviary database; rows as lists
    of strings (tab-separated batch output)."""
    out = stack.db.sql(query, database=stack.dbname)
    return [line.split("\t") for line in out.splitlines()]


def clean(stack):
    """Empty the tables and the mail root."""
    stack.db.sql("".join("DELETE FROM %s;\n" % t for t in TABLES),
                 database=stack.dbname)
    if os.path.isdir(stack.mailroot):
        for name in os.listdir(stack.mailroot):
            p = os.path.join(stack.mailroot, name)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)


class Admin:
    """admin(*args, input=None) -> CompletedProcess, against a stack.
    Every result is remembered in .history (for the checks that a
    password never shows up in any output)."""

    def __init__(self, stack):
        self.stack = stack
        self.config = stack.config
        self.history = []

    def __call__(self, *args, input=None, config=None, **kw):
        r = run_admin(config or self.config, *args, input=input, **kw)
        self.history.append(r)
        return r

    def sql(self, query):
        return sql_rows(self.stack, query)

    def ok(self, *args, input=None, **kw):
        """Run and require success (exit 0, nothing on stderr)."""
        r = self(*args, input=input, **kw)
        assert r.returncode == 0 and r.stderr == "", \
            "aviary-admin %s: exit %d, stderr %r" % (
                " ".join(map(str, args)), r.returncode, r.stderr)
        return r
