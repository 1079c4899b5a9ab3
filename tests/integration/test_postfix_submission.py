"""The shipped Postfix configuration, end to end: a private Postfix 3.7
(postfix.py) built from conf/postfix/main.cf, conf/postfix/master.cf and
the conf/postfix/mysql-*.cf maps, with aviary-auth answering SMTP AUTH
and aviary-lmtp delivering, against a private MariaDB.

The submission service is the shipped one (only its name and chroot
column changed, see postfix.py): STARTTLS before AUTH, relaying only
after AUTH, and reject_sender_login_mismatch with the sender_login_maps
view (schema/002_sender_login.sql): a login may use its own address, an
alias it receives, and both in alias domains; no other mailbox's
address, no catch-all's domain, no address nobody owns.

At the end, the view itself through the shipped mysql-sender-login-maps.cf
query, run as aviary_postfix like test_postfix_views.py.
"""
import os
import smtplib
import ssl
import subprocess

import pytest

from avstack import REPO
from lmtphelp import AviaryLmtp, lmtp_config, maildir_files, wait_for
from postfix import (MAP_FILES, POSTCONF, POSTFIX, SHIPPED_DIR,
                     SHIPPED_MASTER_CF, AviaryAuth, PostfixError,
                     PrivatePostfix, auth_config, postfix_db, private_stack,
                     read_cf, remove_stack, shipped_main_cf)
from test_postfix_views import Client, cf_query, expand

DOMAIN = "example.test"
ALIAS_DOMAIN = "alias.test"
AUTH_EXTRA = ('  failure_delay: 0s\n'
              '  trusted_networks: ["127.0.0.0/8"]\n')
USERS = {
    "alice@" + DOMAIN: "Alice-sub-pass-1",
    "bob@" + DOMAIN: "Bob-sub-pass-2",
    "carol@" + DOMAIN: "Carol-sub-pass-3",
}
ALICE, BOB, CAROL = sorted(USERS)
SENDER_LOGIN_CF = "mysql-sender-login-maps.cf"
DELIVERY_TIMEOUT = 30


class Env:
    pass


@pytest.fixture(scope="module")
def env(build):
    if os.geteuid() != 0:
        pytest.skip("a private Postfix instance needs root")
    e = Env()
    e.stack = private_stack(build, "av-pfsub-")
    e.auth = e.lmtp = e.pf = None
    try:
        config, client, userdb = auth_config(e.stack, "auth", AUTH_EXTRA)
        run = e.stack.run_admin
        run("domain", "add", DOMAIN)
        for addr, pw in USERS.items():
            run("mailbox", "add", addr, "--password-stdin", input=pw + "\n")
        run("alias", "add", "sales@" + DOMAIN, ALICE)
        run("alias", "add", "team@" + DOMAIN, ALICE, BOB)
        run("alias", "add", "@" + DOMAIN, CAROL)            # catch-all
        run("alias-domain", "add", ALIAS_DOMAIN, DOMAIN)
        e.auth = AviaryAuth(build, config, client, userdb,
                            os.path.join(e.stack.base, "aviary-auth.log"))
        e.auth.start()
        cfg, sock = lmtp_config(e.stack, "lmtp", userdb)
        e.lmtp = AviaryLmtp(build, cfg, sock,
                            os.path.join(e.stack.base, "aviary-lmtp.log"))
        e.lmtp.start()
        base = os.path.join(e.stack.base, "postfix")
        for attempt in range(3):    # a free port may be taken meanwhile
            e.pf = PrivatePostfix(base, PrivatePostfix.free_port(), client,
                                  "queue_run_delay = 1s\n",
                                  db=postfix_db(e.stack), lmtp_path=sock)
            try:
                e.pf.start()
                break
            except PostfixError:
                if attempt == 2:
                    raise
        yield e
    finally:
        reports = []
        try:
            if e.pf is not None:
                e.pf.stop()
        finally:
            for name, proc in (("aviary-lmtp", e.lmtp),
                               ("aviary-auth", e.auth)):
                if proc is None:
                    continue
                proc.stop()
                report = proc.sanitizer_report()
                if report:
                    reports.append("%s:\n%s" % (name, report))
            remove_stack(e.stack)
        if reports:
            pytest.fail("sanitizer report:\n" + "\n".join(reports))


