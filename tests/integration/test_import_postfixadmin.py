"""aviary-admin import postfixadmin, end to end: a PostfixAdmin 3.3
database (tests/integration/postfixadmin_schema.sql) in a second database
of the test MariaDB, filled with domains, mailboxes whose passwords were
hashed the ways PostfixAdmin hashes them, aliases and an alias domain;
then a dry run, the import, the same import again (nothing changes),
conflicts and --update, and logins with the old passwords through a
running aviary-auth (`aviary-admin auth test`)."""
import base64
import hashlib
import json
import os
import warnings

import pytest

from avhelpers import (EX_DATAERR, EX_NOPERM, EX_UNAVAILABLE, EX_USAGE,
                       assert_fail, assert_ok)
from avstack import aviarydev
from postfix import AviaryAuth, auth_config, private_stack, remove_stack

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt   # noqa: E402  (deprecated, still in Debian 12's 3.11)

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DB = "pfa_src"
CLEAN_DB = "pfa_clean"
READER = "pfa_reader"
MB = 1024000           # PostfixAdmin's default quota_multiplier

q = aviarydev.sql_quote


def md5crypt(pw):
    return crypt.crypt(pw, "$1$pfasalt1$")


def sha512crypt(pw):
    return crypt.crypt(pw, crypt.mksalt(crypt.METHOD_SHA512))


def sha256crypt_rounds(pw):
    return crypt.crypt(pw, "$5$rounds=5000$pfasaltsalt$")


def ssha256(pw):
    salt = b"\x01\x02\x03\x04"
    digest = hashlib.sha256(pw.encode() + salt).digest()
    return "{SSHA256}" + base64.b64encode(digest + salt).decode()


class Env:
    pass


# address -> (password, stored value maker, expected login result)
def make_users(e):
    blf = e.stack.run_admin("pw", "-s", "BLF-CRYPT", "--password-stdin",
                            input="Bcrypt-pw-3\n").stdout.strip()
    assert blf.startswith("{BLF-CRYPT}$2y$"), blf
    return {
        # encrypt = md5crypt (PostfixAdmin's default): bare $1$
        "md5@example.org": ("Md5-pw-1", md5crypt("Md5-pw-1"), True),
        # php_crypt:SHA512: bare $6$
        "sha512@example.org": ("Sha512-pw-2", sha512crypt("Sha512-pw-2"),
                               True),
        # php_crypt:BLOWFISH: bare $2y$
        "bcrypt@example.org": ("Bcrypt-pw-3", blf[len("{BLF-CRYPT}"):], True),
        # dovecot:SHA512-CRYPT: with its prefix
        "dovecot@example.org": ("Dovecot-pw-4",
                                "{SHA512-CRYPT}" + sha512crypt("Dovecot-pw-4"),
                                True),
        # mixed case in PostfixAdmin, lower case in Aviary
        "Carol@Example.org": ("Carol-pw-5", sha512crypt("Carol-pw-5"), True),
        "sha256@example.net": ("Sha256-pw-6", sha256crypt_rounds("Sha256-pw-6"),
                               True),
        # dovecot:PLAIN (or encrypt = cleartext with the prefix)
        "clear@example.net": ("Clear-pw-7", "{PLAIN}Clear-pw-7", True),
        # encrypt = md5: hex MD5, which aviary-auth cannot verify
        "plainmd5@example.net": ("Plainmd5-pw-8",
                                 hashlib.md5(b"Plainmd5-pw-8").hexdigest(),
                                 False),
        # dovecot:SSHA256: not supported either
        "ssha@example.net": ("Ssha-pw-9", ssha256("Ssha-pw-9"), False),
        "mismatch@example.net": ("Mismatch-pw-10",
                                 sha512crypt("Mismatch-pw-10"), True),
        # a disabled domain: imported disabled, no login
        "off@inactive.example": ("Off-pw-11", sha512crypt("Off-pw-11"),
                                 False),
    }


