"""aviary-admin against a real MariaDB: exit codes, messages, output and
what ends up in the database."""
import glob
import os
import stat
import subprocess
import time

import pytest

from avhelpers import (EX_CANTCREAT, EX_CONFIG, EX_DATAERR, EX_NOPERM,
                       EX_NOUSER, EX_UNAVAILABLE, EX_USAGE, assert_fail,
                       assert_ok, error_line, jsonout, record, table)
from avstack import (ADMIN, SAN, admin_env, aviarydev, run_admin, short_tmpdir,
                     stop_stack)

M = 1024 * 1024
G = 1024 * M


def add_mailbox(admin, addr, password="Secret-pw-1", *opts):
    return admin.ok("mailbox", "add", addr, "--password-stdin", *opts,
                    input=password + "\n")


def stored_hash(admin, local, domain):
    rows = admin.sql("SELECT m.password FROM mailboxes m JOIN domains d "
                     "ON d.id = m.domain_id WHERE m.local_part = %s AND "
                     "d.name = %s" % (aviarydev.sql_quote(local),
                                      aviarydev.sql_quote(domain)))
    assert len(rows) == 1, rows
    return rows[0][0]


def verify(admin, hash_, password):
    return admin("pw", "--verify", hash_, "--password-stdin",
                 input=password + "\n")


def count(admin, table_, where="1"):
    return int(admin.sql("SELECT COUNT(*) FROM %s WHERE %s" % (table_, where))[0][0])


def audit(admin):
    return admin.sql("SELECT actor, action, object, detail FROM audit_log "
                     "ORDER BY id")


# --------------------------------------------------------------------- db

# schema/NNN_name.sql, in order: what aviary-admin has compiled in.
MIGRATIONS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "schema", "[0-9][0-9][0-9]_*.sql")))


def test_db_migrate_is_idempotent(admin):
    r = admin.ok("db", "migrate")
    assert "schema is up to date" in r.stdout
    r = admin.ok("db", "migrate")
    assert r.stdout.strip() == "schema is up to date (version %d)" % \
        len(MIGRATIONS)
    assert admin.sql("SELECT version, name FROM schema_migrations") == \
        [[str(int(m[:3])), m] for m in MIGRATIONS]


def test_db_status_table_and_json(admin):
    rows = table(admin("db", "status"))
    assert rows[0] == ["VERSION", "NAME", "STATUS", "APPLIED"]
    assert rows[1][:3] == ["1", "001_init.sql", "applied"]
    assert len(rows) == 1 + len(MIGRATIONS)
    js = jsonout(admin("db", "status", "--json"))
    assert len(js) == len(MIGRATIONS)
    assert js[0]["version"] == 1
    assert js[0]["name"] == "001_init.sql"
    assert js[0]["status"] == "applied"
    assert js[0]["applied_at"]
    # Global options anywhere before the command words too.
    assert jsonout(admin("--json", "db", "status")) == js


def test_db_migrate_completes_a_cut_short_migration(admin):
    """A migration that stopped half-way (DDL commits as it goes) is
    finished by running migrate again."""
    try:
        admin.sql("DELETE FROM schema_migrations; DROP VIEW virtual_alias_maps")
        js = jsonout(admin("db", "status", "--json"))
        assert js[0]["status"] == "pending" and js[0]["applied_at"] is None
        assert admin.ok("db", "migrate").stdout == "".join(
            "applied %s\n" % m for m in MIGRATIONS)
        assert jsonout(admin("db", "status", "--json"))[0]["status"] == "applied"
        assert admin.sql("SHOW FULL TABLES LIKE 'virtual_alias_maps'") == [
            ["virtual_alias_maps", "VIEW"]]
    finally:
        admin("db", "migrate")


def test_top_level_exit_codes(admin):
    r = admin()
    assert r.returncode == EX_USAGE and r.stderr.startswith("usage: aviary-admin")
    r = admin("frobnicate")
    assert r.returncode == EX_USAGE
    assert r.stderr.startswith("aviary-admin: unknown command 'frobnicate'\n")
    r = admin("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: aviary-admin")
    assert r.stderr == ""
    r = admin("--version")
    assert r.returncode == 0 and r.stdout.startswith("aviary-admin ")
    assert r.stderr == ""


def test_usage_errors(admin):
    assert_fail(admin("db"), EX_USAGE)
    assert_fail(admin("db", "explode"), EX_USAGE)
    assert_fail(admin("domain", "explode"), EX_USAGE)
    assert_fail(admin("mailbox"), EX_USAGE)
    assert_fail(admin("domain", "add"), EX_USAGE, "expected one domain")
    assert_fail(admin("domain", "add", "a.test", "b.test"), EX_USAGE)
    assert_fail(admin("domain", "add", "a.test", "--bogus"), EX_USAGE,
                "bad option")
    assert_fail(admin("domain", "set", "a.test"), EX_USAGE, "nothing to change")
    assert_fail(admin("domain", "list", "extra"), EX_USAGE)
    r = run_admin(None, "domain", "list", "-c")
    assert_fail(r, EX_USAGE, "-c needs a file")
    assert_ok(run_admin(None, "--config=" + admin.config, "domain", "list"))
    assert_ok(run_admin(None, "domain", "list", "--config", admin.config))
    assert count(admin, "domains") == 0


# ----------------------------------------------------------------- domain

def test_domain_add_with_limits_list_and_show(admin):
    r = admin.ok("domain", "add", "example.test", "--max-mailboxes", "10",
                 "--max-aliases", "20", "--mailbox-quota", "500M",
                 "--quota", "2G")
    assert r.stdout == "domain example.test added\n"
    admin.ok("domain", "add", "other.test")

    js = jsonout(admin("domain", "show", "example.test", "--json"))
    assert js["domain"] == "example.test"
    assert js["active"] is True
    assert js["mailboxes"] == 0 and js["max_mailboxes"] == 10
    assert js["aliases"] == 0 and js["max_aliases"] == 20
    assert js["mailbox_quota"] == 500 * M == 524288000
    assert js["quota"] == 2 * G
    assert js["quota_allocated"] == 0
    assert js["alias_domains"] == ""
    assert js["used_bytes"] == 0
    assert js["created"]

    rec = record(admin("domain", "show", "example.test"))
    assert rec["Domain"] == "example.test"
    assert rec["Active"] == "yes"
    assert rec["Mailboxes/max"] == "0/10"
    assert rec["Aliases/max"] == "0/20"
    assert rec["Mailbox quota"] == "500M"
    assert rec["Allocated/quota"] == "0B/2G"

    lst = jsonout(admin("domain", "list", "--json"))
    assert [d["domain"] for d in lst] == ["example.test", "other.test"]
    assert lst[0]["mailbox_quota"] == 524288000 and lst[0]["quota"] == 2 * G
    assert lst[1]["max_mailboxes"] == 0 and lst[1]["quota"] == 0

    rows = table(admin("domain", "list"))
    assert rows[0][:2] == ["DOMAIN", "ACTIVE"]
    assert rows[1][:4] == ["example.test", "yes", "0/10", "0/20"]
    assert rows[2][:5] == ["other.test", "yes", "0/unlimited", "0/unlimited",
                           "unlimited"]
    assert len(rows) == 3

    assert admin.sql("SELECT name, max_mailboxes, max_aliases, "
                     "mailbox_quota_bytes, quota_bytes FROM domains "
                     "ORDER BY name") == [
        ["example.test", "10", "20", "524288000", str(2 * G)],
        ["other.test", "0", "0", "0", "0"]]


def test_domain_list_empty(admin):
    assert jsonout(admin("domain", "list", "--json")) == []
    assert table(admin("domain", "list"))[0][0] == "DOMAIN"


def test_domain_set(admin):
    admin.ok("domain", "add", "example.test", "--max-mailboxes", "5")
    r = admin.ok("domain", "set", "example.test", "--max-aliases", "7",
                 "--mailbox-quota", "1G", "--quota", "10G")
    assert r.stdout == "domain example.test updated\n"
    js = jsonout(admin("domain", "show", "example.test", "--json"))
    # Options not given keep their value.
    assert (js["max_mailboxes"], js["max_aliases"], js["mailbox_quota"],
            js["quota"]) == (5, 7, G, 10 * G)
    admin.ok("domain", "set", "example.test", "--max-mailboxes", "unlimited",
             "--quota", "unlimited")
    js = jsonout(admin("domain", "show", "example.test", "--json"))
    assert (js["max_mailboxes"], js["max_aliases"], js["mailbox_quota"],
            js["quota"]) == (0, 7, G, 0)
    # The mailbox quota may not exceed the domain quota.
    assert_fail(admin("domain", "set", "example.test", "--quota", "512M"),
                EX_DATAERR)
    assert_fail(admin("domain", "add", "b.test", "--mailbox-quota", "2G",
                      "--quota", "1G"), EX_DATAERR)
    assert count(admin, "domains", "name = 'b.test'") == 0
    assert_fail(admin("domain", "set", "nope.test", "--quota", "1G"),
                EX_NOUSER, "nope.test")