@pytest.fixture
def healthy(env):
    yield env
    for name, proc in (("aviary-lmtp", env.lmtp), ("aviary-auth", env.auth)):
        report = proc.sanitizer_report()
        assert not report, "sanitizer report from %s:\n%s" % (name, report)
        assert proc.alive(), "%s died:\n%s" % (name, proc.log_text()[-4000:])


def submission(env, login=None, tls=True):
    """An SMTP session with the shipped submission service: EHLO,
    STARTTLS (the test certificate is self-signed), EHLO, and AUTH as
    login if given."""
    s = smtplib.SMTP("127.0.0.1", env.pf.submission_port,
                     local_hostname="client.test", timeout=30)
    s.ehlo()
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo()
    if login is not None:
        code, msg = s.login(login, USERS[login])
        assert code == 235, (code, msg)
    return s


def try_sender(env, login, sender, rcpt="bob@" + DOMAIN):
    """(code, message) of RCPT TO after MAIL FROM:<sender> in a session
    logged in as login (None: not logged in). The sender restrictions
    are evaluated at RCPT (smtpd_delay_reject)."""
    with submission(env, login) as s:
        code, msg = s.mail(sender)
        assert code == 250, (code, msg)
        result = s.rcpt(rcpt)
        s.rset()
    return result


def assert_refused(result, sender, why):
    code, msg = result
    assert code == 553, result
    assert msg.startswith(b"5.7.1 <%s>: Sender address rejected: %s" % (
        sender.encode(), why.encode())), msg


# -- the configuration is the shipped one ----------------------------------

def test_main_cf_holds_the_shipped_lines_verbatim(env):
    with open(os.path.join(env.pf.config_dir, "main.cf")) as f:
        main = f.read()
    assert shipped_main_cf(env.pf.config_dir) in main
    # The instance's own lines come first and never set what the
    # shipped lines set; the test's extra lines set none of them either.
    shipped = read_cf(os.path.join(SHIPPED_DIR, "main.cf"))
    before = main[:main.index(shipped_main_cf(env.pf.config_dir))]
    for line in before.splitlines() + env.pf.extra_main_cf.splitlines():
        name = line.partition("=")[0].strip()
        assert line.startswith("#") or name not in shipped, line


def test_effective_values_are_the_shipped_ones(env):
    shipped = read_cf(os.path.join(SHIPPED_DIR, "main.cf"))
    names = sorted(shipped)
    r = subprocess.run([POSTCONF, "-c", env.pf.config_dir, "-x", *names],
                       capture_output=True, text=True, timeout=30,
                       env=env.pf._env())
    assert r.returncode == 0 and r.stderr == "", r.stderr
    got = dict(line.split(" = ", 1) for line in r.stdout.splitlines())
    for name in names:
        want = shipped[name].replace("/etc/postfix/",
                                     env.pf.config_dir + "/")
        assert got[name] == want, name


def test_master_cf_options_verbatim(env):
    with open(os.path.join(env.pf.config_dir, "master.cf")) as f:
        master = f.read().splitlines()
    with open(SHIPPED_MASTER_CF) as f:
        shipped = f.read().splitlines()
    opts = [line for line in shipped if line.startswith("  -o ")]
    assert len(opts) >= 8
    for line in opts:
        assert line in master, line
    r = subprocess.run([POSTCONF, "-c", env.pf.config_dir, "-P",
                        "127.0.0.1:%d/inet/smtpd_sender_restrictions" %
                        env.pf.submission_port],
                       capture_output=True, text=True, timeout=30,
                       env=env.pf._env())
    assert r.stdout.strip().endswith("= reject_sender_login_mismatch"), \
        r.stdout + r.stderr


def test_map_files_differ_only_in_hosts_and_password(env):
    for name in MAP_FILES:
        with open(os.path.join(SHIPPED_DIR, name)) as f:
            want = f.read().splitlines()
        with open(os.path.join(env.pf.maps_dir, name)) as f:
            got = f.read().splitlines()
        assert len(want) == len(got), name
        for a, b in zip(want, got):
            if a.startswith(("hosts = ", "password = ")):
                assert a.split(" = ")[0] == b.split(" = ")[0]
                assert a != b
            else:
                assert a == b, (name, a, b)