def fill_source(e):
    with open(os.path.join(HERE, "postfixadmin_schema.sql")) as f:
        schema = f.read()
    sql = ["CREATE DATABASE %s;" % SRC_DB, "USE %s;" % SRC_DB, schema]
    domains = [
        # domain, aliases, mailboxes, maxquota MB, quota MB, backupmx, active
        ("ALL", 0, 0, 0, 0, 0, 1),
        ("example.org", 20, 10, 100, 2000, 0, 1),
        ("example.net", 0, -1, 0, 0, 0, 1),
        ("inactive.example", 0, 0, 0, 0, 0, 0),
        ("alias.example.org", 0, 0, 0, 0, 0, 1),
        ("backup.example", 0, 0, 0, 0, 1, 1),
    ]
    for d in domains:
        sql.append("INSERT INTO domain (domain, description, aliases, "
                   "mailboxes, maxquota, quota, transport, backupmx, "
                   "active) VALUES (%s, 'test', %d, %d, %d, %d, 'virtual', "
                   "%d, %d);" % ((q(d[0]),) + d[1:]))
    for addr, (pw, stored, _) in e.users.items():
        local, domain = addr.split("@")
        maildir = "%s/%s/" % (domain.lower(), local.lower())
        if local == "mismatch":
            maildir = "%s/%s/" % (domain, addr)   # domain_in_mailbox = YES
        quota = 50 * MB if addr.startswith("md5@") else 0
        sql.append("INSERT INTO mailbox (username, password, name, maildir, "
                   "quota, local_part, domain, active) VALUES (%s, %s, %s, "
                   "%s, %d, %s, %s, 1);" % (
                       q(addr), q(stored), q("User " + local), q(maildir),
                       quota, q(local), q(domain.lower())))
        # PostfixAdmin lists every mailbox as an alias of itself.
        sql.append("INSERT INTO alias (address, goto, domain) VALUES "
                   "(%s, %s, %s);" % (q(addr), q(addr), q(domain.lower())))
    aliases = [
        ("info@example.org", "md5@example.org,sha512@example.org", 1),
        ("@example.org", "md5@example.org", 1),
        ("sha512@example.org", "sha512@example.org,external@elsewhere.test",
         1),
        ("bcrypt@example.org", "fwd@elsewhere.test", 1),
        ("sleeping@example.net", "clear@example.net", 0),
        ("broken@example.net", "not an address", 1),
        # The same destination twice (once in upper case): one row.
        ("dup@example.org", "md5@example.org, MD5@example.org", 1),
    ]
    for addr, goto, active in aliases:
        # The self rows of sha512@ and bcrypt@ become forwards.
        sql.append("REPLACE INTO alias (address, goto, domain, active) "
                   "VALUES (%s, %s, %s, %d);" % (
                       q(addr), q(goto), q(addr.split("@")[1]), active))
    sql.append("INSERT INTO alias_domain (alias_domain, target_domain) "
               "VALUES ('alias.example.org', 'example.org');")
    # A read-only account for the import, as an operator would make.
    sql.append("CREATE USER %s@'localhost' IDENTIFIED BY %s;" % (
        q(READER), q(e.reader_pw)))
    sql.append("GRANT SELECT ON %s.* TO %s@'localhost';" % (SRC_DB, q(READER)))
    # A second, clean source: one domain, one mailbox, nothing to report.
    sql += ["CREATE DATABASE %s;" % CLEAN_DB, "USE %s;" % CLEAN_DB, schema,
            "INSERT INTO domain (domain, description, transport) VALUES "
            "('clean.example', '', 'virtual');",
            "INSERT INTO mailbox (username, password, name, maildir, quota, "
            "local_part, domain) VALUES ('neat@clean.example', %s, 'Neat', "
            "'clean.example/neat/', 1048576, 'neat', 'clean.example');" %
            q(sha512crypt("Neat-pw-12")),
            "INSERT INTO alias (address, goto, domain) VALUES "
            "('neat@clean.example', 'neat@clean.example', 'clean.example');",
            "GRANT SELECT ON %s.* TO %s@'localhost';" % (CLEAN_DB, q(READER))]
    e.stack.db.sql("\n".join(sql) + "\n")


