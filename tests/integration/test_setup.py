"""aviary-admin setup against a private MariaDB.

The filesystem steps and the accounts run below --root-dir (useradd and
groupadd with --prefix write DIR/etc/passwd and DIR/etc/group), so these
tests change nothing on the machine. One test makes real accounts with
names of its own and removes them again, whatever happens. Making
accounts and chowning needs root: CI runs the tests as root; elsewhere
those tests are skipped."""
import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile

import pytest

from avhelpers import EX_CONFIG, EX_DATAERR, EX_NOPERM, assert_fail, assert_ok
from avstack import ADMIN, REPO, admin_env, aviarydev

GRANTS = os.path.join(REPO, "schema", "grants.sql")
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="setup makes accounts and "
                                "chowns files: run as root (CI does)")


class Env:
    pass


@pytest.fixture(scope="module")
def env(build):
    e = Env()
    e.base = tempfile.mkdtemp(prefix="av-setup-", dir="/tmp")
    os.chmod(e.base, 0o755)
    e.db = aviarydev.MariaDB(os.path.join(e.base, "db"))
    e.outputs = []
    e.n = 0
    try:
        e.db.start()
        yield e
    finally:
        try:
            e.db.stop()
        finally:
            shutil.rmtree(e.base, ignore_errors=True)


def new_site(e, **over):
    """A fresh root directory, database name and aviary.yaml."""
    e.n += 1
    site = Env()
    site.root = os.path.join(e.base, "root%d" % e.n)
    os.makedirs(site.root)
    site.dbname = "aviary_setup%d" % e.n
    v = dict(mail_root="/var/mail/vhosts", uid=5000, gid=5000,
             admin_pass="/etc/aviary/db-admin.pass",
             auth_pass="/etc/aviary/db-auth.pass", auth_user="aviary",
             mail_user="vmail")
    v.update(over)
    site.v = v
    site.config = os.path.join(e.base, "aviary%d.yaml" % e.n)
    with open(site.config, "w") as f:
        f.write(f"""database:
  hosts: ["unix:{e.db.socket}"]
  name: {site.dbname}
  user: aviary_admin
  password_file: {v["admin_pass"]}
mail:
  root: {v["mail_root"]}
  uid: {v["uid"]}
  gid: {v["gid"]}
auth:
  user: {v["auth_user"]}
  database:
    user: aviary_auth
    password_file: {v["auth_pass"]}
lmtp:
  user: {v["mail_user"]}
""")
    os.chmod(site.config, 0o644)
    return site


def run_setup(e, site, *args, root_dir=True, json_out=True, **kw):
    cmd = [ADMIN, "-c", site.config]
    if json_out:
        cmd.append("--json")
    cmd += ["setup", "--grants", GRANTS, "--tls-name", "mail.setup.test"]
    if root_dir:
        cmd += ["--root-dir", site.root]
    cmd += list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, env=admin_env(), **kw)
    e.outputs.append(r.stdout + r.stderr)
    return r


def report(r):
    assert_ok(r)
    return json.loads(r.stdout)


def actions(rep):
    return {(s["what"], s["name"]): s["action"] for s in rep["steps"]}


def under(site, path):
    return site.root + path


def passwd_entries(site):
    with open(under(site, "/etc/passwd")) as f:
        return {line.split(":")[0]: line.rstrip("\n").split(":")
                for line in f if line.strip()}


def group_entries(site):
    with open(under(site, "/etc/group")) as f:
        return {line.split(":")[0]: line.rstrip("\n").split(":")
                for line in f if line.strip()}