def test_docs_show_the_shipped_lines():
    """docs/postfix.md quotes every setting of the two snippets."""
    with open(os.path.join(REPO, "docs", "postfix.md")) as f:
        doc = f.read().splitlines()
    for name in ("main.cf", "master.cf"):
        with open(os.path.join(SHIPPED_DIR, name)) as f:
            for line in f.read().splitlines():
                if line.strip() and not line.startswith("#"):
                    assert line in doc, (name, line)


def test_postfix_check_is_clean(env):
    r = subprocess.run([POSTFIX, "-c", env.pf.config_dir, "check"],
                       capture_output=True, text=True, timeout=60,
                       env=env.pf._env())
    assert r.returncode == 0, r.stdout + r.stderr


# -- submission: TLS and AUTH -----------------------------------------------

def test_auth_only_after_starttls(healthy):
    with submission(healthy, tls=False) as s:
        assert s.has_extn("starttls")
        assert not s.has_extn("auth"), s.esmtp_features
        code, msg = s.mail(ALICE)
        assert code == 530 and b"STARTTLS" in msg, (code, msg)
    with submission(healthy) as s:
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]


def test_login_and_wrong_password(healthy):
    with submission(healthy, ALICE):
        pass
    with submission(healthy) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
            s.login(ALICE, "not-the-password")
        assert exc.value.smtp_code == 535


def test_no_relay_without_login(healthy):
    code, msg = try_sender(healthy, None, "someone@elsewhere.test",
                           "x@remote.test")
    assert code == 554 and b"Access denied" in msg, (code, msg)


def test_relay_after_login(healthy):
    code, msg = try_sender(healthy, ALICE, ALICE, "x@remote.test")
    # Permitted; the test instance's error: transport then refuses the
    # remote destination itself.
    assert b"Access denied" not in msg, (code, msg)
    assert b"no outbound delivery" in msg, (code, msg)


# -- reject_sender_login_mismatch ------------------------------------------

def test_own_address_accepted_and_delivered(healthy):
    env = healthy
    before = len(maildir_files(env.stack, BOB))
    with submission(env, ALICE) as s:
        refused = s.sendmail(ALICE, [BOB], b"From: <%s>\r\nTo: <%s>\r\n"
                             b"Subject: submitted\r\n\r\nhello bob\r\n" % (
                                 ALICE.encode(), BOB.encode()))
        assert refused == {}
    files = wait_for(lambda: (lambda f: len(f) > before and f)(
        maildir_files(env.stack, BOB)), DELIVERY_TIMEOUT)
    assert files, env.pf.log_text()[-3000:]
    log = env.pf.wait_log("status=sent")
    assert "sasl_username=%s" % ALICE in log


def test_other_mailbox_refused(healthy):
    assert_refused(try_sender(healthy, ALICE, BOB), BOB,
                   "not owned by user " + ALICE)


def test_own_alias_accepted(healthy):
    assert try_sender(healthy, ALICE, "sales@" + DOMAIN)[0] == 250


def test_alias_of_another_refused(healthy):
    sales = "sales@" + DOMAIN
    assert_refused(try_sender(healthy, BOB, sales), sales,
                   "not owned by user " + BOB)


def test_alias_with_two_destinations_owned_by_both(healthy):
    team = "team@" + DOMAIN
    assert try_sender(healthy, ALICE, team)[0] == 250
    assert try_sender(healthy, BOB, team)[0] == 250
    assert_refused(try_sender(healthy, CAROL, team), team,
                   "not owned by user " + CAROL)


def test_alias_domain_addresses(healthy):
    assert try_sender(healthy, ALICE, "alice@" + ALIAS_DOMAIN)[0] == 250
    assert try_sender(healthy, ALICE, "sales@" + ALIAS_DOMAIN)[0] == 250
    other = "bob@" + ALIAS_DOMAIN
    assert_refused(try_sender(healthy, ALICE, other), other,
                   "not owned by user " + ALICE)