@pytest.fixture(scope="module")
def env(build):
    e = Env()
    e.stack = private_stack(build, "av-pfa-")
    e.auth = None
    try:
        e.reader_pw = "Reader-pw-0"
        e.pwfile = os.path.join(e.stack.base, "pfa.pass")
        aviarydev.write_secret(e.pwfile, e.reader_pw)
        e.users = make_users(e)
        fill_source(e)
        e.config, client, userdb = auth_config(
            e.stack, "auth", "  failure_delay: 0s\n")
        e.auth = AviaryAuth(build, e.config, client, userdb,
                            os.path.join(e.stack.base, "aviary-auth.log"))
        e.auth.start()
        e.outputs = []
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


def admin(e, *args, input=None):
    r = e.stack.run_admin("-c", e.config, *args, input=input, check=False)
    e.outputs.append(r.stdout + r.stderr)
    return r


def source_args(e, db=SRC_DB):
    return ["--source-host", "unix:" + e.stack.db.socket, "--source-db", db,
            "--source-user", READER, "--source-password-file", e.pwfile]


def run_import(e, *extra, db=SRC_DB, want=EX_DATAERR):
    """Run the import with --json; check the exit status (65 when the
    report lists anything that needs attention) and return the report."""
    r = admin(e, "--json", "import", "postfixadmin", *source_args(e, db),
              *extra)
    assert r.returncode == want, (r.returncode, r.stderr, r.stdout)
    if want == 0:
        assert r.stderr == ""
    else:
        assert r.stderr.startswith("aviary-admin: import: ")
        assert len(r.stderr.splitlines()) == 1
    rep = json.loads(r.stdout)
    rep["summary_by_type"] = {row["type"]: row for row in rep["summary"]}
    return rep


def events(rep, action=None, type_=None):
    return [ev for ev in rep["events"]
            if (action is None or ev["action"] == action) and
            (type_ is None or ev["type"] == type_)]


def sql(e, query):
    return [line.split("\t") for line in
            e.stack.db.sql(query, database=e.stack.dbname).splitlines()]


def count(e, table):
    return int(sql(e, "SELECT COUNT(*) FROM %s" % table)[0][0])


def auth_test(e, addr, pw):
    return admin(e, "auth", "test", addr, "--password-stdin", input=pw + "\n")


# ------------------------------------------------------------------ tests

def test_refuses_password_on_the_command_line(env):
    r = admin(env, "import", "postfixadmin", "--source-password", "x")
    assert_fail(r, EX_USAGE, "never taken from the command line")
    r = admin(env, "import", "vpopmail")
    assert_fail(r, EX_USAGE, "unknown source")


def test_wrong_source_password(env, tmp_path):
    bad = str(tmp_path / "bad.pass")
    aviarydev.write_secret(bad, "wrong")
    r = admin(env, "import", "postfixadmin", "--source-host",
              "unix:" + env.stack.db.socket, "--source-db", SRC_DB,
              "--source-user", READER, "--source-password-file", bad)
    assert_fail(r, EX_UNAVAILABLE, "PostfixAdmin database")


def test_dry_run_changes_nothing(env):
    before = count(env, "audit_log")
    rep = run_import(env, "--dry-run")
    assert rep["dry_run"] is True
    s = rep["summary_by_type"]
    assert s["domains"]["added"] == 3
    assert s["mailboxes"]["added"] == len(env.users)
    assert s["alias_domains"]["added"] == 1
    for t in ("domains", "mailboxes", "aliases", "alias_domains"):
        assert count(env, t) == 0
    assert count(env, "audit_log") == before
    # The human form says so too.
    r = admin(env, "import", "postfixadmin", *source_args(env), "--dry-run")
    assert r.returncode == EX_DATAERR
    assert "would-add" in r.stdout
    assert r.stdout.splitlines()[-1].startswith("dry run: nothing was changed")
    assert count(env, "domains") == 0


