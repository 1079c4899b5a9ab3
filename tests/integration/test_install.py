"""`make install DESTDIR=<tmp> PREFIX=/usr/local B=<AVIARY_BUILD>` lays
out exactly the tree docs/install.md lists, with the documented modes,
and a second install keeps an edited etc/aviary/aviary.yaml."""
import glob
import os
import stat
import subprocess

import pytest

from avstack import BUILD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PREFIX = "/usr/local"

# The installed files (docs/install.md, "The installed tree"), mode of
# each; the *.sql, *.cf, *.md and man page entries are expanded from the
# sources.
TREE = {
    "usr/local/sbin/aviaryd": 0o755,
    "usr/local/sbin/aviary-auth": 0o755,
    "usr/local/sbin/aviary-lmtp": 0o755,
    "usr/local/sbin/aviary-pop3": 0o755,
    "usr/local/sbin/aviary-imap": 0o755,
    "usr/local/bin/aviary-admin": 0o755,
    "usr/local/share/aviary/schema/*.sql": 0o644,
    "usr/local/share/aviary/postfix/*.cf": 0o644,
    "usr/local/share/aviary/fail2ban/filter.d/aviary.conf": 0o644,
    "usr/local/share/aviary/fail2ban/jail.d/aviary.local": 0o644,
    "usr/local/share/doc/aviary/README.md": 0o644,
    "usr/local/share/doc/aviary/*.md": 0o644,
    "usr/local/share/man/man5/*.5": 0o644,
    "usr/local/share/man/man8/*.8": 0o644,
    "lib/systemd/system/aviary.service": 0o644,
    "etc/aviary/aviary.yaml": 0o640,
}
SOURCES = {
    "usr/local/share/aviary/schema/*.sql": "schema/*.sql",
    "usr/local/share/aviary/postfix/*.cf": "conf/postfix/*.cf",
    "usr/local/share/doc/aviary/*.md": "docs/*.md",
    "usr/local/share/man/man5/*.5": "man/*.5",
    "usr/local/share/man/man8/*.8": "man/*.8",
}


def expected():
    files = {}
    for path, mode in TREE.items():
        if path in SOURCES:
            srcs = glob.glob(os.path.join(ROOT, SOURCES[path]))
            assert srcs, SOURCES[path]
            for s in srcs:
                files[os.path.join(os.path.dirname(path),
                                   os.path.basename(s))] = mode
        else:
            files[path] = mode
    return files


def sanitized():
    with open(os.path.join(BUILD, "aviary-auth"), "rb") as f:
        return b"__asan_init" in f.read()


def make_install(destdir):
    args = ["make", "--no-print-directory", "install", "DESTDIR=" + destdir,
            "PREFIX=" + PREFIX, "B=" + BUILD]
    if sanitized():
        args.append("SAN=1")    # so `all` would rebuild with the same flags
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout + r.stderr


def tree(destdir):
    found = {}
    for d, _, names in os.walk(destdir):
        for n in names:
            p = os.path.join(d, n)
            found[os.path.relpath(p, destdir)] = stat.S_IMODE(
                os.lstat(p).st_mode)
    return found


@pytest.fixture
def dest(build, tmp_path):
    return str(tmp_path / "root")


def test_tree_and_modes(dest):
    make_install(dest)
    assert tree(dest) == expected()
    for f in ("aviaryd", "aviary-auth", "aviary-lmtp", "aviary-pop3",
              "aviary-imap"):
        with open(os.path.join(BUILD, f), "rb") as a, \
                open(os.path.join(dest, "usr/local/sbin", f), "rb") as b:
            assert a.read() == b.read(), f
    with open(os.path.join(ROOT, "conf/aviary.yaml")) as a, \
            open(os.path.join(dest, "etc/aviary/aviary.yaml")) as b:
        assert a.read() == b.read()


def test_unit_paths_follow_prefix(dest):
    make_install(dest)
    with open(os.path.join(dest, "lib/systemd/system/aviary.service")) as f:
        unit = f.read()
    assert "ExecStart=%s/sbin/aviaryd -F -c /etc/aviary/aviary.yaml\n" \
        % PREFIX in unit
    # another prefix rewrites it
    other = dest + "-usr"
    r = subprocess.run(["make", "--no-print-directory", "install",
                        "DESTDIR=" + other, "PREFIX=/usr", "B=" + BUILD] +
                       (["SAN=1"] if sanitized() else []), cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(os.path.join(other, "lib/systemd/system/aviary.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/sbin/aviaryd -F -c /etc/aviary/aviary.yaml\n" \
        in unit
    assert "/usr/local" not in unit
    assert os.access(os.path.join(other, "usr/sbin/aviaryd"), os.X_OK)


def test_second_install_keeps_edited_config(dest):
    make_install(dest)
    conf = os.path.join(dest, "etc/aviary/aviary.yaml")
    with open(conf, "a") as f:
        f.write("# edited by the admin\n")
    os.chmod(conf, 0o600)
    out = make_install(dest)
    with open(conf) as f:
        assert f.read().endswith("# edited by the admin\n")
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    assert "KEEP" in out
    assert tree(dest).keys() == expected().keys()
