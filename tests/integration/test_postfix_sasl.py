"""SMTP AUTH through a real Postfix 3.7 (smtpd_sasl_type = dovecot) against
aviary-auth: a private MariaDB stack, aviary-auth on its own sockets, and
a private Postfix instance (postfix.py) on a high loopback port whose
smtpd_sasl_path is aviary-auth's client socket.

What Postfix makes of aviary-auth's answers (protocols.md 1.5 and the
Appendix): OK -> 235, any FAIL -> 535, a dropped connection -> 454 4.7.0.
So a database outage must give 454 (aviary-auth closes the minor-0
connection), not 535, and the service must recover without a restart.
"""
import base64
import os
import re
import smtplib
import subprocess
import time

import pytest

from postfix import (AviaryAuth, PostfixError, PrivatePostfix, auth_config,
                     postfix_db, private_stack, remove_stack)

DOMAIN = "example.test"
# failure_delay 0s keeps the suite fast; loopback is trusted, so the
# repeated failures from 127.0.0.1 below are not penalised.
AUTH_EXTRA = ('  failure_delay: 0s\n'
              '  trusted_networks: ["127.0.0.0/8"]\n')
SWAKS = "/usr/bin/swaks"

USERS = {
    # address: password (the ones that log in before the outage)
    "user1@" + DOMAIN: "Pf-user1-0ne!",
    "user2@" + DOMAIN: "pf user2 with spaces",
    "swaks@" + DOMAIN: "Swaks-pass-7",
    # never logs in before the database goes down: nothing cached
    "down1@" + DOMAIN: "Down1-never-cached",
}
WRONG = ["wrong-password-1", "Pf-user1-0ne", "Swaks-pass-8"]


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


class Env:
    pass


@pytest.fixture(scope="module")
def env(build):
    e = Env()
    e.stack = private_stack(build, "av-pfsasl-")
    e.auth = e.pf = None
    e.stopped = False
    try:
        config, client, userdb = auth_config(e.stack, "auth", AUTH_EXTRA)
        e.stack.run_admin("domain", "add", DOMAIN)
        for addr, pw in USERS.items():
            e.stack.run_admin("mailbox", "add", addr, "--password-stdin",
                              input=pw + "\n")
        e.auth = AviaryAuth(build, config, client, userdb,
                            os.path.join(e.stack.base, "aviary-auth.log"))
        e.auth.start()
        for attempt in range(3):    # the free port may be taken meanwhile
            e.pf = PrivatePostfix(os.path.join(e.stack.base, "postfix"),
                                  PrivatePostfix.free_port(), client,
                                  db=postfix_db(e.stack))
            try:
                e.pf.start()
                break
            except PostfixError:
                if attempt == 2:
                    raise
        e.port = e.pf.port
        yield e
    finally:
        report = ""
        try:
            if e.pf is not None:
                e.pf.stop()
        finally:
            if e.auth is not None:
                e.auth.stop()
                report = e.auth.sanitizer_report()
            remove_stack(e.stack)
        if report:
            pytest.fail("sanitizer report from aviary-auth:\n" + report)


@pytest.fixture(autouse=True)
def auth_healthy(env):
    """After each test: aviary-auth still runs and reported nothing."""
    yield
    report = env.auth.sanitizer_report()
    assert not report, "sanitizer report from aviary-auth:\n" + report
    if not env.stopped:
        assert env.auth.alive(), \
            "aviary-auth died:\n" + env.auth.log_text()[-4000:]


def smtp(env):
    s = smtplib.SMTP("127.0.0.1", env.port, local_hostname="client.test",
                     timeout=30)
    code, _ = s.ehlo()
    assert code == 250
    return s


def auth_plain(env, user, password):
    """(code, message) of AUTH PLAIN with an initial response, in a new
    session."""
    with smtp(env) as s:
        return s.docmd("AUTH", "PLAIN " + plain(user, password))


U1 = "user1@" + DOMAIN
U2 = "user2@" + DOMAIN


def test_ehlo_advertises_plain_and_login(env):
    with smtp(env) as s:
        assert s.has_extn("auth"), s.esmtp_features
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]


def test_auth_plain_ok(env):
    code, msg = auth_plain(env, U1, USERS[U1])
    assert (code, msg) == (235, b"2.7.0 Authentication successful")


