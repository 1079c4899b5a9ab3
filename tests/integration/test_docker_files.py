"""docker/: the deployment files, without a Docker engine.

- compose.yaml parses (python3-yaml), has MariaDB, Aviary and Postfix
  with their ports, volumes (mail, database, certificates) and health
  checks, and references only files that exist (its secrets: once
  docker/mksecrets.sh has made them);
- the Dockerfiles: debian:12 build stage, slim runtime with the runtime
  libraries only, every COPY source present;
- the shell scripts are POSIX sh (dash -n, shellcheck when installed),
  no eval;
- docker/aviary.yaml passes `aviaryd --check`;
- docker/postfix/entrypoint.sh writes the shipped Postfix files into a
  configuration directory (POSTFIX_START=no);
- docker/entrypoint.sh and docker/mariadb/db-setup.sh, run as compose
  runs them but outside a container, against a private MariaDB that is
  down at first: db-setup makes the accounts, the entrypoint waits,
  migrates, creates the first domain and mailbox and becomes the real
  aviaryd (high ports, temporary directories); db-setup grants the
  views; a login and an LMTP delivery work; SIGTERM stops it; a second
  and third run change nothing that exists. Passwords never appear in
  an argv.
"""
import glob
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest
import yaml

from avstack import REPO, aviarydev
from lmtphelp import maildir_files, wait_for
from postfix import SANITIZER_RE

DOCKER = os.path.join(REPO, "docker")
COMPOSE = os.path.join(DOCKER, "compose.yaml")
ENTRYPOINT = os.path.join(DOCKER, "entrypoint.sh")
DB_SETUP = os.path.join(DOCKER, "mariadb", "db-setup.sh")
PF_ENTRYPOINT = os.path.join(DOCKER, "postfix", "entrypoint.sh")
MKSECRETS = os.path.join(DOCKER, "mksecrets.sh")
SCRIPTS = (ENTRYPOINT, DB_SETUP, PF_ENTRYPOINT, MKSECRETS)
RUNTIME_PACKAGES = {"libmariadb3", "libssl3", "libcrypt1", "libyaml-0-2",
                    "ca-certificates"}
DOMAIN = "example.test"
FIRST = "postmaster@" + DOMAIN


@pytest.fixture(scope="module")
def compose():
    with open(COMPOSE) as f:
        return yaml.safe_load(f)


def compose_path(p):
    """A path of compose.yaml, relative to its directory."""
    return os.path.normpath(os.path.join(DOCKER, p))


# -- compose.yaml --------------------------------------------------------------

def test_compose_services(compose):
    services = compose["services"]
    assert {"mariadb", "aviary", "postfix"} <= set(services)
    assert services["mariadb"]["image"].startswith("mariadb:")
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, (name, dep)
        if svc.get("restart") != "no":     # long-running: checked
            assert "test" in svc["healthcheck"], name


def test_compose_ports(compose):
    def published(svc):
        return {int(p.split(":")[0]) for p in compose["services"][svc]
                .get("ports", [])}
    assert published("postfix") == {25, 587}
    assert published("aviary") == {143, 993, 110, 995}
    assert published("mariadb") == set()


def test_compose_volumes(compose):
    declared = set(compose["volumes"])
    mounts = {}
    for name, svc in compose["services"].items():
        for v in svc.get("volumes", []):
            src, dst = v.split(":")[:2]
            if src.startswith((".", "/")):
                assert os.path.exists(compose_path(src)), (name, src)
            else:
                assert src in declared, (name, src)
                mounts.setdefault(src, set()).add((name, dst))
    assert ("mariadb", "/var/lib/mysql") in mounts["db"]
    assert ("aviary", "/var/mail/vhosts") in mounts["mail"]
    assert {s for s, _ in mounts["certs"]} >= {"aviary", "postfix"}
    # The sockets between Postfix and Aviary: one volume, the path
    # conf/postfix/main.cf's private/auth and private/aviary-lmtp are in.
    assert mounts["postfix-private"] == {
        ("aviary", "/var/spool/postfix/private"),
        ("postfix", "/var/spool/postfix/private")}


def test_compose_builds_from_existing_dockerfiles(compose):
    for name in ("aviary", "postfix"):
        build = compose["services"][name]["build"]
        context = compose_path(build["context"])
        assert context == REPO, name
        assert os.path.isfile(os.path.join(context, build["dockerfile"]))


