"""conf/systemd/aviary.service against what aviaryd really does.

- `systemd-analyze verify` on the unit as `make install` writes it
  (ExecStart pointing at an existing aviaryd: the build's), with no
  complaint at all (skipped where systemd-analyze is not installed);
- the settings that must agree with aviaryd (master/, docs/aviaryd.md):
  Type=notify with aviaryd in the foreground, SIGHUP for reload, SIGTERM
  to aviaryd alone, exit 78 not retried, the paths the services write
  writable under ProtectSystem=strict, the capabilities the privilege
  drop needs;
- aviaryd's side of Type=notify: READY=1 once the services run,
  RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC) and READY=1 around
  a SIGHUP, STOPPING=1 on SIGTERM, on a path and an abstract socket.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import yaml

from avstack import REPO, aviarydev
from postfix import SANITIZER_RE

UNIT = os.path.join(REPO, "conf", "systemd", "aviary.service")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or ""


def unit_as_installed(build, etc):
    """The unit with the substitutions install.mk makes (PREFIX/sbin and
    SYSCONFDIR), aimed at the build's aviaryd and the directory etc."""
    with open(UNIT) as f:
        text = f.read()
    return text.replace("/usr/local/sbin/", build.rstrip("/") + "/") \
        .replace("/etc/aviary/", etc.rstrip("/") + "/")