def test_auth_plain_password_with_spaces(env):
    assert auth_plain(env, U2, USERS[U2])[0] == 235


def test_auth_plain_without_initial_response(env):
    with smtp(env) as s:
        assert s.docmd("AUTH", "PLAIN") == (334, b"")
        code, msg = s.docmd(plain(U1, USERS[U1]))
        assert code == 235, msg


def test_auth_login_ok(env):
    with smtp(env) as s:
        assert s.docmd("AUTH", "LOGIN") == (334, b"VXNlcm5hbWU6")
        assert s.docmd(b64(U1)) == (334, b"UGFzc3dvcmQ6")
        code, msg = s.docmd(b64(USERS[U1]))
        assert code == 235, msg


def test_auth_login_with_initial_response(env):
    with smtp(env) as s:
        assert s.docmd("AUTH", "LOGIN " + b64(U2)) == (334, b"UGFzc3dvcmQ6")
        code, msg = s.docmd(b64(USERS[U2]))
        assert code == 235, msg


def test_login_name_is_case_insensitive(env):
    assert auth_plain(env, U1.upper(), USERS[U1])[0] == 235


def test_wrong_password_535(env):
    code, msg = auth_plain(env, U1, WRONG[0])
    assert code == 535, msg
    assert msg.startswith(b"5.7.8 "), msg


def test_password_prefix_is_wrong(env):
    assert auth_plain(env, U1, WRONG[1])[0] == 535


def test_unknown_user_535(env):
    code, msg = auth_plain(env, "nobody-here@" + DOMAIN, WRONG[0])
    assert code == 535, msg


def test_unknown_domain_535(env):
    code, msg = auth_plain(env, "user1@unknown-domain.test", USERS[U1])
    assert code == 535, msg


def test_auth_login_wrong_password_535(env):
    with smtp(env) as s:
        assert s.docmd("AUTH", "LOGIN")[0] == 334
        assert s.docmd(b64(U1))[0] == 334
        assert s.docmd(b64(WRONG[0]))[0] == 535


def test_failure_then_success_in_one_session(env):
    """Postfix allows another AUTH after a failure in the same session."""
    with smtp(env) as s:
        assert s.docmd("AUTH", "PLAIN " + plain(U1, WRONG[0]))[0] == 535
        assert s.docmd("AUTH", "PLAIN " + plain(U1, USERS[U1]))[0] == 235


def test_aborted_exchange_does_not_block_the_next(env):
    """'*' makes Postfix answer 501 itself and abandon the request at the
    auth server (it never sends CANCEL); the next AUTH, with a new id on
    the same auth connection, must still work."""
    with smtp(env) as s:
        assert s.docmd("AUTH", "LOGIN")[0] == 334
        assert s.docmd(b64(U1))[0] == 334
        code, _ = s.docmd("*")
        assert code == 501
        code, msg = s.docmd("AUTH", "PLAIN " + plain(U1, USERS[U1]))
        assert code == 235, msg


def test_repeated_failures_stay_535_and_fast(env):
    """Failures from the trusted loopback are not penalised: twenty
    wrong passwords in a row all get 535 quickly (never 454), and the
    right one still works afterwards."""
    start = time.monotonic()
    for i in range(20):
        code, msg = auth_plain(env, U2, "wrong-%d" % i)
        assert code == 535, (i, code, msg)
    assert time.monotonic() - start < 15
    assert auth_plain(env, U2, USERS[U2])[0] == 235


def test_relay_only_after_auth(env):
    with smtp(env) as s:
        assert s.docmd("MAIL FROM:<someone@elsewhere.test>")[0] == 250
        code, msg = s.docmd("RCPT TO:<x@remote.test>")
        assert code == 554 and b"Access denied" in msg, (code, msg)
    with smtp(env) as s:
        assert s.docmd("AUTH", "PLAIN " + plain(U1, USERS[U1]))[0] == 235
        assert s.docmd("MAIL FROM:<%s>" % U1)[0] == 250
        code, msg = s.docmd("RCPT TO:<x@remote.test>")
        # Relaying is permitted; the test instance's error: transport
        # then refuses the remote destination itself.
        assert b"Access denied" not in msg, (code, msg)
        assert b"no outbound delivery" in msg, (code, msg)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_log_shows_sasl_username(env, mech):
    with smtp(env) as s:
        if mech == "PLAIN":
            assert s.docmd("AUTH", "PLAIN " + plain(U1, USERS[U1]))[0] == 235
        else:
            assert s.docmd("AUTH", "LOGIN " + b64(U1))[0] == 334
            assert s.docmd(b64(USERS[U1]))[0] == 235
        assert s.docmd("MAIL FROM:<%s>" % U1)[0] == 250
        s.rset()
    want = "sasl_method=%s, sasl_username=%s" % (mech, U1)
    log = env.pf.wait_log(want)
    assert want in log, log[-3000:]