def test_compose_secrets_made_by_mksecrets(compose, tmp_path):
    r = subprocess.run(["/bin/sh", MKSECRETS, str(tmp_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    declared = compose["secrets"]
    for name, spec in declared.items():
        path = spec["file"]
        assert path.startswith("./secrets/"), path
        made = tmp_path / os.path.basename(path)
        assert made.is_file(), name
        assert os.stat(made).st_mode & 0o077 == 0, name
        assert re.fullmatch(r"[0-9a-f]{48}\n", made.read_text()), name
    for svc in compose["services"].values():
        for s in svc.get("secrets", []):
            assert s in declared, s
    # Secrets never go into git; and a second run keeps them.
    with open(os.path.join(DOCKER, "secrets", ".gitignore")) as f:
        assert "*" in f.read().split()
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    subprocess.run(["/bin/sh", MKSECRETS, str(tmp_path)], check=True,
                   capture_output=True, timeout=30)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


def test_compose_environment_is_what_the_scripts_read(compose):
    with open(ENTRYPOINT) as f:
        script = f.read()
    env = compose["services"]["aviary"]["environment"]
    for key in env:
        assert key in script, key
    with open(PF_ENTRYPOINT) as f:
        script = f.read()
    for key in compose["services"]["postfix"]["environment"]:
        assert key in script, key
    with open(DB_SETUP) as f:
        script = f.read()
    for key in compose["services"]["db-setup"]["environment"]:
        assert key in script, key


def test_docker_compose_config_if_available(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run(
            [docker, "compose", "version"], capture_output=True,
            timeout=30).returncode != 0:
        pytest.skip("docker compose not installed")
    work = tmp_path / "docker"
    shutil.copytree(DOCKER, work, ignore=shutil.ignore_patterns("*.pass"))
    os.symlink(os.path.join(REPO, "schema"), tmp_path / "schema")
    subprocess.run(["/bin/sh", str(work / "mksecrets.sh")], check=True,
                   capture_output=True, timeout=30)
    r = subprocess.run([docker, "compose", "-f", str(work / "compose.yaml"),
                        "config", "-q"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr


# -- Dockerfiles -------------------------------------------------------------

def dockerfile(path):
    """Instructions of a Dockerfile, continuation lines joined:
    [(INSTRUCTION, arguments)]."""
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def apt_packages(run):
    m = re.search(r"apt-get install -y --no-install-recommends ([^&]+)", run)
    return set(m.group(1).split()) if m else set()


def test_dockerfile_stages():
    ins = dockerfile(os.path.join(DOCKER, "Dockerfile"))
    froms = [a for i, a in ins if i == "FROM"]
    assert froms == ["debian:12 AS build", "debian:12-slim"]
    second = ins.index(("FROM", "debian:12-slim"))
    build, runtime = ins[:second], ins[second:]
    runs = " ".join(a for i, a in build if i == "RUN")
    assert "make" in runs and "make install DESTDIR=" in runs
    assert {"libmariadb-dev", "libssl-dev", "libcrypt-dev",
            "libyaml-dev"} <= apt_packages(runs)
    installs = [apt_packages(a) for i, a in runtime if i == "RUN"]
    assert [p for p in installs if p] == [RUNTIME_PACKAGES]
    copies = [a for i, a in runtime if i == "COPY"]
    assert any(a.startswith("--from=build ") for a in copies)
    entry = [a for i, a in runtime if i == "ENTRYPOINT"]
    assert entry == ['["/usr/local/sbin/aviary-entrypoint"]']
    assert any(i == "HEALTHCHECK" for i, _ in runtime)


@pytest.mark.parametrize("path", ["Dockerfile", "postfix/Dockerfile"])
def test_dockerfile_copy_sources_exist(path):
    for ins, args in dockerfile(os.path.join(DOCKER, path)):
        if ins != "COPY" or args.startswith("--from="):
            continue
        srcs = args.split()[:-1]
        if srcs == ["."]:
            continue
        for src in srcs:
            assert os.path.exists(os.path.join(REPO, src)), (path, src)
    ignore = os.path.join(DOCKER, path + ".dockerignore")
    assert os.path.isfile(ignore), ignore


# -- scripts and the container configuration --------------------------------

@pytest.mark.parametrize("path", SCRIPTS)
def test_scripts_are_posix_sh(path):
    with open(path) as f:
        text = f.read()
    assert text.startswith("#!/bin/sh\n"), path
    assert re.search(r"^set -eu$", text, re.M), path
    assert not re.search(r"^\s*eval\b|[;&|]\s*eval\b", text, re.M), path
    assert os.access(path, os.X_OK), path
    r = subprocess.run(["dash", "-n", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", "-s", "sh", path],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout


def test_container_config_is_valid(build):
    # As nobody: aviaryd checks the service users (aviary, vmail) only
    # as root, and they exist in the image, not here.
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                        "--clear-groups", os.path.join(build, "aviaryd"),
                        "--check", "-c", os.path.join(DOCKER, "aviary.yaml")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    cfg = yaml.safe_load(r.stdout)
    # The paths conf/postfix/main.cf names, in the shared volume.
    assert cfg["auth"]["client_socket"]["path"] == \
        "/var/spool/postfix/private/auth"
    assert cfg["lmtp"]["socket"]["path"] == \
        "/var/spool/postfix/private/aviary-lmtp"
    assert cfg["database"]["password_file"].startswith("/run/secrets/")
    assert cfg["auth"]["database"]["password_file"].startswith(
        "/run/secrets/")


def test_postfix_entrypoint_writes_the_shipped_files(tmp_path):
    pw = tmp_path / "db-postfix"
    pw.write_text("Pf-pass.1/x=\n")
    etc = tmp_path / "etc"
    env = dict(os.environ, POSTFIX_CONFIG_DIR=str(etc),
               AVIARY_POSTFIX_FILES=os.path.join(REPO, "conf", "postfix"),
               POSTFIX_BASE_MAIN_CF=os.path.join(DOCKER, "postfix",
                                                 "main.cf"),
               POSTFIX_BASE_MASTER_CF="/usr/share/postfix/master.cf.dist",
               DB_PASSWORD_FILE=str(pw), POSTFIX_START="no",
               MAIL_HOSTNAME="mail.example.test")
    for _ in range(2):      # a second run gives the same result
        r = subprocess.run([PF_ENTRYPOINT], env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "Pf-pass" not in r.stderr
    with open(os.path.join(REPO, "conf", "postfix", "main.cf")) as f:
        shipped_main = f.read()
    with open(os.path.join(REPO, "conf", "postfix", "master.cf")) as f:
        shipped_master = f.read()
    main = (etc / "main.cf").read_text()
    assert shipped_main in main
    assert main.count("virtual_transport") == 1
    master = (etc / "master.cf").read_text()
    assert master.endswith(shipped_master)
    with open("/usr/share/postfix/master.cf.dist") as f:
        assert master.startswith(f.read())
    r = subprocess.run(["postconf", "-c", str(etc), "-h", "myhostname",
                        "smtpd_tls_cert_file"], capture_output=True,
                       text=True, timeout=30)
    host, cert = r.stdout.splitlines()
    assert host == "mail.example.test"
    assert os.path.isfile(cert)     # no certs volume here: self-signed
    for src in glob.glob(os.path.join(REPO, "conf", "postfix",
                                      "mysql-*.cf")):
        dst = etc / "aviary" / os.path.basename(src)
        assert os.stat(dst).st_mode & 0o777 == 0o640
        with open(src) as f:
            want = f.read().splitlines()
        got = dst.read_text().splitlines()
        assert len(got) == len(want)
        for a, b in zip(want, got):
            if a.startswith("hosts = "):
                assert b == "hosts = inet:mariadb:3306"
            elif a.startswith("password = "):
                assert b == "password = Pf-pass.1/x="
            else:
                assert a == b


# -- the entrypoint, outside a container ---------------------------------------

class Env:
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ep(build):
    """A private MariaDB with no accounts and no schema yet, the secret
    files of compose's secrets, an aviary.yaml on high ports and
    temporary directories, and an aviary-admin wrapper that records its
    argv."""
    e = Env()
    e.base = tempfile.mkdtemp(prefix="av-docker-", dir="/tmp")
    os.chmod(e.base, 0o755)
    e.build = build
    e.lmtp_port = free_port()
    e.stack = aviarydev.Stack(e.base, build,
                              lmtp_listen=["127.0.0.1:%d" % e.lmtp_port])
    try:
        os.makedirs(e.stack.secrets, mode=0o700, exist_ok=True)
        for name in ("db-admin", "db-auth", "db-postfix"):
            aviarydev.write_secret(e.stack.secret_path(name),
                                   os.urandom(12).hex())
        # The private server's root has no password.
        aviarydev.write_secret(e.stack.secret_path("db-root"), "")
        e.password = "First-mailbox-pw.1"
        e.pwfile = e.stack.secret_path("first-mailbox")
        aviarydev.write_secret(e.pwfile, e.password)
        e.stack.db.start()
        e.stack.write_config()
        e.argv_log = os.path.join(e.base, "admin-argv.log")
        e.admin = os.path.join(e.base, "aviary-admin")
        with open(e.admin, "w") as f:
            f.write('#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\n'
                    'exec "%s" "$@"\n' % (e.argv_log, e.stack.admin))
        os.chmod(e.admin, 0o755)
        yield e
    finally:
        e.stack.down()
        shutil.rmtree(e.base, ignore_errors=True)


def ep_env(e, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AVIARY_")}
    env.update(AVIARY_CONFIG=e.stack.config, AVIARY_SBIN=e.build,
               AVIARY_ADMIN=e.admin, AVIARY_DB_WAIT="120",
               AVIARY_DOMAIN=DOMAIN, AVIARY_MAILBOX="postmaster",
               AVIARY_MAILBOX_PASSWORD_FILE=e.pwfile,
               AVIARY_RUN_DIR=e.stack.db.rundir,
               AVIARY_MAIL_ROOT=e.stack.mailroot,
               AVIARY_MAIL_USER="nobody", AVIARY_MAIL_GROUP="nogroup")
    env.update(extra)
    return env


def db_setup_env(e):
    s = e.stack
    return dict(os.environ, DB_HOST="unix:" + s.db.socket,
                DB_NAME=s.dbname, DB_ACCOUNT_HOST="localhost",
                DB_ROOT_PASSWORD_FILE=s.secret_path("db-root"),
                DB_ADMIN_PASSWORD_FILE=s.secret_path("db-admin"),
                DB_AUTH_PASSWORD_FILE=s.secret_path("db-auth"),
                DB_POSTFIX_PASSWORD_FILE=s.secret_path("db-postfix"),
                SCHEMA_DIR=os.path.join(REPO, "schema"),
                DB_SETUP_WAIT="120", MARIADB_CLIENT="/usr/bin/mariadb")


class Running:
    """docker/entrypoint.sh started as a child, its output in a file."""

    def __init__(self, e, env, name):
        self.log_path = os.path.join(e.base, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([ENTRYPOINT], env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log,
                                     preexec_fn=aviarydev.die_with_parent)
        self.env = env

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_healthy(self, timeout=90):
        def healthy():
            assert self.proc.poll() is None, \
                "entrypoint exited %d:\n%s" % (self.proc.returncode,
                                               self.text()[-4000:])
            return subprocess.run([ENTRYPOINT, "health"], env=self.env,
                                  capture_output=True,
                                  timeout=30).returncode == 0
        assert wait_for(healthy, timeout), self.text()[-4000:]

    def stop(self):
        """SIGTERM (to aviaryd, by then); the exit status. Fails on a
        sanitizer report in the output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        m = SANITIZER_RE.search(self.text())
        assert not m, self.text()[m.start() - 200:][:6000]
        return self.proc.returncode


def exe_of(pid):
    return os.readlink("/proc/%d/exe" % pid)


def auth_test(e, addr, password):
    return subprocess.run([e.stack.admin, "-c", e.stack.config, "auth",
                           "test", addr, "--password-stdin"],
                          input=password + "\n", capture_output=True,
                          text=True, timeout=60)


def count(e, table):
    out = e.stack.db.sql("SELECT COUNT(*) FROM %s" % table,
                         database=e.stack.dbname)
    return int(out.strip())


def argv_log(e):
    try:
        with open(e.argv_log) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_entrypoint_fails_fast_on_a_bad_config(ep, tmp_path):
    bad = tmp_path / "bad.yaml"
    with open(ep.stack.config) as f:
        bad.write_text(f.read() + "frobnicate: 1\n")
    start = time.monotonic()
    r = subprocess.run([ENTRYPOINT], env=ep_env(ep, AVIARY_CONFIG=str(bad)),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "frobnicate" in r.stderr and "bad.yaml" in r.stderr, r.stderr
    assert time.monotonic() - start < 20


def test_entrypoint_gives_up_waiting_with_a_clear_error(ep, tmp_path):
    cfg = tmp_path / "nodb.yaml"
    with open(ep.stack.config) as f:
        text = f.read()
    cfg.write_text(text.replace("unix:" + ep.stack.db.socket,
                                "unix:" + str(tmp_path / "no-such.sock")))
    start = time.monotonic()
    r = subprocess.run([ENTRYPOINT], env=ep_env(ep, AVIARY_CONFIG=str(cfg),
                                                AVIARY_DB_WAIT="2"),
                       capture_output=True, text=True, timeout=60)
    took = time.monotonic() - start
    assert r.returncode == 1, r.stderr
    assert "the database did not answer within 2s (AVIARY_DB_WAIT)" in \
        r.stderr, r.stderr
    assert 2 <= took < 30, took
    r = subprocess.run([ENTRYPOINT], env=ep_env(ep, AVIARY_DB_WAIT="soon"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "AVIARY_DB_WAIT" in r.stderr, r.stderr


def test_entrypoint_runs_other_commands(ep):
    r = subprocess.run([ENTRYPOINT, "/bin/echo", "hello"], env=ep_env(ep),
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout) == (0, "hello\n")


def test_first_start(ep):
    """As compose starts it: MariaDB down at first; db-setup and the
    entrypoint both wait for it."""
    ep.stack.db.stop()
    setup = subprocess.Popen([DB_SETUP], env=db_setup_env(ep),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             preexec_fn=aviarydev.die_with_parent)
    run = Running(ep, ep_env(ep), "first")
    try:
        time.sleep(2)
        assert run.proc.poll() is None, run.text()
        assert "waiting up to 120s for the database" in run.text()
        ep.stack.db.start()
        out, _ = setup.communicate(timeout=180)
        assert setup.returncode == 0, out
        assert b"grants on the views" in out, out
        run.wait_healthy()
        text = run.text()
        assert "domain %s added" % DOMAIN in text, text
        assert "mailbox %s added" % FIRST in text, text
        assert "applied 001_init.sql" in text, text
        # The entrypoint became aviaryd: same process, aviaryd's binary.
        assert exe_of(run.proc.pid) == os.path.join(ep.build, "aviaryd")
        r = auth_test(ep, FIRST, ep.password)
        assert r.returncode == 0, r.stdout + r.stderr
        assert auth_test(ep, FIRST, "wrong").returncode != 0
        with smtplib.LMTP("127.0.0.1", ep.lmtp_port, timeout=30) as lm:
            lm.ehlo("client.test")
            assert lm.sendmail("someone@elsewhere.test", [FIRST],
                               b"Subject: hello\r\n\r\nfirst\r\n") == {}
        assert len(maildir_files(ep.stack, FIRST)) == 1
        assert run.stop() == 0, run.text()[-3000:]
    finally:
        run.stop()
        if setup.poll() is None:
            setup.kill()
            setup.wait()
    assert ep.password not in argv_log(ep)
    assert "mailbox add %s --password-stdin" % FIRST in argv_log(ep)
    assert ep.password not in run.text()
    # Stopped: the health check says so.
    assert subprocess.run([ENTRYPOINT, "health"], env=ep_env(ep),
                          capture_output=True, timeout=30).returncode == 1


def test_second_start_changes_nothing(ep):
    """Restarted with the same variables (and another password in the
    file): the domain, the mailbox and its password stay as they are."""
    aviarydev.write_secret(ep.pwfile, "Another-password.2")
    run = Running(ep, ep_env(ep), "second")
    try:
        run.wait_healthy()
        text = run.text()
        assert "domain %s exists" % DOMAIN in text, text
        assert "mailbox %s exists (password unchanged)" % FIRST in text
        assert "schema is up to date" in text, text
        assert auth_test(ep, FIRST, ep.password).returncode == 0
        assert auth_test(ep, FIRST, "Another-password.2").returncode != 0
        assert run.stop() == 0, run.text()[-3000:]
    finally:
        run.stop()
    assert count(ep, "domains") == 1 and count(ep, "mailboxes") == 1


def test_password_from_the_environment(ep):
    """AVIARY_MAILBOX_PASSWORD: on no command line, and gone from
    aviaryd's environment."""
    secret = "Env-password.3"
    second = "second@" + DOMAIN
    run = Running(ep, ep_env(ep, AVIARY_MAILBOX=second,
                             AVIARY_MAILBOX_PASSWORD=secret,
                             AVIARY_MAILBOX_PASSWORD_FILE=""), "third")
    try:
        run.wait_healthy()
        assert "mailbox %s added" % second in run.text()
        assert auth_test(ep, second, secret).returncode == 0
        with open("/proc/%d/environ" % run.proc.pid, "rb") as f:
            environ = f.read()
        assert b"AVIARY_MAILBOX_PASSWORD=" not in environ
        assert secret.encode() not in environ
        assert run.stop() == 0, run.text()[-3000:]
    finally:
        run.stop()
    assert secret not in argv_log(ep)
    assert secret not in run.text()
    assert count(ep, "mailboxes") == 2