def test_import(env):
    rep = run_import(env)
    assert rep["dry_run"] is False
    s = rep["summary_by_type"]
    assert s["domains"] == {"type": "domains", "added": 3, "updated": 0,
                            "unchanged": 0, "conflicts": 0, "skipped": 1}
    assert s["mailboxes"]["added"] == len(env.users)
    assert s["mailboxes"]["skipped"] == 0
    # info -> 2, @example.org -> 1, sha512 fwd -> 1, bcrypt fwd -> 1,
    # sleeping -> 1, dup -> 1; broken's destination is skipped.
    assert s["aliases"]["added"] == 7
    assert s["aliases"]["skipped"] == 1
    assert s["alias_domains"]["added"] == 1

    doms = sql(env, "SELECT name, active, max_mailboxes, max_aliases, "
               "mailbox_quota_bytes, quota_bytes FROM domains ORDER BY name")
    assert doms == [
        ["example.net", "1", "0", "0", "0", "0"],
        ["example.org", "1", "10", "20", str(100 * MB), str(2000 * MB)],
        ["inactive.example", "0", "0", "0", "0", "0"]]
    assert sql(env, "SELECT ad.name, d.name, ad.active FROM alias_domains ad "
               "JOIN domains d ON d.id = ad.target_domain_id") == \
        [["alias.example.org", "example.org", "1"]]

    rows = {r[0]: r[1:] for r in sql(
        env, "SELECT CONCAT(m.local_part, '@', d.name), m.password, m.name, "
        "m.quota_bytes, m.active FROM mailboxes m JOIN domains d "
        "ON d.id = m.domain_id")}
    assert sorted(rows) == sorted(a.lower() for a in env.users)
    users = env.users
    assert rows["md5@example.org"] == [
        "{MD5-CRYPT}" + users["md5@example.org"][1], "User md5",
        str(50 * MB), "1"]
    assert rows["sha512@example.org"][0] == \
        "{SHA512-CRYPT}" + users["sha512@example.org"][1]
    assert rows["bcrypt@example.org"][0] == \
        "{BLF-CRYPT}" + users["bcrypt@example.org"][1]
    assert rows["dovecot@example.org"][0] == users["dovecot@example.org"][1]
    assert rows["sha256@example.net"][0] == \
        "{SHA256-CRYPT}" + users["sha256@example.net"][1]
    assert rows["clear@example.net"][0] == "{PLAIN}Clear-pw-7"
    assert rows["plainmd5@example.net"][0] == \
        "{PLAIN-MD5}" + users["plainmd5@example.net"][1]
    assert rows["ssha@example.net"][0] == users["ssha@example.net"][1]
    assert rows["carol@example.org"][1] == "User Carol"

    aliases = sorted(sql(env, "SELECT CONCAT(a.local_part, '@', d.name), "
                         "a.destination, a.active FROM aliases a JOIN domains "
                         "d ON d.id = a.domain_id"))
    assert aliases == sorted([
        ["@example.org", "md5@example.org", "1"],
        ["info@example.org", "md5@example.org", "1"],
        ["info@example.org", "sha512@example.org", "1"],
        ["sha512@example.org", "external@elsewhere.test", "1"],
        ["bcrypt@example.org", "fwd@elsewhere.test", "1"],
        ["dup@example.org", "md5@example.org", "1"],
        ["sleeping@example.net", "clear@example.net", "0"]])

    # What needs attention, and the notes.
    warn = {(ev["object"], ev["detail"].split(":")[0])
            for ev in events(rep, "warning")}
    assert ("plainmd5@example.net", "password (PLAIN-MD5)") in warn
    assert ("ssha@example.net", "password (SSHA256)") in warn
    assert any(o == "mismatch@example.net" and d.startswith("maildir")
               for o, d in warn)
    assert len(warn) == 3
    notes = events(rep, "note")
    assert any(n["object"] == "backup.example" for n in notes)
    assert any(n["object"] == "md5@example.org" and "legacy" in n["detail"]
               for n in notes)
    assert any(n["object"] == "clear@example.net" and "cleartext" in
               n["detail"] for n in notes)
    assert any(n["object"] == "bcrypt@example.org" and "forwards" in
               n["detail"] for n in notes)
    assert any(n["object"] == "example.net" and "-1" in n["detail"]
               for n in notes)
    assert [ev["object"] for ev in events(rep, "skip")] == \
        ["broken@example.net -> not an address"]
    assert rep["attention"] == 4

    # Every change has its audit row.
    acts = sql(env, "SELECT action, COUNT(*) FROM audit_log GROUP BY action")
    assert dict((a, int(n)) for a, n in acts) == {
        "import domain add": 3, "import mailbox add": len(env.users),
        "import alias add": 7, "import alias-domain add": 1}