def test_tagged_own_address_accepted(healthy):
    # recipient_delimiter = +: alice+news is looked up as alice too.
    assert try_sender(healthy, ALICE, "alice+news@" + DOMAIN)[0] == 250
    other = "bob+news@" + DOMAIN
    assert_refused(try_sender(healthy, ALICE, other), other,
                   "not owned by user " + ALICE)


def test_catch_all_owns_nothing(healthy):
    anyone = "nobody-here@" + DOMAIN
    assert_refused(try_sender(healthy, CAROL, anyone), anyone,
                   "not owned by user " + CAROL)


def test_address_nobody_owns_refused(healthy):
    ext = "someone@elsewhere.test"
    assert_refused(try_sender(healthy, ALICE, ext), ext,
                   "not owned by user " + ALICE)


def test_owned_address_without_login_refused(healthy):
    assert_refused(try_sender(healthy, None, ALICE), ALICE, "not logged in")


def test_login_by_alias_domain_name_is_the_mailbox(healthy):
    """AUTH as alice@alias.test logs in as the mailbox alice@example.test
    (aviary-auth's OK user=), which owns alice@example.test."""
    env = healthy
    with submission(env) as s:
        code, _ = s.login("alice@" + ALIAS_DOMAIN, USERS[ALICE])
        assert code == 235
        assert s.mail(ALICE)[0] == 250
        assert s.rcpt(BOB)[0] == 250
        s.rset()


# -- the view, through the shipped query --------------------------------------

@pytest.fixture
def postfix_sql(admin, tmp_path):
    return Client(admin.stack, "aviary_postfix", "db-postfix", str(tmp_path))


def owners(client, addr):
    """The logins the shipped query finds for addr, sorted."""
    return sorted(r[0] for r in client.rows(
        expand(cf_query(SENDER_LOGIN_CF), addr)))


def mbox(admin, addr, *opts):
    admin.ok("mailbox", "add", addr, "--password-stdin", *opts,
             input="Pw-for-%s\n" % addr)


def test_sender_login_view(admin, postfix_sql):
    admin.ok("domain", "add", "one.test")
    admin.ok("domain", "add", "two.test")
    mbox(admin, "a@one.test")
    mbox(admin, "b@one.test")
    mbox(admin, "off@one.test", "--disabled")
    admin.ok("alias", "add", "list@one.test", "a@one.test", "b@one.test",
             "ext@elsewhere.test")
    admin.ok("alias", "add", "@one.test", "a@one.test")
    admin.ok("alias-domain", "add", "alias.test", "one.test")
    q = postfix_sql
    assert owners(q, "a@one.test") == ["a@one.test"]
    # A disabled mailbox keeps its address.
    assert owners(q, "off@one.test") == ["off@one.test"]
    assert owners(q, "list@one.test") == ["a@one.test", "b@one.test",
                                          "ext@elsewhere.test"]
    assert owners(q, "a@alias.test") == ["a@one.test"]
    assert owners(q, "list@alias.test") == ["a@one.test", "b@one.test",
                                            "ext@elsewhere.test"]
    # Catch-alls and malformed keys own nothing.
    for key in ("nobody@one.test", "@one.test", "one.test", "a",
                "a@one.test@one.test", "x' OR '1'='1@one.test",
                "%@one.test", "a@two.test"):
        assert owners(q, key) == [], key


def test_sender_login_view_follows_changes(admin, postfix_sql):
    admin.ok("domain", "add", "one.test")
    mbox(admin, "a@one.test")
    admin.ok("alias", "add", "x@one.test", "a@one.test")
    admin.ok("alias-domain", "add", "alias.test", "one.test")
    assert owners(postfix_sql, "x@one.test") == ["a@one.test"]
    admin.ok("alias", "delete", "x@one.test")
    assert owners(postfix_sql, "x@one.test") == []
    assert owners(postfix_sql, "a@alias.test") == ["a@one.test"]
    admin.ok("alias-domain", "delete", "alias.test")
    assert owners(postfix_sql, "a@alias.test") == []


def test_postfix_account_reads_the_view_only(admin, postfix_sql):
    r = postfix_sql.run("SELECT * FROM aliases")
    assert r.returncode != 0 and "denied" in r.stderr.lower(), r.stderr
    assert postfix_sql.rows("SELECT COUNT(*) FROM sender_login_maps") == \
        [["0"]]