def swaks(env, user, password, mech="PLAIN"):
    # The password on swaks's argv is acceptable in a test.
    return subprocess.run(
        [SWAKS, "--server", "127.0.0.1:%d" % env.port, "--ehlo", "client.test",
         "--to", "nobody@remote.test", "--from", user, "--auth", mech,
         "--auth-user", user, "--auth-password", password,
         "--quit-after", "AUTH", "--timeout", "30"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_right_password_235(env, mech):
    r = swaks(env, "swaks@" + DOMAIN, USERS["swaks@" + DOMAIN], mech)
    assert re.search(r"^<-\s+235 2\.7\.0 Authentication successful$",
                     r.stdout, re.M), r.stdout
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)


def test_swaks_wrong_password_535(env):
    r = swaks(env, "swaks@" + DOMAIN, WRONG[2])
    assert re.search(r"^<\S*\s+535 5\.7\.8 ", r.stdout, re.M), r.stdout
    assert not re.search(r"^<\S*\s+235 ", r.stdout, re.M), r.stdout
    assert r.returncode != 0, r.stdout


def test_database_down_gives_454_then_recovers(env):
    """MariaDB stopped: a login nothing has cached gets 454 4.7.0 (the
    connection to aviary-auth is dropped), not 535; a login verified
    before is served from the cache (auth.stale_ttl), but a wrong
    password for it is still no success. MariaDB back: the same login
    works, with the same aviary-auth process."""
    down = "down1@" + DOMAIN
    pid = env.auth.pid
    assert auth_plain(env, U1, USERS[U1])[0] == 235     # cached now
    env.stack.db.stop()
    try:
        code, msg = auth_plain(env, down, USERS[down])
        assert code == 454, (code, msg)
        assert msg.startswith(b"4.7.0 "), msg
        # The stale cache answers for a login verified before ...
        code, msg = auth_plain(env, U1, USERS[U1])
        assert code == 235, (code, msg)
        # ... but never for a password it has not verified.
        code, msg = auth_plain(env, U1, WRONG[0])
        assert code == 454, (code, msg)
        # Still temporary on a second try: nothing was cached.
        assert auth_plain(env, down, USERS[down])[0] == 454
    finally:
        if not env.stack.db.ping():
            env.stack.db.start()
    code, msg = auth_plain(env, down, USERS[down])
    assert code == 235, (code, msg)
    assert auth_plain(env, down, WRONG[0])[0] == 535
    assert env.auth.alive() and env.auth.pid == pid
    log = env.auth.log_text()
    assert "temporary failure" in log, log[-3000:]


def test_zz_logs_clean_and_shutdown(env):
    """Last: no password or SASL payload in aviary-auth's log (nor in
    Postfix's), and aviary-auth stops cleanly on SIGTERM with no
    sanitizer report."""
    env.pf.stop()
    env.stopped = True
    status = env.auth.stop()
    log = env.auth.log_text()
    pflog = env.pf.log_text()
    secrets = list(USERS.values()) + WRONG
    for pw in secrets:
        for addr in USERS:
            for needle in (pw, b64(pw), plain(addr, pw),
                           b64("%s\0%s" % (addr, pw))):
                assert needle not in log, "aviary-auth logged %r" % needle
                assert needle not in pflog, "Postfix logged %r" % needle
    assert "resp=" not in log
    assert "$6$" not in log, "a password hash in the log"
    assert status == 0, (status, log[-3000:])
    assert "auth: stopping" in log
    report = env.auth.sanitizer_report()
    assert not report, report