def test_import_again_changes_nothing(env):
    before = count(env, "audit_log")
    rep = run_import(env)
    for row in rep["summary"]:
        assert row["added"] == 0 and row["updated"] == 0, row
        assert row["conflicts"] == 0, row
    s = rep["summary_by_type"]
    assert s["domains"]["unchanged"] == 3
    assert s["mailboxes"]["unchanged"] == len(env.users)
    assert s["aliases"]["unchanged"] == 7
    assert s["alias_domains"]["unchanged"] == 1
    assert events(rep, "add") == [] and events(rep, "update") == []
    assert count(env, "audit_log") == before


def test_old_passwords_log_in(env):
    for addr, (pw, _, ok) in env.users.items():
        r = auth_test(env, addr.lower(), pw)
        if ok:
            assert_ok(r)
            assert r.stdout == "auth succeeded: user=%s\n" % addr.lower()
        else:
            # Unverifiable hashes and the disabled domain fail closed.
            assert r.returncode == EX_NOPERM, (addr, r.stderr)
            admin(env, "auth", "penalty", "clear")
    # Through the imported alias domain too.
    r = assert_ok(auth_test(env, "md5@alias.example.org", "Md5-pw-1"))
    assert r.stdout == "auth succeeded: user=md5@example.org\n"
    # A wrong password still fails.
    assert auth_test(env, "md5@example.org", "nope").returncode == EX_NOPERM
    admin(env, "auth", "penalty", "clear")