def parse_unit(text):
    """{section: {key: [values]}}; repeated keys keep every value."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = out.setdefault(line.strip("[]"), {})
            continue
        k, _, v = line.partition("=")
        section.setdefault(k.strip(), []).append(v.strip())
    return out


def one(unit, section, key):
    values = unit[section].get(key, [])
    assert len(values) == 1, (section, key, values)
    return values[0]


def seconds(value):
    m = re.fullmatch(r"(\d+)(s|min|m)?", value)
    assert m, value
    return int(m.group(1)) * (60 if m.group(2) in ("min", "m") else 1)


def effective_config(build, path):
    """`aviaryd --check` of a configuration, as YAML. Run as nobody:
    aviaryd checks the socket owners and service users only as root, and
    this machine need not have them."""
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                        "--clear-groups", os.path.join(build, "aviaryd"),
                        "--check", "-c", path],
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)


@pytest.fixture(scope="module")
def unit():
    with open(UNIT) as f:
        return parse_unit(f.read())


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(build, tmp_path):
    path = tmp_path / "aviary.service"
    path.write_text(unit_as_installed(build, str(tmp_path)))
    r = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(path)],
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "aviary.service" not in out, out


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze not installed")
def test_verify_would_see_a_mistake(build, tmp_path):
    """The check above is not vacuous: a misspelt setting is reported."""
    path = tmp_path / "aviary.service"
    path.write_text(unit_as_installed(build, str(tmp_path)).replace(
        "KillMode=mixed", "KilMode=mixed"))
    r = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(path)],
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert "KilMode" in r.stdout + r.stderr


def test_start_stop_reload_match_aviaryd(unit):
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    exec_start = one(unit, "Service", "ExecStart").split()
    assert exec_start == ["/usr/local/sbin/aviaryd", "-F", "-c",
                          "/etc/aviary/aviary.yaml"]
    assert one(unit, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert one(unit, "Service", "KillMode") == "mixed"
    assert one(unit, "Service", "Restart") == "on-failure"
    with open(os.path.join(REPO, "master", "main.c")) as f:
        ex_config = re.search(r"#define EX_CONFIG\s+(\d+)", f.read()).group(1)
    assert one(unit, "Service", "RestartPreventExitStatus") == ex_config
    assert "User" not in unit["Service"]    # root: sockets, owners, drop
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_stop_timeout_leaves_room_for_aviaryd(build, unit):
    cfg = effective_config(build, os.path.join(REPO, "conf", "aviary.yaml"))
    assert seconds(one(unit, "Service", "TimeoutStopSec")) > \
        seconds(cfg["aviaryd"]["stop_timeout"])


def test_written_paths_are_writable(build, unit):
    """ProtectSystem=strict: every directory the services write with the
    example configuration is in ReadWritePaths (or the runtime
    directory)."""
    assert one(unit, "Service", "ProtectSystem") == "strict"
    rw = set()
    for v in unit["Service"].get("ReadWritePaths", []):
        rw.update(p.lstrip("-") for p in v.split())
    runtime = "/run/" + one(unit, "Service", "RuntimeDirectory")
    assert runtime in rw

    def writable(path):
        return any(path == d or path.startswith(d + "/") for d in rw)

    cfg = effective_config(build, os.path.join(REPO, "conf", "aviary.yaml"))
    assert writable(cfg["mail"]["root"])
    for path in (cfg["auth"]["client_socket"]["path"],
                 cfg["auth"]["userdb_socket"]["path"],
                 cfg["lmtp"]["socket"]["path"]):
        assert writable(os.path.dirname(path)), path
    assert one(unit, "Service", "UMask") == "0077"


def test_hardening_keeps_the_privilege_drop(unit):
    assert one(unit, "Service", "NoNewPrivileges") == "yes"
    caps = set(one(unit, "Service", "CapabilityBoundingSet").split())
    # setgroups/setresgid/setresuid, chown of the sockets, signals to
    # services running as other users, sockets in postfix's private/,
    # ports below 1024.
    assert {"CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL",
            "CAP_DAC_OVERRIDE", "CAP_NET_BIND_SERVICE"} <= caps
    assert "CAP_SYS_ADMIN" not in caps
    families = set(one(unit, "Service", "RestrictAddressFamilies").split())
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= families
    for key in ("PrivateTmp", "ProtectHome", "PrivateDevices"):
        assert one(unit, "Service", key) == "yes", key


# -- aviaryd's sd_notify ------------------------------------------------------

def _recv(sock, timeout=30):
    sock.settimeout(timeout)
    return sock.recv(4096).decode()


@pytest.fixture
def notify_env(stack):
    """A configuration like the session stack's, with its own sockets in
    a directory the services (nobody) can traverse."""
    d = tempfile.mkdtemp(prefix="av-notify-", dir="/tmp")
    os.chmod(d, 0o755)
    try:
        stack.write_config()
        with open(stack.config) as f:
            text = f.read()
        run = stack.db.rundir
        for name in ("auth-client", "auth-userdb", "lmtp"):
            old = "path: %s/%s\n" % (run, name)
            assert text.count(old) == 1, old
            text = text.replace(old, "path: %s/%s\n" % (d, name))
        config = os.path.join(d, "aviary.yaml")
        with open(config, "w") as f:
            f.write(text)
        yield d, config
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("abstract", [False, True])
def test_sd_notify_ready_reload_stopping(build, notify_env, abstract):
    d, config = notify_env
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "aviary-test-notify-%d" % os.getpid()
        ns.bind("\0" + name)
        addr = "@" + name
    else:
        addr = os.path.join(d, "notify")
        ns.bind(addr)
    env = dict(os.environ, NOTIFY_SOCKET=addr)
    env.pop("AVIARY_CONFIG", None)
    log = open(os.path.join(d, "aviaryd.log"), "wb")
    proc = subprocess.Popen([os.path.join(build, "aviaryd"), "-F", "-c",
                             config], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=log, env=env,
                            preexec_fn=aviarydev.die_with_parent)
    try:
        msg = _recv(ns)
        assert msg.split("\n")[0] == "READY=1", msg
        assert re.search(r"^STATUS=\d+ services? running$", msg, re.M), msg
        before = time.monotonic_ns() // 1000
        proc.send_signal(signal.SIGHUP)
        msg = _recv(ns)
        after = time.monotonic_ns() // 1000
        lines = msg.split("\n")
        assert lines[0] == "RELOADING=1", msg
        usec = int(lines[1].split("=", 1)[1])
        assert lines[1].startswith("MONOTONIC_USEC=")
        # CLOCK_MONOTONIC, in microseconds (ms resolution in aviaryd).
        assert before - 2000 <= usec <= after + 2000, (before, usec, after)
        assert _recv(ns).split("\n")[0] == "READY=1"
        proc.send_signal(signal.SIGTERM)
        assert _recv(ns).split("\n")[0] == "STOPPING=1"
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        ns.close()
    with open(os.path.join(d, "aviaryd.log"), errors="replace") as f:
        text = f.read()
    assert not SANITIZER_RE.search(text), text[-6000:]