def mode_owner(path):
    st = os.lstat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def client(e, user, password, query):
    """The MariaDB client as 'user', its password in a 0600 option file
    (never on the command line)."""
    opt = os.path.join(e.base, "client.cnf")
    fd = os.open(opt, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("[client]\nuser=%s\npassword=%s\nsocket=%s\n" % (
            user, password, e.db.socket))
    try:
        return subprocess.run(["/usr/bin/mariadb", "--defaults-file=" + opt,
                               "--batch", "--skip-column-names", "-e", query],
                              capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(opt)


def db_exists(e, name):
    return e.db.sql("SHOW DATABASES LIKE '%s'" % name).strip() == name


# ------------------------------------------------------------------ tests

def test_usage_errors(env):
    site = new_site(env)
    r = run_setup(env, site, "--mail-user", "Bad Name", json_out=False)
    assert_fail(r, EX_DATAERR, "bad user or group name")
    r = run_setup(env, site, "--etc-dir", "relative/dir", json_out=False)
    assert_fail(r, EX_DATAERR, "not an absolute path")
    r = run_setup(env, site, "--auth-user", "vmail", json_out=False)
    assert_fail(r, EX_DATAERR, "three different users")
    assert os.listdir(site.root) == []


def test_dry_run_changes_nothing(env):
    site = new_site(env)
    rep = report(run_setup(env, site, "--dry-run"))
    assert rep["dry_run"] is True
    assert rep["changes"] == len(rep["steps"]) == 15
    assert all(s["action"].startswith("would-") for s in rep["steps"])
    acts = actions(rep)
    assert acts[("group", "vmail")] == "would-create"
    assert acts[("database", site.dbname)] == "would-apply"
    assert acts[("certificate", under(site, "/etc/aviary/tls/cert.pem"))] \
        == "would-create"
    assert os.listdir(site.root) == []
    assert not db_exists(env, site.dbname)
    r = run_setup(env, site, "--dry-run", json_out=False)
    assert r.stdout.splitlines()[-1] == \
        "dry run: nothing was changed (15 changes to make)"


@needs_root
def test_setup_then_nothing_to_do(env):
    site = new_site(env)
    rep = report(run_setup(env, site))
    assert rep["dry_run"] is False and rep["changes"] == 15
    assert {s["action"] for s in rep["steps"]} == {"created", "applied"}

    # Accounts, in the root directory's passwd and group files.
    users, groups = passwd_entries(site), group_entries(site)
    assert groups["vmail"][2] == "5000"
    assert users["vmail"][2:4] == ["5000", "5000"]
    assert users["vmail"][5:] == ["/var/mail/vhosts", "/usr/sbin/nologin"]
    for name in ("aviary", "aviary-login"):
        assert users[name][3] == groups[name][2]
        assert users[name][6] == "/usr/sbin/nologin"
        assert int(users[name][2]) < 1000      # system accounts
    auth_gid = int(groups["aviary"][2])

    # The mail root and the secrets.
    assert mode_owner(under(site, "/var/mail/vhosts")) == (0o700, 5000, 5000)
    assert mode_owner(under(site, "/etc/aviary")) == (0o755, 0, 0)
    pws = {}
    for name, want in (("db-admin", (0o600, 0, 0)),
                       ("db-auth", (0o640, 0, auth_gid)),
                       ("db-postfix", (0o600, 0, 0))):
        path = under(site, "/etc/aviary/%s.pass" % name)
        assert mode_owner(path) == want, name
        pws[name] = aviarydev.read_secret(path)
        assert len(pws[name]) == 32 and pws[name].isalnum()
    assert len(set(pws.values())) == 3
    cert = under(site, "/etc/aviary/tls/cert.pem")
    key = under(site, "/etc/aviary/tls/key.pem")
    assert mode_owner(cert) == (0o644, 0, 0)
    assert mode_owner(key) == (0o600, 0, 0)
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-subject"], capture_output=True, text=True)
    assert out.returncode == 0 and "mail.setup.test" in out.stdout

    # The database: schema, and accounts that work with those passwords.
    r = client(env, "aviary_admin", pws["db-admin"],
               "SELECT COUNT(*) FROM %s.schema_migrations" % site.dbname)
    assert r.returncode == 0 and int(r.stdout) >= 1, r.stderr
    r = client(env, "aviary_auth", pws["db-auth"],
               "SELECT COUNT(*) FROM %s.auth_users" % site.dbname)
    assert r.returncode == 0, r.stderr
    r = client(env, "aviary_auth", pws["db-auth"],
               "SELECT COUNT(*) FROM %s.mailboxes" % site.dbname)
    assert r.returncode != 0          # least privilege
    r = client(env, "aviary_postfix", pws["db-postfix"],
               "SELECT COUNT(*) FROM %s.virtual_alias_maps" % site.dbname)
    assert r.returncode == 0, r.stderr
    # aviary-admin itself, with the password file setup wrote.
    cfg2 = os.path.join(env.base, "after%d.yaml" % env.n)
    with open(site.config) as f:
        text = f.read()
    with open(cfg2, "w") as f:
        f.write(text.replace("password_file: /etc/", "password_file: %s/etc/"
                             % site.root))
    r = subprocess.run([ADMIN, "-c", cfg2, "domain", "add", "setup.test"],
                       capture_output=True, text=True, env=admin_env(),
                       stdin=subprocess.DEVNULL)
    assert_ok(r)

    # Again: nothing to do, nothing touched.
    before = {p: (os.stat(p).st_mtime_ns, open(p, "rb").read())
              for p in (cert, key) + tuple(
                  under(site, "/etc/aviary/%s.pass" % n) for n in pws)}
    rep = report(run_setup(env, site))
    assert rep["changes"] == 0
    assert {s["action"] for s in rep["steps"]} == {"unchanged"}
    for p, v in before.items():
        assert (os.stat(p).st_mtime_ns, open(p, "rb").read()) == v, p
    r = assert_ok(run_setup(env, site, json_out=False))
    assert r.stdout.splitlines()[-1] == \
        "setup: nothing to do, everything is in place"

    # Wrong modes and owners are put right; the passwords stay.
    os.chmod(under(site, "/etc/aviary/db-admin.pass"), 0o644)
    os.chown(under(site, "/var/mail/vhosts"), 0, 0)
    rep = report(run_setup(env, site))
    acts = actions(rep)
    assert acts[("password file",
                 under(site, "/etc/aviary/db-admin.pass"))] == "fixed"
    assert acts[("directory", under(site, "/var/mail/vhosts"))] == "fixed"
    assert acts[("database", site.dbname)] == "unchanged"
    assert rep["changes"] == 2
    assert mode_owner(under(site, "/etc/aviary/db-admin.pass")) == \
        (0o600, 0, 0)
    assert mode_owner(under(site, "/var/mail/vhosts")) == (0o700, 5000, 5000)
    assert aviarydev.read_secret(
        under(site, "/etc/aviary/db-admin.pass")) == pws["db-admin"]

    # A lost password file: a new password, and the account follows it.
    os.unlink(under(site, "/etc/aviary/db-postfix.pass"))
    rep = report(run_setup(env, site))
    assert actions(rep)[("database", site.dbname)] == "applied"
    new = aviarydev.read_secret(under(site, "/etc/aviary/db-postfix.pass"))
    assert new != pws["db-postfix"]
    r = client(env, "aviary_postfix", new,
               "SELECT COUNT(*) FROM %s.virtual_mailbox_domains" %
               site.dbname)
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stderr

    # A certificate without its key is not overwritten.
    os.unlink(key)
    r = run_setup(env, site, json_out=False)
    assert_fail(r, EX_CONFIG, "exists but")
    assert open(cert, "rb").read() == before[cert][1]

    # No password was ever printed.
    text = "\n".join(env.outputs)
    for pw in list(pws.values()) + [new]:
        assert pw not in text


@needs_root
def test_existing_user_with_other_uid(env):
    site = new_site(env)
    os.makedirs(under(site, "/etc"))
    with open(under(site, "/etc/group"), "w") as f:
        f.write("vmail:x:4999:\n")
    with open(under(site, "/etc/passwd"), "w") as f:
        f.write("vmail:x:4999:4999::/var/mail/vhosts:/usr/sbin/nologin\n")
    r = run_setup(env, site, json_out=False)
    assert_fail(r, EX_CONFIG, "group vmail exists with gid 4999", "mail.gid")
    assert sorted(os.listdir(under(site, "/etc"))) == ["group", "passwd"]
    assert not os.path.exists(under(site, "/var"))


@needs_root
def test_refuses_to_run_unprivileged(env):
    site = new_site(env)
    r = run_setup(env, site, json_out=False, user="nobody")
    assert_fail(r, EX_NOPERM, "must run as root")
    assert os.listdir(site.root) == []


def free_id(taken, start=47000):
    for i in range(start, start + 1000):
        if i not in taken:
            return i
    pytest.skip("no free uid/gid in 47000-47999")


@needs_root
def test_real_accounts_with_test_names(env):
    """Without --root-dir: real groups and users on this machine, under
    names no installation uses, removed again at the end."""
    tag = "avt%d" % (os.getpid() % 100000)
    names = {"mail": tag + "-mail", "auth": tag + "-auth",
             "login": tag + "-login"}
    taken = {p.pw_uid for p in pwd.getpwall()} | \
        {g.gr_gid for g in grp.getgrall()}
    uid = free_id(taken)
    for n in names.values():
        for cmd in (["getent", "passwd", n], ["getent", "group", n]):
            assert subprocess.run(cmd, capture_output=True).returncode == 2, \
                "%s exists already" % n
    host = os.path.join(env.base, "host")
    site = new_site(env, mail_root=host + "/mail", uid=uid, gid=uid,
                    admin_pass=host + "/etc/db-admin.pass",
                    auth_pass=host + "/etc/db-auth.pass",
                    auth_user=names["auth"], mail_user=names["mail"])
    args = ["--login-user", names["login"], "--etc-dir", host + "/etc",
            "--tls-cert", host + "/tls/c.pem", "--tls-key",
            host + "/tls/k.pem"]
    try:
        rep = report(run_setup(env, site, *args, root_dir=False))
        assert rep["changes"] == 15
        m = pwd.getpwnam(names["mail"])
        assert (m.pw_uid, m.pw_gid) == (uid, uid)
        assert m.pw_dir == host + "/mail"
        assert m.pw_shell == "/usr/sbin/nologin"
        assert grp.getgrnam(names["mail"]).gr_gid == uid
        a = pwd.getpwnam(names["auth"])
        assert a.pw_gid == grp.getgrnam(names["auth"]).gr_gid
        assert pwd.getpwnam(names["login"]).pw_shell == "/usr/sbin/nologin"
        assert mode_owner(host + "/etc/db-auth.pass") == (0o640, 0, a.pw_gid)
        assert mode_owner(host + "/mail") == (0o700, uid, uid)
        rep = report(run_setup(env, site, *args, root_dir=False))
        assert rep["changes"] == 0
    finally:
        for n in names.values():
            subprocess.run(["/usr/sbin/userdel", n], capture_output=True)
        for n in names.values():
            subprocess.run(["/usr/sbin/groupdel", n], capture_output=True)
    for n in names.values():
        assert subprocess.run(["getent", "passwd", n],
                              capture_output=True).returncode == 2
        assert subprocess.run(["getent", "group", n],
                              capture_output=True).returncode == 2