def test_domain_set_below_current_usage(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    assert_fail(admin("domain", "set", "example.test", "--max-mailboxes", "1"),
                EX_CANTCREAT)
    # Mailboxes without a quota cannot live under a domain quota.
    assert_fail(admin("domain", "set", "example.test", "--quota", "1G"),
                EX_CANTCREAT)
    js = jsonout(admin("domain", "show", "example.test", "--json"))
    assert js["max_mailboxes"] == 0 and js["quota"] == 0
    admin.ok("domain", "set", "example.test", "--max-mailboxes", "2")


def test_domain_enable_disable(admin):
    admin.ok("domain", "add", "example.test")
    assert admin.ok("domain", "disable", "example.test").stdout == \
        "domain example.test disabled\n"
    assert jsonout(admin("domain", "show", "example.test", "--json"))["active"] is False
    assert record(admin("domain", "show", "example.test"))["Active"] == "no"
    assert jsonout(admin("domain", "list", "--json"))[0]["active"] is False
    assert admin.ok("domain", "enable", "example.test").stdout == \
        "domain example.test enabled\n"
    assert jsonout(admin("domain", "show", "example.test", "--json"))["active"] is True
    admin.ok("domain", "add", "off.test", "--disabled")
    assert jsonout(admin("domain", "show", "off.test", "--json"))["active"] is False


def test_domain_duplicate(admin):
    admin.ok("domain", "add", "example.test")
    assert_fail(admin("domain", "add", "example.test"), EX_DATAERR,
                "example.test", "already exists")
    assert_fail(admin("domain", "add", "EXAMPLE.Test"), EX_DATAERR,
                "already exists")
    assert count(admin, "domains") == 1


@pytest.mark.parametrize("verb", ["show", "enable", "disable", "delete"])
def test_domain_unknown(admin, verb):
    admin.ok("domain", "add", "example.test")
    assert_fail(admin("domain", verb, "nope.test"), EX_NOUSER,
                "no such domain: nope.test")


LABEL63 = "a" * 63


@pytest.mark.parametrize("name", [
    "localhost",                               # a single label
    "a..b",
    "a..b.com",
    "--", "-a.com",                            # (after "--", see below)
    "a-.com",
    "a" * 64 + ".com",                         # a 64-character label
    ".".join([LABEL63] * 3 + ["b" * 62]),      # 254 characters
    "bücher.de",                               # non-ASCII
    "a/b.com",
    "a_b.com",
    "x%y.com",
    "x'.com",
    "a b.com",
    "example.com.",
    ".example.com",
    "",
], ids=lambda n: repr(n)[:24])
def test_domain_bad_names(admin, name):
    # "--" ends the options, so that "-a.com" reaches the domain check.
    assert_fail(admin("domain", "add", "--", name), EX_DATAERR, "bad domain")
    assert count(admin, "domains") == 0


def test_domain_longest_name_and_label_accepted(admin):
    name = ".".join([LABEL63] * 3 + ["b" * 61])
    assert len(name) == 253
    admin.ok("domain", "add", name)
    admin.ok("domain", "add", LABEL63 + ".com")
    admin.ok("domain", "add", "xn--bcher-kva.de")
    assert count(admin, "domains") == 3


def test_domain_stored_lower_case(admin):
    r = admin.ok("domain", "add", "MiXeD.Example.TEST")
    assert r.stdout == "domain mixed.example.test added\n"
    assert admin.sql("SELECT name FROM domains") == [["mixed.example.test"]]
    assert jsonout(admin("domain", "show", "MIXED.EXAMPLE.TEST", "--json"))[
        "domain"] == "mixed.example.test"


@pytest.mark.parametrize("args,word", [
    (("domain", "add", "-a.com"), "-a.com"),
    (("domain", "delete", "example.test", "--quota", "1G"), "--quota"),
])
def test_option_errors_name_the_option(admin, args, word):
    r = admin(*args)
    assert r.returncode in (EX_USAGE, EX_DATAERR)
    assert word in error_line(r)
    assert count(admin, "domains") == 0


def make_home(stack, domain, local):
    home = os.path.join(stack.mailroot, domain, local)
    os.makedirs(os.path.join(home, "cur"))
    with open(os.path.join(home, "cur", "1.msg"), "w") as f:
        f.write("Subject: hi\n\nhello\n")
    return home


def test_domain_delete_non_empty_needs_force(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    admin.ok("alias", "add", "info@example.test", "a@example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    line = assert_fail(admin("domain", "delete", "example.test"), EX_DATAERR,
                       "not empty", "--force")
    assert "1 mailboxes" in line and "1 aliases" in line and "1 alias domains" in line
    assert count(admin, "domains") == 1
    assert count(admin, "mailboxes") == 1
    assert count(admin, "aliases") == 1
    assert count(admin, "alias_domains") == 1
    assert [a[1] for a in audit(admin)].count("domain delete") == 0


def test_domain_delete_empty(admin):
    admin.ok("domain", "add", "example.test")
    assert admin.ok("domain", "delete", "example.test").stdout == \
        "domain example.test deleted\n"
    assert count(admin, "domains") == 0


def test_domain_delete_force_keeps_mail(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("domain", "add", "keep.test")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    add_mailbox(admin, "k@keep.test")
    admin.ok("alias", "add", "info@example.test", "a@example.test", "x@ext.test")
    admin.ok("alias", "add", "@example.test", "a@example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    homes = [make_home(admin.stack, "example.test", n) for n in ("a", "b")]
    r = admin.ok("domain", "delete", "example.test", "--force")
    assert "mail kept" in r.stdout
    assert admin.sql("SELECT name FROM domains") == [["keep.test"]]
    assert count(admin, "mailboxes") == 1
    assert count(admin, "aliases") == 0
    assert count(admin, "alias_domains") == 0
    for h in homes:
        assert os.path.isfile(os.path.join(h, "cur", "1.msg"))


def test_domain_delete_purge_mail(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("domain", "add", "keep.test")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    add_mailbox(admin, "k@keep.test")
    homes = [make_home(admin.stack, "example.test", n) for n in ("a", "b")]
    kept = make_home(admin.stack, "keep.test", "k")
    r = admin.ok("domain", "delete", "example.test", "--force", "--purge-mail")
    assert "their mail" in r.stdout
    for h in homes:
        assert not os.path.exists(h)
    assert os.path.isfile(os.path.join(kept, "cur", "1.msg"))
    assert count(admin, "mailboxes") == 1


@pytest.mark.parametrize("size", ["5X", "-1", "", "1.5G", "G", "5 M",
                                  "16777216T", "unlimited!"])
@pytest.mark.parametrize("opt", ["--quota", "--mailbox-quota"])
def test_domain_bad_sizes(admin, opt, size):
    assert_fail(admin("domain", "add", "example.test", opt, size), EX_DATAERR,
                "bad size")
    assert count(admin, "domains") == 0


@pytest.mark.parametrize("value", ["-1", "1e3", "abc", "", "4294967296"])
def test_domain_bad_counts(admin, value):
    assert_fail(admin("domain", "add", "example.test", "--max-mailboxes", value),
                EX_DATAERR, "bad number")


def test_domain_sizes_accepted(admin):
    admin.ok("domain", "add", "a.test", "--quota", "unlimited",
             "--mailbox-quota", "unlimited", "--max-mailboxes", "unlimited",
             "--max-aliases", "unlimited")
    admin.ok("domain", "add", "b.test", "--quota", "1T", "--mailbox-quota", "512k")
    admin.ok("domain", "add", "c.test", "--quota", "10MiB", "--mailbox-quota", "1024")
    js = {d["domain"]: d for d in jsonout(admin("domain", "list", "--json"))}
    assert (js["a.test"]["quota"], js["a.test"]["mailbox_quota"]) == (0, 0)
    assert (js["b.test"]["quota"], js["b.test"]["mailbox_quota"]) == (1 << 40, 512 * 1024)
    assert (js["c.test"]["quota"], js["c.test"]["mailbox_quota"]) == (10 * M, 1024)
    assert record(admin("domain", "show", "a.test"))["Mailbox quota"] == "unlimited"


# ---------------------------------------------------------------- mailbox

def test_mailbox_add_password_stdin(admin):
    admin.ok("domain", "add", "example.test")
    r = add_mailbox(admin, "Alice@Example.TEST", "Correct-horse-1")
    assert r.stdout == "mailbox alice@example.test added\n"
    h = stored_hash(admin, "alice", "example.test")
    assert h.startswith("{SHA512-CRYPT}$6$")
    assert assert_ok(verify(admin, h, "Correct-horse-1")).stdout == "verified\n"
    assert_fail(verify(admin, h, "wrong"), EX_NOPERM, "does not match")


def test_mailbox_limit_max_mailboxes(admin):
    admin.ok("domain", "add", "example.test", "--max-mailboxes", "2")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    assert_fail(admin("mailbox", "add", "c@example.test", "--password-stdin",
                      input="pw\n"), EX_CANTCREAT, "mailbox limit")
    assert count(admin, "mailboxes") == 2
    # Deleting one frees the place.
    admin.ok("mailbox", "delete", "b@example.test")
    add_mailbox(admin, "c@example.test")


def test_mailbox_limit_domain_quota(admin):
    admin.ok("domain", "add", "example.test", "--quota", "1G",
             "--mailbox-quota", "512M")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    assert_fail(admin("mailbox", "add", "c@example.test", "--password-stdin",
                      input="pw\n"), EX_CANTCREAT, "quota")
    assert count(admin, "mailboxes") == 2
    js = jsonout(admin("domain", "show", "example.test", "--json"))
    assert js["quota_allocated"] == G and js["mailboxes"] == 2
    for m in jsonout(admin("mailbox", "list", "--json")):
        assert m["quota_bytes"] == 512 * M


def test_mailbox_explicit_quota_over_remaining(admin):
    admin.ok("domain", "add", "example.test", "--quota", "1G",
             "--mailbox-quota", "512M")
    add_mailbox(admin, "a@example.test")
    assert_fail(admin("mailbox", "add", "b@example.test", "--quota", "600M",
                      "--password-stdin", input="pw\n"), EX_CANTCREAT)
    assert_fail(admin("mailbox", "add", "b@example.test", "--quota", "2G",
                      "--password-stdin", input="pw\n"), EX_CANTCREAT)
    # Under a domain quota every mailbox needs one.
    assert_fail(admin("mailbox", "add", "b@example.test", "--quota",
                      "unlimited", "--password-stdin", input="pw\n"),
                EX_CANTCREAT)
    assert count(admin, "mailboxes") == 1
    add_mailbox(admin, "b@example.test", "pw", "--quota", "512M")
    assert jsonout(admin("mailbox", "show", "b@example.test", "--json"))[
        "quota_bytes"] == 512 * M


def test_mailbox_quota_show_and_set(admin):
    admin.ok("domain", "add", "example.test", "--quota", "1G",
             "--mailbox-quota", "256M")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    rec = record(admin("mailbox", "quota", "a@example.test"))
    assert rec["Address"] == "a@example.test"
    assert rec["Quota"] == "256M"
    assert rec["Messages quota"] == "unlimited"
    js = jsonout(admin("mailbox", "quota", "a@example.test", "--json"))
    assert js == {"address": "a@example.test", "quota_bytes": 256 * M,
                  "used_bytes": 0, "quota_messages": 0, "used_messages": 0}

    js = jsonout(admin("mailbox", "quota", "a@example.test", "768M",
                       "--messages", "1000", "--json"))
    assert js["quota_bytes"] == 768 * M and js["quota_messages"] == 1000
    js = jsonout(admin("mailbox", "quota", "a@example.test", "--messages",
                       "5", "--json"))
    assert js["quota_bytes"] == 768 * M and js["quota_messages"] == 5
    # 768M + 256M = 1G: one byte more is over the domain quota.
    assert_fail(admin("mailbox", "quota", "a@example.test", str(768 * M + 1)),
                EX_CANTCREAT, "quota")
    assert_fail(admin("mailbox", "quota", "b@example.test", "257M"),
                EX_CANTCREAT, "quota")
    assert_fail(admin("mailbox", "quota", "a@example.test", "5X"), EX_DATAERR)
    assert_fail(admin("mailbox", "quota", "a@example.test", "1G", "2G"),
                EX_USAGE)
    assert_fail(admin("mailbox", "quota", "nobody@example.test"), EX_NOUSER)
    js = jsonout(admin("mailbox", "quota", "a@example.test", "--json"))
    assert js["quota_bytes"] == 768 * M and js["quota_messages"] == 5
    assert admin.sql("SELECT quota_bytes, quota_messages FROM mailboxes "
                     "WHERE local_part = 'a'") == [[str(768 * M), "5"]]


def test_mailbox_quota_usage_is_shown(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test", "pw", "--quota", "1G")
    admin.sql("INSERT INTO quota_usage (mailbox_id, bytes, messages) "
              "SELECT id, 3145728, 42 FROM mailboxes")
    js = jsonout(admin("mailbox", "show", "a@example.test", "--json"))
    assert (js["used_bytes"], js["used_messages"]) == (3 * M, 42)
    js = jsonout(admin("mailbox", "quota", "a@example.test", "--json"))
    assert (js["used_bytes"], js["used_messages"]) == (3 * M, 42)
    assert record(admin("mailbox", "show", "a@example.test"))[
        "Used/quota"] == "3M/1G"
    assert jsonout(admin("domain", "show", "example.test", "--json"))[
        "used_bytes"] == 3 * M


def test_mailbox_passwd(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test", "Old-password-1")
    before = stored_hash(admin, "a", "example.test")
    changed = jsonout(admin("mailbox", "show", "a@example.test", "--json"))[
        "password_changed"]
    time.sleep(0.01)
    r = admin.ok("mailbox", "passwd", "a@example.test", "--password-stdin",
                 input="New-password-2\n")
    assert r.stdout == "password of a@example.test changed\n"
    after = stored_hash(admin, "a", "example.test")
    assert after != before and after.startswith("{SHA512-CRYPT}$6$")
    assert_fail(verify(admin, after, "Old-password-1"), EX_NOPERM)
    assert_ok(verify(admin, after, "New-password-2"))
    assert jsonout(admin("mailbox", "show", "a@example.test", "--json"))[
        "password_changed"] > changed
    assert_fail(admin("mailbox", "passwd", "nobody@example.test",
                      "--password-stdin", input="x\n"), EX_NOUSER)


def test_mailbox_enable_disable(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    assert admin.ok("mailbox", "disable", "a@example.test").stdout == \
        "mailbox a@example.test disabled\n"
    assert jsonout(admin("mailbox", "show", "a@example.test", "--json"))["active"] is False
    assert record(admin("mailbox", "show", "a@example.test"))["Active"] == "no"
    admin.ok("mailbox", "enable", "a@example.test")
    assert jsonout(admin("mailbox", "show", "a@example.test", "--json"))["active"] is True
    add_mailbox(admin, "b@example.test", "pw", "--disabled")
    assert jsonout(admin("mailbox", "show", "b@example.test", "--json"))["active"] is False
    # The domain's state is shown next to the mailbox's.
    admin.ok("domain", "disable", "example.test")
    js = jsonout(admin("mailbox", "show", "a@example.test", "--json"))
    assert js["active"] is True and js["domain_active"] is False
    assert_fail(admin("mailbox", "enable", "nobody@example.test"), EX_NOUSER)


def test_mailbox_list(admin):
    admin.ok("domain", "add", "one.test")
    admin.ok("domain", "add", "two.test")
    add_mailbox(admin, "b@one.test", "pw", "--quota", "1G")
    add_mailbox(admin, "a@one.test")
    add_mailbox(admin, "z@two.test", "pw", "--quota-messages", "100")
    js = jsonout(admin("mailbox", "list", "--json"))
    assert [m["address"] for m in js] == ["a@one.test", "b@one.test", "z@two.test"]
    assert js[1]["quota_bytes"] == G and js[2]["quota_messages"] == 100
    assert set(js[0]) == {"address", "name", "active", "domain_active",
                          "used_bytes", "quota_bytes", "used_messages",
                          "quota_messages", "created"}
    js = jsonout(admin("mailbox", "list", "two.test", "--json"))
    assert [m["address"] for m in js] == ["z@two.test"]
    rows = table(admin("mailbox", "list"))
    assert rows[0][0] == "ADDRESS"
    assert [r[0] for r in rows[1:]] == ["a@one.test", "b@one.test", "z@two.test"]
    rows = table(admin("mailbox", "list", "one.test"))
    assert [r[0] for r in rows[1:]] == ["a@one.test", "b@one.test"]
    assert "0B/1G" in rows[2]
    assert_fail(admin("mailbox", "list", "nope.test"), EX_NOUSER, "nope.test")
    assert jsonout(admin("mailbox", "list", "--json", "one.test"))[0][
        "address"] == "a@one.test"


def test_mailbox_show_json(admin, stack):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test", "pw", "--quota", "2G",
                "--quota-messages", "500")
    js = jsonout(admin("mailbox", "show", "a@example.test", "--json"))
    assert js["address"] == "a@example.test"
    assert js["active"] is True and js["domain_active"] is True
    assert js["quota_bytes"] == 2 * G and js["quota_messages"] == 500
    assert js["used_bytes"] == 0 and js["used_messages"] == 0
    assert js["password_scheme"] == "SHA512-CRYPT"
    assert js["home"] == os.path.join(stack.mailroot, "example.test", "a")
    for k in ("created", "updated", "password_changed"):
        assert js[k]
    assert "password" not in js
    rec = record(admin("mailbox", "show", "a@example.test"))
    assert rec["Address"] == "a@example.test"
    assert rec["Used/quota"] == "0B/2G"
    assert rec["Messages/limit"] == "0/500"
    assert "$6$" not in admin("mailbox", "show", "a@example.test").stdout


def test_mailbox_add_name(admin):
    admin.ok("domain", "add", "example.test")
    r = admin("mailbox", "add", "a@example.test", "--name", "Jane Doe",
              "--password-stdin", input="pw\n")
    assert_ok(r)
    assert jsonout(admin("mailbox", "show", "a@example.test", "--json"))[
        "name"] == "Jane Doe"


def test_mailbox_add_refuses_purge_mail(admin):
    admin.ok("domain", "add", "example.test")
    assert_fail(admin("mailbox", "add", "a@example.test", "--purge-mail",
                      "--password-stdin", input="pw\n"), EX_USAGE,
                "--purge-mail")
    assert count(admin, "mailboxes") == 0


def test_mailbox_options_per_verb(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    assert_fail(admin("mailbox", "passwd", "a@example.test", "--quota", "1G",
                      "--password-stdin", input="pw\n"), EX_USAGE)
    assert_fail(admin("mailbox", "delete", "a@example.test", "--force"),
                EX_USAGE)
    assert_fail(admin("mailbox", "quota", "a@example.test", "--disabled"),
                EX_USAGE, "--disabled")
    assert_fail(admin("domain", "set", "example.test", "--disabled"),
                EX_USAGE, "--disabled")
    assert count(admin, "mailboxes") == 1


def test_limits_hold_under_concurrent_adds(admin):
    admin.ok("domain", "add", "example.test", "--max-mailboxes", "2",
             "--max-aliases", "1")
    admin.ok("domain", "add", "quota.test", "--quota", "1G",
             "--mailbox-quota", "512M")
    def run_all(cmds, stdin=None):
        ps = [subprocess.Popen([ADMIN, "-c", admin.config, *c],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=admin_env()) for c in cmds]
        return [p.communicate(stdin, timeout=60) and p.returncode for p in ps]
    codes = run_all([("mailbox", "add", "u%d@example.test" % i,
                      "--password-stdin") for i in range(6)], "pw\n")
    assert sorted(codes) == [0, 0] + [EX_CANTCREAT] * 4
    codes = run_all([("mailbox", "add", "u%d@quota.test" % i,
                      "--password-stdin") for i in range(6)], "pw\n")
    assert sorted(codes) == [0, 0] + [EX_CANTCREAT] * 4
    codes = run_all([("alias", "add", "a%d@example.test" % i, "x@ext.test")
                     for i in range(6)])
    assert sorted(codes) == [0] + [EX_CANTCREAT] * 5
    assert count(admin, "mailboxes") == 4
    assert count(admin, "aliases") == 1


def test_mailbox_delete_keeps_mail(admin, stack):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    home = make_home(stack, "example.test", "a")
    r = admin.ok("mailbox", "delete", "a@example.test")
    assert r.stdout == "mailbox a@example.test deleted (mail kept on disk)\n"
    assert count(admin, "mailboxes") == 0
    assert os.path.isfile(os.path.join(home, "cur", "1.msg"))
    assert_fail(admin("mailbox", "delete", "a@example.test"), EX_NOUSER,
                "no such mailbox: a@example.test")


def test_mailbox_delete_purge_mail(admin, stack):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    home = make_home(stack, "example.test", "a")
    other = make_home(stack, "example.test", "b")
    r = admin.ok("mailbox", "delete", "a@example.test", "--purge-mail")
    assert "with its mail" in r.stdout
    assert not os.path.exists(home)
    assert os.path.isfile(os.path.join(other, "cur", "1.msg"))
    # A mailbox that never got mail: nothing to remove, still fine.
    r = admin.ok("mailbox", "delete", "b@example.test")
    add_mailbox(admin, "c@example.test")
    admin.ok("mailbox", "delete", "c@example.test", "--purge-mail")


def test_purge_mail_does_not_follow_symlinks(admin, stack, tmp_path):
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (outside / "keep" / "precious").write_text("x")
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    home = make_home(stack, "example.test", "a")
    os.symlink(str(outside), os.path.join(home, "cur", "link"))
    # b's home is itself a symlink out of the mail root.
    os.symlink(str(outside), os.path.join(stack.mailroot, "example.test", "b"))
    admin.ok("mailbox", "delete", "a@example.test", "--purge-mail")
    admin.ok("mailbox", "delete", "b@example.test", "--purge-mail")
    assert not os.path.lexists(home)
    assert not os.path.lexists(os.path.join(stack.mailroot, "example.test", "b"))
    assert (outside / "keep" / "precious").read_text() == "x"


def test_delete_with_quota_usage(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    add_mailbox(admin, "b@example.test")
    admin.sql("INSERT INTO quota_usage (mailbox_id, bytes, messages) "
              "SELECT id, 100, 1 FROM mailboxes")
    admin.ok("mailbox", "delete", "a@example.test")
    assert count(admin, "quota_usage") == 1
    admin.ok("domain", "delete", "example.test", "--force")
    assert count(admin, "quota_usage") == 0
    assert count(admin, "domains") == 0


def test_mailbox_delete_warns_about_aliases(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    admin.ok("alias", "add", "info@example.test", "a@example.test")
    r = admin("mailbox", "delete", "a@example.test")
    assert r.returncode == 0
    assert r.stderr.startswith("aviary-admin: warning: ")
    assert "a@example.test" in r.stderr


def test_mailbox_unknown(admin):
    admin.ok("domain", "add", "example.test")
    for verb in ("show", "enable", "disable", "delete", "quota"):
        assert_fail(admin("mailbox", verb, "nobody@example.test"), EX_NOUSER,
                    "no such mailbox: nobody@example.test")
    for verb in ("show", "delete"):
        assert_fail(admin("mailbox", verb, "a@nope.test"), EX_NOUSER,
                    "no such domain: nope.test")
    assert_fail(admin("mailbox", "add", "a@nope.test", "--password-stdin",
                      input="pw\n"), EX_NOUSER, "no such domain: nope.test")
    assert count(admin, "mailboxes") == 0


def test_mailbox_in_alias_domain(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    assert_fail(admin("mailbox", "add", "a@example.net", "--password-stdin",
                      input="pw\n"), EX_NOUSER, "alias domain", "example.test")


def test_mailbox_duplicate(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    assert_fail(admin("mailbox", "add", "a@example.test", "--password-stdin",
                      input="pw\n"), EX_DATAERR, "already exists")
    assert_fail(admin("mailbox", "add", "A@EXAMPLE.test", "--password-stdin",
                      input="pw\n"), EX_DATAERR, "already exists")
    assert count(admin, "mailboxes") == 1


@pytest.mark.parametrize("addr", [
    "a" * 65 + "@example.test",
    "a..b@example.test",
    ".a@example.test",
    "a.@example.test",
    "a/b@example.test",
    "no-at-sign",
    "a b@example.test",
    "@example.test",
    "a@",
    "a@localhost",
    'a"b@example.test',
    "a@b@example.test",
    "ü@example.test",
    "a\\b@example.test",
], ids=lambda a: repr(a)[:24])
def test_mailbox_bad_addresses(admin, addr):
    admin.ok("domain", "add", "example.test")
    assert_fail(admin("mailbox", "add", addr, "--password-stdin", input="pw\n"),
                EX_DATAERR, "bad address")
    assert count(admin, "mailboxes") == 0


def test_mailbox_longest_local_part(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a" * 64 + "@example.test")
    assert count(admin, "mailboxes") == 1


# ---------------------------------------------------- password input misuse

PW_COMMANDS = {
    "mailbox add": ("mailbox", "add", "new@example.test"),
    "mailbox passwd": ("mailbox", "passwd", "old@example.test"),
    "pw": ("pw",),
}


@pytest.fixture
def pw_setup(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "old@example.test", "Old-password-1")
    return admin


def _unchanged(admin, before):
    assert admin.sql("SELECT local_part, password FROM mailboxes") == before


@pytest.mark.parametrize("cmd", sorted(PW_COMMANDS))
@pytest.mark.parametrize("stdin,code", [
    ("", EX_USAGE),                     # nothing at all
    ("one\ntwo\n", EX_USAGE),           # two lines
    ("one\ntwo", EX_USAGE),
    ("\n", EX_DATAERR),                 # an empty line
    ("x" * 600 + "\n", EX_DATAERR),     # too long
], ids=["empty", "two-lines", "two-lines-no-eol", "empty-line", "too-long"])
def test_password_stdin_misuse(pw_setup, cmd, stdin, code):
    admin = pw_setup
    before = admin.sql("SELECT local_part, password FROM mailboxes")
    r = admin(*PW_COMMANDS[cmd], "--password-stdin", input=stdin)
    assert_fail(r, code)
    _unchanged(admin, before)


@pytest.mark.parametrize("cmd", sorted(PW_COMMANDS))
@pytest.mark.parametrize("extra", [
    ("--password", "Hunter2-secret"),
    ("--password=Hunter2-secret",),
], ids=["--password x", "--password=x"])
def test_password_option_refused(pw_setup, cmd, extra):
    admin = pw_setup
    before = admin.sql("SELECT local_part, password FROM mailboxes")
    r = admin(*PW_COMMANDS[cmd], *extra, "--password-stdin",
              input="Hunter2-secret\n")
    assert_fail(r, EX_USAGE, "never taken from the command line")
    assert "Hunter2-secret" not in r.stderr + r.stdout
    _unchanged(admin, before)


@pytest.mark.parametrize("cmd", ["mailbox add", "mailbox passwd"])
def test_password_positional_refused(pw_setup, cmd):
    admin = pw_setup
    before = admin.sql("SELECT local_part, password FROM mailboxes")
    r = admin(*PW_COMMANDS[cmd], "Hunter2-secret")
    assert_fail(r, EX_USAGE, "never taken from the command line")
    assert "Hunter2-secret" not in r.stderr + r.stdout
    r = admin(*PW_COMMANDS[cmd], "Hunter2-secret", "--password-stdin",
              input="Hunter2-secret\n")
    assert_fail(r, EX_USAGE)
    assert "Hunter2-secret" not in r.stderr + r.stdout
    _unchanged(admin, before)


def test_pw_positional_refused(admin):
    r = admin("pw", "Hunter2-secret")
    assert_fail(r, EX_USAGE, "never taken from the command line")


@pytest.mark.parametrize("args", [("pw",), ("pw", "--verify", "{PLAIN}x")])
def test_pw_positional_not_echoed(admin, args):
    r = admin(*args, "Hunter2-secret", input="x\n")
    assert r.returncode == EX_USAGE
    assert "Hunter2-secret" not in r.stderr + r.stdout


@pytest.mark.parametrize("cmd", sorted(PW_COMMANDS))
def test_password_no_terminal(pw_setup, cmd):
    """No --password-stdin and no controlling terminal: refuse (64)
    rather than read standard input or hang."""
    admin = pw_setup
    before = admin.sql("SELECT local_part, password FROM mailboxes")
    r = admin(*PW_COMMANDS[cmd], stdin=subprocess.DEVNULL,
              start_new_session=True)
    assert_fail(r, EX_USAGE, "--password-stdin")
    # Not even when standard input has a password on it.
    r = admin(*PW_COMMANDS[cmd], input="Some-password-9\n",
              start_new_session=True)
    assert_fail(r, EX_USAGE, "--password-stdin")
    _unchanged(admin, before)


def _wait_reading_stdin(pid, timeout=10):
    """Wait until the process blocks reading its stdin pipe (or time
    passes); True if it was seen waiting."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/wchan" % pid) as f:
                if "pipe" in f.read():
                    return True
        except OSError:
            return False
        time.sleep(0.02)
    return False


def test_password_never_in_argv(admin):
    admin.ok("domain", "add", "example.test")
    password = "Argv-Check-7f3a9c"
    p = subprocess.Popen([ADMIN, "-c", admin.config, "mailbox", "add",
                          "argv@example.test", "--password-stdin"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=admin_env())
    try:
        _wait_reading_stdin(p.pid)
        assert p.poll() is None, "exited before reading the password"
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmdline = f.read()
        assert cmdline.split(b"\0")[:-1] == [
            os.fsencode(a) for a in (ADMIN, "-c", admin.config, "mailbox",
                                     "add", "argv@example.test",
                                     "--password-stdin")]
        assert password.encode() not in cmdline
        out, err = p.communicate(password + "\n", timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert out == "mailbox argv@example.test added\n" and err == ""
    assert password not in out + err
    assert_ok(verify(admin, stored_hash(admin, "argv", "example.test"), password))


def test_password_never_in_output_or_audit(admin):
    pw1, pw2 = "Leak-Check-One-51d2", "Leak-Check-Two-8e4b"
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test", pw1)
    admin.ok("mailbox", "passwd", "a@example.test", "--password-stdin",
             input=pw2 + "\n")
    h = stored_hash(admin, "a", "example.test")
    assert_ok(verify(admin, h, pw2))
    assert_fail(verify(admin, h, pw1), EX_NOPERM)
    admin.ok("pw", "--password-stdin", input=pw1 + "\n")
    admin.ok("pw", "-s", "BLF-CRYPT", "--password-stdin", input=pw1 + "\n")
    admin.ok("mailbox", "show", "a@example.test")
    admin.ok("mailbox", "show", "a@example.test", "--json")
    admin.ok("mailbox", "list", "--json")
    # Misuse that carries the password somewhere it should not be.
    admin("mailbox", "add", "b@example.test", "--password", pw1)
    admin("mailbox", "add", "b@example.test", "--password=" + pw1)
    admin("mailbox", "add", "b@example.test", pw1)
    admin("mailbox", "passwd", "a@example.test", pw1)
    admin("mailbox", "passwd", "a@example.test", "--password-stdin",
          input=pw1 + "\n" + pw2 + "\n")
    admin("mailbox", "add", "b@nope.test", "--password-stdin", input=pw1 + "\n")
    admin("pw", "--password", pw1)
    for r in admin.history:
        assert pw1 not in r.stdout + r.stderr, r.args
        assert pw2 not in r.stdout + r.stderr, r.args
    rows = admin.sql("SELECT CONCAT_WS('|', actor, action, object, detail) "
                     "FROM audit_log")
    assert rows
    for (row,) in rows:
        assert pw1 not in row and pw2 not in row
    (stored,), = admin.sql("SELECT GROUP_CONCAT(password) FROM mailboxes")
    assert pw1 not in stored and pw2 not in stored


# ------------------------------------------------------- terminal prompts

def run_pty(args, answers, timeout=30):
    """Run aviary-admin on a new pseudo-terminal (its controlling tty),
    answering each prompt (text, reply) in turn. (exit code, output)."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:                                   # child
        try:
            os.execve(ADMIN, [ADMIN, *args], admin_env())
        finally:
            os._exit(127)
    out, answers = b"", list(answers)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:                        # EIO: the child is gone
                break
            if not data:
                break
            out += data
            if answers and out.rstrip().endswith(answers[0][0].encode()):
                os.write(fd, answers.pop(0)[1].encode())
    finally:
        end = time.time() + 5
        done, status = os.waitpid(pid, os.WNOHANG)
        while done == 0 and time.time() < end:
            time.sleep(0.02)
            done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:                              # still waiting: ours, kill it
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_password_prompt_on_terminal(admin):
    admin.ok("domain", "add", "example.test")
    cfg = ("-c", admin.config)
    code, out = run_pty([*cfg, "mailbox", "add", "a@example.test"],
                        [("Password:", "Tty-Secret-1\n"),
                         ("Retype password:", "Tty-Secret-1\n")])
    assert code == 0, out
    assert "mailbox a@example.test added" in out
    assert "Tty-Secret-1" not in out                  # echo off
    assert_ok(verify(admin, stored_hash(admin, "a", "example.test"),
                     "Tty-Secret-1"))
    code, out = run_pty([*cfg, "mailbox", "add", "b@example.test"],
                        [("Password:", "Tty-Secret-1\n"),
                         ("Retype password:", "Tty-Secret-2\n")])
    assert code == EX_DATAERR and "do not match" in out
    code, out = run_pty([*cfg, "mailbox", "add", "b@example.test"],
                        [("Password:", "\n")])
    assert code == EX_DATAERR and "empty password" in out
    assert count(admin, "mailboxes") == 1


def test_delete_confirmation_on_terminal(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    cfg = ("-c", admin.config)
    code, out = run_pty([*cfg, "mailbox", "delete", "a@example.test"],
                        [("[y/N]", "n\n")])
    assert code == 75 and "nothing deleted" in out, out
    code, out = run_pty([*cfg, "domain", "delete", "example.test", "--force"],
                        [("[y/N]", "\n")])
    assert code == 75, out
    assert count(admin, "mailboxes") == 1 and count(admin, "domains") == 1
    code, out = run_pty([*cfg, "mailbox", "delete", "a@example.test"],
                        [("[y/N]", "y\n")])
    assert code == 0 and "deleted" in out, out
    code, out = run_pty([*cfg, "--yes", "domain", "delete", "example.test"], [])
    assert code == 0 and "[y/N]" not in out, out
    assert count(admin, "domains") == 0


# ------------------------------------------------------------------ alias

def test_alias_add_forms_and_list(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    r = admin.ok("alias", "add", "info@example.test", "a@example.test")
    assert r.stdout == "alias info@example.test -> a@example.test added\n"
    r = admin.ok("alias", "add", "team@example.test", "x@ext.test,y@ext.test",
                 "z@ext.test", "w@ext.test, v@ext.test")
    assert r.stdout.count(" added\n") == 5
    admin.ok("alias", "add", "@example.test", "a@example.test")
    js = jsonout(admin("alias", "list", "--json"))
    pairs = [(a["source"], a["destination"]) for a in js]
    assert pairs == [
        ("@example.test", "a@example.test"),
        ("info@example.test", "a@example.test"),
        ("team@example.test", "v@ext.test"),
        ("team@example.test", "w@ext.test"),
        ("team@example.test", "x@ext.test"),
        ("team@example.test", "y@ext.test"),
        ("team@example.test", "z@ext.test"),
    ]
    assert js[0]["catch_all"] is True and js[1]["catch_all"] is False
    assert all(a["active"] is True for a in js)
    assert set(js[0]) == {"source", "destination", "active", "catch_all",
                          "created"}
    rows = table(admin("alias", "list"))
    assert rows[0][:3] == ["SOURCE", "DESTINATION", "ACTIVE"]
    assert rows[1][:3] == ["@example.test", "a@example.test", "yes"]
    assert len(rows) == 8
    assert admin.sql("SELECT local_part FROM aliases WHERE destination = "
                     "'a@example.test' ORDER BY local_part") == [[""], ["info"]]
    js = jsonout(admin("domain", "show", "example.test", "--json"))
    assert js["aliases"] == 3


def test_alias_list_per_domain(admin):
    admin.ok("domain", "add", "one.test")
    admin.ok("domain", "add", "two.test")
    admin.ok("alias", "add", "a@one.test", "x@ext.test")
    admin.ok("alias", "add", "b@two.test", "y@ext.test")
    js = jsonout(admin("alias", "list", "two.test", "--json"))
    assert [(a["source"], a["destination"]) for a in js] == [
        ("b@two.test", "y@ext.test")]
    assert_fail(admin("alias", "list", "nope.test"), EX_NOUSER)
    assert jsonout(admin("alias", "list", "--json")) != js


def test_alias_source_and_destination_case(admin):
    admin.ok("domain", "add", "example.test")
    r = admin.ok("alias", "add", "Info@EXAMPLE.test", "Foo.Bar@Ext.TEST")
    # The source is ours (folded); a foreign local part keeps its case.
    assert r.stdout == "alias info@example.test -> Foo.Bar@ext.test added\n"


def test_alias_delete(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("alias", "add", "team@example.test", "x@ext.test", "y@ext.test",
             "z@ext.test")
    admin.ok("alias", "add", "@example.test", "x@ext.test")
    r = admin.ok("alias", "delete", "team@example.test", "y@ext.test")
    assert r.stdout == "alias team@example.test deleted (1 destination)\n"
    assert_fail(admin("alias", "delete", "team@example.test", "y@ext.test"),
                EX_NOUSER, "no such alias")
    assert count(admin, "aliases", "local_part = 'team'") == 2
    r = admin.ok("alias", "delete", "team@example.test")
    assert r.stdout == "alias team@example.test deleted (2 destinations)\n"
    assert count(admin, "aliases", "local_part = 'team'") == 0
    admin.ok("alias", "delete", "@example.test")
    assert count(admin, "aliases") == 0
    assert_fail(admin("alias", "delete", "team@example.test"), EX_NOUSER,
                "no such alias: team@example.test")
    assert_fail(admin("alias", "delete", "@example.test"), EX_NOUSER)
    assert_fail(admin("alias", "delete", "x@nope.test"), EX_NOUSER, "nope.test")


def test_alias_to_itself(admin):
    admin.ok("domain", "add", "example.test")
    assert_fail(admin("alias", "add", "a@example.test", "a@example.test"),
                EX_DATAERR, "itself")
    assert_fail(admin("alias", "add", "a@example.test", "x@ext.test,a@example.test"),
                EX_DATAERR, "itself")
    assert count(admin, "aliases") == 0


def test_alias_to_itself_other_case(admin):
    admin.ok("domain", "add", "example.test")
    assert_fail(admin("alias", "add", "a@example.test", "A@Example.TEST"),
                EX_DATAERR, "itself")
    assert count(admin, "aliases") == 0


def test_alias_duplicate_and_bad(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("alias", "add", "a@example.test", "x@ext.test")
    assert_fail(admin("alias", "add", "a@example.test", "x@ext.test"),
                EX_DATAERR, "already exists")
    # All or nothing: a duplicate in a list adds none of the list.
    assert_fail(admin("alias", "add", "a@example.test", "y@ext.test",
                      "x@ext.test"), EX_DATAERR)
    assert count(admin, "aliases") == 1
    assert_fail(admin("alias", "add", "a@example.test", "not-an-address"),
                EX_DATAERR, "bad destination")
    assert_fail(admin("alias", "add", "a..b@example.test", "x@ext.test"),
                EX_DATAERR, "bad address")
    assert_fail(admin("alias", "add", "a@example.test"), EX_USAGE)
    assert_fail(admin("alias", "add", "a@example.test", ","), EX_USAGE)
    assert count(admin, "aliases") == 1


def test_alias_limit(admin):
    admin.ok("domain", "add", "example.test", "--max-aliases", "2")
    admin.ok("alias", "add", "a@example.test", "x@ext.test")
    admin.ok("alias", "add", "@example.test", "x@ext.test")
    assert_fail(admin("alias", "add", "b@example.test", "x@ext.test"),
                EX_CANTCREAT, "alias limit")
    # More destinations for an existing source do not count.
    admin.ok("alias", "add", "a@example.test", "y@ext.test", "z@ext.test")
    admin.ok("alias", "add", "@example.test", "y@ext.test")
    assert count(admin, "aliases") == 5
    assert count(admin, "aliases", "local_part = 'b'") == 0
    js = jsonout(admin("domain", "show", "example.test", "--json"))
    assert (js["aliases"], js["max_aliases"]) == (2, 2)
    assert_fail(admin("domain", "set", "example.test", "--max-aliases", "1"),
                EX_CANTCREAT)


def test_alias_unknown_domain(admin):
    assert_fail(admin("alias", "add", "a@nope.test", "x@ext.test"), EX_NOUSER,
                "no such domain: nope.test")
    assert_fail(admin("alias", "add", "@nope.test", "x@ext.test"), EX_NOUSER,
                "nope.test")


def test_alias_in_alias_domain(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    line = assert_fail(admin("alias", "add", "a@example.net", "x@ext.test"),
                       EX_NOUSER, "example.net")
    assert "example.test" in line and "alias domain" in line
    assert count(admin, "aliases") == 0


# ----------------------------------------------------------- alias-domain

def test_alias_domain_add_list_delete(admin):
    admin.ok("domain", "add", "example.test")
    r = admin.ok("alias-domain", "add", "Example.NET", "example.test")
    assert r.stdout == "alias domain example.net -> example.test added\n"
    admin.ok("alias-domain", "add", "example.org", "example.test")
    js = jsonout(admin("alias-domain", "list", "--json"))
    assert [(a["alias_domain"], a["target"], a["active"]) for a in js] == [
        ("example.net", "example.test", True),
        ("example.org", "example.test", True)]
    rows = table(admin("alias-domain", "list"))
    assert rows[0][:2] == ["ALIAS", "DOMAIN"]
    assert rows[1][:3] == ["example.net", "example.test", "yes"]
    assert jsonout(admin("domain", "show", "example.test", "--json"))[
        "alias_domains"] == "example.net example.org"
    r = admin.ok("alias-domain", "delete", "example.net")
    assert r.stdout == "alias domain example.net deleted\n"
    assert [a["alias_domain"] for a in
            jsonout(admin("alias-domain", "list", "--json"))] == ["example.org"]
    assert_fail(admin("alias-domain", "delete", "example.net"), EX_NOUSER,
                "no such alias domain")


def test_alias_domain_errors(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("domain", "add", "other.test")
    assert_fail(admin("alias-domain", "add", "other.test", "example.test"),
                EX_DATAERR, "hosted domain")
    assert_fail(admin("alias-domain", "add", "example.test", "example.test"),
                EX_DATAERR, "itself")
    assert_fail(admin("alias-domain", "add", "example.net", "nope.test"),
                EX_NOUSER, "no such domain: nope.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    assert_fail(admin("alias-domain", "add", "example.net", "other.test"),
                EX_DATAERR, "already exists")
    assert_fail(admin("alias-domain", "add", "EXAMPLE.net", "example.test"),
                EX_DATAERR, "already exists")
    # A hosted domain may not take an alias domain's name ...
    assert_fail(admin("domain", "add", "example.net"), EX_DATAERR,
                "alias domain")
    # ... and an alias domain is not a target.
    assert_fail(admin("alias-domain", "add", "example.org", "example.net"),
                EX_NOUSER, "example.net")
    assert_fail(admin("alias-domain", "add", "bad..name", "example.test"),
                EX_DATAERR, "bad domain")
    assert admin.sql("SELECT name FROM domains ORDER BY name") == [
        ["example.test"], ["other.test"]]
    assert admin.sql("SELECT name FROM alias_domains") == [["example.net"]]


# --------------------------------------------------------- SQL injection

def test_quote_in_local_part_is_literal(admin):
    admin.ok("domain", "add", "example.test")
    r = add_mailbox(admin, "o'brien@example.test")
    assert r.stdout == "mailbox o'brien@example.test added\n"
    assert admin.sql("SELECT local_part FROM mailboxes") == [["o'brien"]]
    js = jsonout(admin("mailbox", "show", "o'brien@example.test", "--json"))
    assert js["address"] == "o'brien@example.test"
    assert [m["address"] for m in jsonout(admin("mailbox", "list", "--json"))] \
        == ["o'brien@example.test"]
    assert table(admin("mailbox", "list"))[1][0] == "o'brien@example.test"
    admin.ok("mailbox", "delete", "o'brien@example.test")
    assert count(admin, "mailboxes") == 0


@pytest.mark.parametrize("addr", [
    "x'; DROP TABLE domains;--@example.test",
    "robert');--@example.test",
    "a' OR '1'='1@example.test",
    "a@example.test'; DROP TABLE mailboxes;--",
])
def test_injection_shaped_addresses_rejected(admin, addr):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "keep@example.test")
    tables_before = admin.sql("SHOW FULL TABLES")
    assert_fail(admin("mailbox", "add", addr, "--password-stdin", input="pw\n"),
                EX_DATAERR)
    assert_fail(admin("mailbox", "show", addr), EX_DATAERR)
    assert_fail(admin("alias", "add", addr, "x@ext.test"), EX_DATAERR)
    assert admin.sql("SHOW FULL TABLES") == tables_before
    assert admin.sql("SELECT name FROM domains") == [["example.test"]]
    assert admin.sql("SELECT local_part FROM mailboxes") == [["keep"]]


@pytest.mark.parametrize("name", ["x%y.com", "x_y.com", "x'y.com",
                                  "x.com'; DROP TABLE domains;--"])
def test_injection_shaped_domains_rejected(admin, name):
    admin.ok("domain", "add", "xay.com")
    assert_fail(admin("domain", "add", name), EX_DATAERR, "bad domain")
    # A LIKE pattern must not find another domain either.
    assert_fail(admin("domain", "show", name), EX_DATAERR)
    assert_fail(admin("domain", "delete", name, "--force"), EX_DATAERR)
    assert admin.sql("SELECT name FROM domains") == [["xay.com"]]


def test_alias_destination_with_quote(admin):
    admin.ok("domain", "add", "example.test")
    admin.ok("alias", "add", "a@example.test", "o'neil@ext.test")
    assert admin.sql("SELECT destination FROM aliases") == [["o'neil@ext.test"]]
    js = jsonout(admin("alias", "list", "--json"))
    assert js[0]["destination"] == "o'neil@ext.test"
    admin.ok("alias", "delete", "a@example.test", "o'neil@ext.test")
    assert count(admin, "aliases") == 0
    assert_fail(admin("alias", "add", "a@example.test",
                      "x');DROP TABLE aliases;--@ext.test"), EX_DATAERR)
    assert count(admin, "aliases") == 0
    assert admin.sql("SHOW TABLES LIKE 'aliases'") == [["aliases"]]


# --------------------------------------------------------------------- pw

@pytest.mark.parametrize("scheme,prefix", [
    (None, "{SHA512-CRYPT}$6$"),
    ("SHA512-CRYPT", "{SHA512-CRYPT}$6$"),
    ("sha512-crypt", "{SHA512-CRYPT}$6$"),
    ("SHA256-CRYPT", "{SHA256-CRYPT}$5$"),
    ("BLF-CRYPT", "{BLF-CRYPT}$2y$"),
    ("YESCRYPT", "{CRYPT}$y$"),
    ("PLAIN", "{PLAIN}"),
])
def test_pw_schemes(admin, scheme, prefix):
    args = ("pw",) if scheme is None else ("pw", "-s", scheme)
    r = admin.ok(*args, "--password-stdin", input="Pw-scheme-test\n")
    h = r.stdout.rstrip("\n")
    assert r.stdout.count("\n") == 1
    assert h.startswith(prefix), h
    if scheme == "PLAIN":
        assert h == "{PLAIN}Pw-scheme-test"
    assert assert_ok(verify(admin, h, "Pw-scheme-test")).stdout == "verified\n"
    assert_fail(verify(admin, h, "Pw-scheme-tesT"), EX_NOPERM,
                "does not match")


def test_pw_salted(admin):
    a = admin.ok("pw", "--password-stdin", input="same\n").stdout
    b = admin.ok("pw", "--password-stdin", input="same\n").stdout
    assert a != b


def test_pw_rounds(admin):
    h = admin.ok("pw", "-r", "10000", "--password-stdin", input="pw\n").stdout.strip()
    assert h.startswith("{SHA512-CRYPT}$6$rounds=10000$")
    assert_ok(verify(admin, h, "pw"))
    h = admin.ok("pw", "-s", "SHA256-CRYPT", "--rounds", "20000",
                 "--password-stdin", input="pw\n").stdout.strip()
    assert h.startswith("{SHA256-CRYPT}$5$rounds=20000$")
    h = admin.ok("pw", "-s", "BLF-CRYPT", "-r", "6", "--password-stdin",
                 input="pw\n").stdout.strip()
    assert h.startswith("{BLF-CRYPT}$2y$06$")


@pytest.mark.parametrize("scheme", ["NOPE", "MD5-CRYPT", "DES-CRYPT", ""])
def test_pw_unknown_scheme(admin, scheme):
    assert_fail(admin("pw", "-s", scheme, "--password-stdin", input="pw\n"),
                EX_DATAERR, "scheme")


@pytest.mark.parametrize("args", [
    ("-r", "0"), ("-r", "abc"), ("-r", "-5"), ("-r", ""), ("-r", "1000000000"),
    ("-r", "999"),                          # below SHA512-CRYPT's minimum
    ("-s", "BLF-CRYPT", "-r", "32"),
    ("-s", "PLAIN", "-r", "5000"),
])
def test_pw_bad_rounds(admin, args):
    assert_fail(admin("pw", *args, "--password-stdin", input="pw\n"),
                EX_DATAERR)


@pytest.mark.parametrize("hash_", [
    "garbage", "", "{SHA512-CRYPT}", "{SHA512-CRYPT", "{NOPE}abc",
    "{SHA512-CRYPT}!!", "{BLF-CRYPT}$2y$99$xx",
])
def test_pw_verify_malformed(admin, hash_):
    assert_fail(verify(admin, hash_, "pw"), EX_DATAERR, "cannot verify")


def test_pw_needs_no_config_or_database(admin, tmp_path):
    r = run_admin(str(tmp_path / "missing.yaml"), "pw", "--password-stdin",
                  input="pw\n")
    assert_ok(r)
    assert r.stdout.startswith("{SHA512-CRYPT}$6$")
    r = run_admin(str(tmp_path / "missing.yaml"), "pw", "--verify",
                  r.stdout.strip(), "--password-stdin", input="pw\n")
    assert_ok(r)


# ----------------------------------------------------------------- config

def write_config(stack, path, extra="", **override):
    """A copy of the stack's aviary.yaml, with values replaced by
    'section_key' (e.g. mail_uid="-3") and 'extra' text appended.
    Returns {section_key: line number} ("_last": the last line)."""
    with open(stack.config) as f:
        lines = f.read().splitlines()
    where, section = {}, None
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            section = line.split(":", 1)[0].strip()
            where[section] = i + 1
        elif section and line.startswith("  ") and line[2] != " " and ":" in line:
            key = line.strip().split(":", 1)[0]
            name = section + "_" + key
            where[name] = i + 1
            if name in override:
                lines[i] = "  %s: %s" % (key, override.pop(name))
    assert not override, "not in %s: %s" % (stack.config, override)
    where["_last"] = len(lines)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return where


def test_config_works(admin, tmp_path):
    cfg = str(tmp_path / "a.yaml")
    write_config(admin.stack, cfg)
    assert_ok(admin("domain", "list", config=cfg))


def test_config_unknown_key(admin, tmp_path):
    cfg = str(tmp_path / "a.yaml")
    where = write_config(admin.stack, cfg, extra="colour: blue\n")
    line = where["_last"] + 1
    assert_fail(admin("domain", "list", config=cfg), EX_CONFIG,
                "%s:%d:" % (cfg, line), "colour")
    where = write_config(admin.stack, cfg, mail_gid="5000\n  shell: /bin/sh")
    assert_fail(admin("domain", "list", config=cfg), EX_CONFIG,
                "%s:%d:" % (cfg, where["mail_gid"] + 1), "mail.shell")


@pytest.mark.parametrize("key,value", [
    ("database_connect_timeout", "forever"),
    ("database_connect_timeout", "0s"),
    ("mail_uid", "-3"),
    ("mail_uid", "0"),
    ("mail_gid", "lots"),
    ("database_hosts", "{a: b}"),
])
def test_config_bad_value(admin, tmp_path, key, value):
    cfg = str(tmp_path / "a.yaml")
    where = write_config(admin.stack, cfg, **{key: value})
    line = assert_fail(admin("domain", "list", config=cfg), EX_CONFIG,
                       "%s:%d:" % (cfg, where[key]))
    assert key.split("_", 1)[1] in line


@pytest.mark.parametrize("key,value", [
    ("passwords_scheme", "NOPE"),
    ("mail_root", "relative/mail"),
])
def test_config_bad_value_checked_later_has_line(admin, tmp_path, key, value):
    cfg = str(tmp_path / "a.yaml")
    where = write_config(admin.stack, cfg, **{key: value})
    r = admin("domain", "list", config=cfg)
    assert r.returncode == EX_CONFIG
    assert "%s:%d:" % (cfg, where[key]) in error_line(r)


def test_config_yaml_syntax_error(admin, tmp_path):
    cfg = str(tmp_path / "a.yaml")
    write_config(admin.stack, cfg, extra="database: [\n")
    assert_fail(admin("domain", "list", config=cfg), EX_CONFIG, cfg + ":")


def test_config_missing_file(admin, tmp_path):
    cfg = str(tmp_path / "nope.yaml")
    assert_fail(admin("domain", "list", config=cfg), EX_CONFIG,
                "aviary-admin: " + cfg + ":")
    # AVIARY_CONFIG is the default for -c.
    env = dict(os.environ, AVIARY_CONFIG=cfg)
    r = subprocess.run([ADMIN, "domain", "list"], capture_output=True,
                       text=True, env=env, stdin=subprocess.DEVNULL)
    assert_fail(r, EX_CONFIG, cfg)


def test_config_password_file_world_readable(admin, tmp_path):
    pf = tmp_path / "db.pass"
    with open(admin.stack.secret_path("db-admin")) as f:
        pf.write_text(f.read())
    cfg = str(tmp_path / "a.yaml")
    write_config(admin.stack, cfg, database_password_file=str(pf))
    os.chmod(pf, 0o600)
    assert_ok(admin("domain", "list", config=cfg))
    os.chmod(pf, 0o644)
    assert_fail(admin("domain", "list", config=cfg), EX_CONFIG,
                "password_file", str(pf))
    os.chmod(pf, 0o602)
    assert_fail(admin("domain", "list", config=cfg), EX_CONFIG, str(pf))
    assert stat.S_IMODE(os.stat(admin.stack.secret_path("db-admin")).st_mode) == 0o600


def test_config_password_file_missing(admin, tmp_path):
    cfg = str(tmp_path / "a.yaml")
    write_config(admin.stack, cfg,
                 database_password_file=str(tmp_path / "none.pass"))
    assert_fail(admin("domain", "list", config=cfg), EX_CONFIG, "none.pass")


# ------------------------------------------------------------ database down

@pytest.mark.parametrize("args,stdin", [
    (("domain", "list"), None),
    (("db", "status"), None),
    (("domain", "add", "example.test"), None),
    (("mailbox", "add", "a@example.test", "--password-stdin"), "pw\n"),
])
def test_database_socket_missing(admin, tmp_path, args, stdin):
    cfg = str(tmp_path / "a.yaml")
    write_config(admin.stack, cfg,
                 database_hosts='["unix:%s"]' % (tmp_path / "no" / "mysqld.sock"))
    assert_fail(admin(*args, config=cfg, input=stdin), EX_UNAVAILABLE,
                "unavailable")


def test_database_server_stopped(tmp_path_factory, build):
    s = aviarydev.Stack(short_tmpdir(tmp_path_factory, "down"), build)
    try:
        s.up()
        assert_ok(run_admin(s.config, "domain", "add", "example.test"))
        s.db.stop()
        for args in (("domain", "list"), ("domain", "add", "other.test"),
                     ("db", "migrate")):
            assert_fail(run_admin(s.config, *args), EX_UNAVAILABLE)
    finally:
        stop_stack(s)


def test_database_wrong_credentials(admin, tmp_path):
    cfg = str(tmp_path / "a.yaml")
    write_config(admin.stack, cfg,
                 database_password_file=admin.stack.secret_path("db-postfix"))
    r = admin("domain", "list", config=cfg)
    assert r.returncode in (EX_UNAVAILABLE, EX_CONFIG)
    assert "Access denied" in error_line(r)


# ------------------------------------------------------------------ audit

def test_audit_log(admin):
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    admin.ok("mailbox", "passwd", "a@example.test", "--password-stdin",
             input="other\n")
    admin.ok("mailbox", "quota", "a@example.test", "1G")
    admin.ok("alias", "add", "info@example.test", "a@example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    admin.ok("alias-domain", "delete", "example.net")
    admin.ok("alias", "delete", "info@example.test")
    admin.ok("mailbox", "delete", "a@example.test")
    admin.ok("domain", "disable", "example.test")
    admin.ok("domain", "delete", "example.test")
    # Failures leave nothing.
    admin("domain", "delete", "example.test")
    admin("mailbox", "add", "b@nope.test", "--password-stdin", input="x\n")
    rows = audit(admin)
    assert [(r[1], r[2]) for r in rows] == [
        ("domain add", "example.test"),
        ("mailbox add", "a@example.test"),
        ("mailbox passwd", "a@example.test"),
        ("mailbox quota", "a@example.test"),
        ("alias add", "info@example.test"),
        ("alias-domain add", "example.net"),
        ("alias-domain delete", "example.net"),
        ("alias delete", "info@example.test"),
        ("mailbox delete", "a@example.test"),
        ("domain disable", "example.test"),
        ("domain delete", "example.test"),
    ]
    assert rows[4][3] == "a@example.test"
    assert rows[5][3] == "example.test"
    assert "bytes=%d" % G in rows[3][3]
    assert all(r[0] for r in rows)      # an actor on every row


def test_database_error_is_70_and_rolls_back(admin):
    """A statement failing inside a change (here: the audit row, with the
    table renamed away) exits 70 and leaves nothing half-made."""
    admin.ok("domain", "add", "example.test")
    add_mailbox(admin, "a@example.test")
    admin.ok("alias", "add", "info@example.test", "a@example.test")
    admin.sql("RENAME TABLE audit_log TO audit_log_away")
    try:
        assert_fail(admin("domain", "add", "new.test"), 70, "database error")
        assert_fail(admin("mailbox", "add", "b@example.test", "--password-stdin",
                          input="pw\n"), 70, "database error")
        assert_fail(admin("domain", "delete", "example.test", "--force"), 70)
        assert_fail(admin("alias", "add", "x@example.test", "y@ext.test",
                          "z@ext.test"), 70)
    finally:
        admin.sql("RENAME TABLE audit_log_away TO audit_log")
    assert admin.sql("SELECT name FROM domains") == [["example.test"]]
    assert admin.sql("SELECT local_part FROM mailboxes") == [["a"]]
    assert admin.sql("SELECT local_part FROM aliases") == [["info"]]


def test_audit_actor_from_sudo_user(admin):
    r = subprocess.run([ADMIN, "-c", admin.config, "domain", "add",
                        "example.test"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL,
                       env=dict(admin_env(), SUDO_USER="alice"))
    assert_ok(r)
    assert audit(admin) == [["alice", "domain add", "example.test", ""]]
