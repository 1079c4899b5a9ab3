"""aviary-admin's commands that talk to a running aviary-auth: auth test,
user, auth cache flush, auth penalty (list and clear)."""
import json
import os

import pytest

from avhelpers import (EX_NOPERM, EX_NOUSER, EX_UNAVAILABLE, assert_fail,
                       assert_ok)
from postfix import AviaryAuth, auth_config, private_stack, remove_stack

DOMAIN = "adminauth.test"
ALICE = "alice@" + DOMAIN
PW = "Alice-pw-1"


class Env:
    pass


@pytest.fixture(scope="module")
def env(build):
    e = Env()
    e.stack = private_stack(build, "av-adminauth-")
    e.auth = None
    try:
        # trusted_networks empty: failures from 127.0.0.1 are counted.
        e.config, client, userdb = auth_config(
            e.stack, "auth", "  failure_delay: 0s\n")
        e.stack.run_admin("domain", "add", DOMAIN)
        e.stack.run_admin("mailbox", "add", ALICE, "--password-stdin",
                          "--quota", "1G", input=PW + "\n")
        e.stack.run_admin("alias-domain", "add", "alias-" + DOMAIN, DOMAIN)
        e.auth = AviaryAuth(build, e.config, client, userdb,
                            os.path.join(e.stack.base, "aviary-auth.log"))
        e.auth.start()
        yield e
    finally:
        report = ""
        try:
            if e.auth is not None:
                e.auth.stop()
                report = e.auth.sanitizer_report()
        finally:
            remove_stack(e.stack)
        if report:
            pytest.fail("sanitizer report from aviary-auth:\n" + report)


def admin(env, *args, input=None):
    return env.stack.run_admin("-c", env.config, *args, input=input,
                               check=False)


def test_auth_test_ok(env):
    r = assert_ok(admin(env, "auth", "test", ALICE, "--password-stdin",
                        input=PW + "\n"))
    assert r.stdout == "auth succeeded: user=%s\n" % ALICE


def test_auth_test_json_and_alias_domain(env):
    r = assert_ok(admin(env, "--json", "auth", "test", "ALICE@alias-" + DOMAIN,
                        "--password-stdin", input=PW + "\n"))
    assert json.loads(r.stdout) == {"result": "ok", "user": ALICE}


def test_auth_test_wrong_password(env):
    r = admin(env, "auth", "test", ALICE, "--password-stdin",
              input="nope\n")
    assert_fail(r, EX_NOPERM)
    assert "auth failed" in r.stderr
    assert "nope" not in r.stderr + r.stdout
    admin(env, "auth", "penalty", "clear")


def test_auth_test_unreachable(env, tmp_path):
    cfg = tmp_path / "noauth.yaml"
    text = open(env.config).read().replace(env.auth.client_socket,
                                           str(tmp_path / "missing"))
    cfg.write_text(text)
    r = env.stack.run_admin("-c", str(cfg), "auth", "test", ALICE,
                            "--password-stdin", input=PW + "\n", check=False)
    assert_fail(r, EX_UNAVAILABLE)


def test_user_lookup(env):
    r = assert_ok(admin(env, "--json", "user", ALICE))
    u = json.loads(r.stdout)
    assert u["user"] == ALICE
    assert u["home"] == os.path.join(env.stack.mailroot, DOMAIN, "alice")
    assert u["mail"] == "maildir:" + u["home"]
    assert u["quota_rule"] == "*:bytes=%d" % (1 << 30)
    assert u["active"] == "1"
    r = assert_ok(admin(env, "user", "alice@alias-" + DOMAIN))
    assert r.stdout.startswith("User:") and ALICE in r.stdout


def test_user_unknown(env):
    assert_fail(admin(env, "user", "nobody@" + DOMAIN), EX_NOUSER)


def test_user_disabled_shows_inactive(env):
    assert_ok(admin(env, "mailbox", "disable", ALICE))
    try:
        u = json.loads(assert_ok(admin(env, "--json", "user", ALICE)).stdout)
        assert u["active"] == "0"
    finally:
        assert_ok(admin(env, "mailbox", "enable", ALICE))


def test_cache_flush(env):
    assert_ok(admin(env, "auth", "cache", "flush"))
    assert_ok(admin(env, "auth", "test", ALICE, "--password-stdin",
                    input=PW + "\n"))
    r = assert_ok(admin(env, "auth", "cache", "flush", ALICE))
    assert r.stdout == "flushed 1 cache entry\n"
    # A login through an alias domain is cached under that name, and
    # flushed with the mailbox it resolved to.
    assert_ok(admin(env, "auth", "test", "alice@alias-" + DOMAIN,
                    "--password-stdin", input=PW + "\n"))
    r = assert_ok(admin(env, "auth", "cache", "flush", ALICE))
    assert r.stdout == "flushed 1 cache entry\n"
    r = assert_ok(admin(env, "auth", "cache", "flush", ALICE))
    assert r.stdout == "flushed 0 cache entries\n"
    assert_ok(admin(env, "auth", "test", ALICE, "--password-stdin",
                    input=PW + "\n"))
    assert_ok(admin(env, "auth", "cache", "flush"))


def test_penalty_list_and_clear(env):
    admin(env, "auth", "penalty", "clear")
    for i in range(2):
        assert_fail(admin(env, "auth", "test", ALICE, "--password-stdin",
                          input="wrong-%d\n" % i), EX_NOPERM)
    rows = json.loads(assert_ok(admin(env, "--json", "auth", "penalty")).stdout)
    keys = {r["key"]: r for r in rows}
    assert keys["user:" + ALICE]["failures"] == "2"
    assert keys["ip:127.0.0.1"]["delay_ms"] == "500"
    r = assert_ok(admin(env, "auth", "penalty", "clear", ALICE))
    assert r.stdout == "cleared 1 penalty\n"
    r = assert_ok(admin(env, "auth", "penalty", "clear", "127.0.0.1"))
    assert r.stdout == "cleared 1 penalty\n"
    rows = json.loads(assert_ok(admin(env, "--json", "auth", "penalty")).stdout)
    assert rows == []


def test_passwd_flushes_and_old_password_stops(env):
    assert_ok(admin(env, "auth", "test", ALICE, "--password-stdin",
                    input=PW + "\n"))
    assert_ok(admin(env, "mailbox", "passwd", ALICE, "--password-stdin",
                    input="Alice-pw-2\n"))
    try:
        assert_fail(admin(env, "auth", "test", ALICE, "--password-stdin",
                          input=PW + "\n"), EX_NOPERM)
        assert_ok(admin(env, "auth", "test", ALICE, "--password-stdin",
                        input="Alice-pw-2\n"))
    finally:
        assert_ok(admin(env, "mailbox", "passwd", ALICE, "--password-stdin",
                        input=PW + "\n"))
        admin(env, "auth", "penalty", "clear")