def test_imported_users_log_in_over_imap(env, tmp_path):
    """The same users log in over IMAP with their old passwords and see
    their (new) INBOX: aviary-imap started on the test's configuration,
    talking to this module's aviary-auth."""
    import imaplib
    import re
    import socket
    import subprocess
    import time
    from imaphelp import free_port
    with open(env.config) as f:
        text = f.read()
    port = free_port()
    text, n = re.subn(r"(\nimap:\n(?:  .*\n)*?)  listen: \[\]\n",
                      r'\1  listen: ["127.0.0.1:%d"]\n' % port, text)
    assert n == 1
    text = re.sub(r"(\nimap:\n(?:  .*\n)*?)  enabled: false\n",
                  r"\1  enabled: true\n", text)
    text = re.sub(r"(\nimap:\n(?:  .*\n)*?)  listen_tls: \[.*\]\n",
                  r"\1  listen_tls: []\n", text)
    cfg = tmp_path / "imap.yaml"
    cfg.write_text(text)
    log = tmp_path / "imap.log"
    with open(log, "wb") as lf:
        proc = subprocess.Popen([os.path.join(env.stack.build, "aviary-imap"),
                                 "-c", str(cfg)], stdout=lf, stderr=lf,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        tried = 0
        for addr, (pw, _, ok) in env.users.items():
            if not ok:
                continue
            m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
            m.login(addr.lower(), pw)
            typ, data = m.select("INBOX")
            assert typ == "OK"
            m.logout()
            tried += 1
        assert tried >= 3
        m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        with pytest.raises(imaplib.IMAP4.error,
                           match="AUTHENTICATIONFAILED"):
            m.login("md5@example.org", "nope")
        m.logout()
        admin(env, "auth", "penalty", "clear")
    finally:
        proc.terminate()
        proc.wait(20)
    assert not any(x in log.read_text() for x in
                   ("AddressSanitizer", "runtime error:"))


def test_conflicts_need_update(env):
    new = sha512crypt("Changed-pw-13")
    env.stack.db.sql("UPDATE mailbox SET password = %s, quota = %d WHERE "
                     "username = 'sha512@example.org';\n"
                     "UPDATE domain SET mailboxes = 12 WHERE "
                     "domain = 'example.org';\n"
                     "UPDATE alias SET active = 0 WHERE "
                     "address = 'info@example.org';\n" % (q(new), 10 * MB),
                     database=SRC_DB)
    # A mailbox only Aviary has is never touched.
    assert_ok(admin(env, "mailbox", "add", "local@example.org",
                    "--password-stdin", input="Local-pw-14\n"))
    before = count(env, "audit_log")
    rep = run_import(env)
    conf = {(ev["type"], ev["object"]) for ev in events(rep, "conflict")}
    assert conf == {("mailbox", "sha512@example.org"),
                    ("domain", "example.org"),
                    ("alias", "info@example.org -> md5@example.org"),
                    ("alias", "info@example.org -> sha512@example.org")}
    detail = [ev["detail"] for ev in events(rep, "conflict", "mailbox")][0]
    assert "password" in detail and "quota" in detail
    assert count(env, "audit_log") == before
    assert_ok(auth_test(env, "sha512@example.org", "Sha512-pw-2"))

    rep = run_import(env, "--update", "--dry-run")
    assert rep["summary_by_type"]["mailboxes"]["updated"] == 1
    assert count(env, "audit_log") == before

    rep = run_import(env, "--update")
    s = rep["summary_by_type"]
    assert s["mailboxes"]["updated"] == 1
    assert s["domains"]["updated"] == 1
    assert s["aliases"]["updated"] == 2
    assert events(rep, "conflict") == []
    assert sql(env, "SELECT m.quota_bytes FROM mailboxes m WHERE "
               "m.local_part = 'sha512'") == [[str(10 * MB)]]
    assert sql(env, "SELECT max_mailboxes FROM domains WHERE "
               "name = 'example.org'") == [["12"]]
    assert count(env, "audit_log") == before + 4
    # The new password works at once (the cache was flushed), the old
    # one no longer does.
    assert_ok(auth_test(env, "sha512@example.org", "Changed-pw-13"))
    assert auth_test(env, "sha512@example.org",
                     "Sha512-pw-2").returncode == EX_NOPERM
    admin(env, "auth", "penalty", "clear")
    assert sql(env, "SELECT COUNT(*) FROM mailboxes WHERE "
               "local_part = 'local'") == [["1"]]


def test_clean_source_exits_zero_and_reads_stdin(env):
    r = admin(env, "--json", "import", "postfixadmin", "--source-host",
              "unix:" + env.stack.db.socket, "--source-db", CLEAN_DB,
              "--source-user", READER, "--source-password-stdin",
              input=env.reader_pw + "\n")
    assert_ok(r)
    rep = json.loads(r.stdout)
    assert rep["attention"] == 0
    assert {row["type"]: row["added"] for row in rep["summary"]} == {
        "domains": 1, "mailboxes": 1, "aliases": 0, "alias_domains": 0}
    rep = run_import(env, db=CLEAN_DB, want=0)
    assert rep["summary_by_type"]["mailboxes"]["unchanged"] == 1
    r = assert_ok(admin(env, "import", "postfixadmin",
                        *source_args(env, CLEAN_DB)))
    assert r.stdout.splitlines()[-1] == "import done: nothing changed"
    assert_ok(auth_test(env, "neat@clean.example", "Neat-pw-12"))


def test_no_secret_in_any_output(env):
    """No stored hash and no password of the source ever shows up."""
    text = "\n".join(env.outputs)
    assert env.reader_pw not in text
    for addr, (pw, stored, _) in env.users.items():
        assert stored not in text, addr
        if pw != "Clear-pw-7":
            assert pw not in text, addr

