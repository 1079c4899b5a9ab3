"""The SQL that Postfix runs: the exact `query =` lines of
conf/postfix/*.cf, expanded as Postfix's mysql table does (%% -> %,
%s -> the key, SQL-escaped), run as aviary_postfix with the mariadb
client (password in an option file, never on the command line)."""
import os
import subprocess

import pytest

from avhelpers import assert_ok
from avstack import MARIADB, REPO

CF_DIR = os.path.join(REPO, "conf", "postfix")
ALIAS_CF = "mysql-virtual-alias-maps.cf"
MAILBOX_CF = "mysql-virtual-mailbox-maps.cf"
DOMAINS_CF = "mysql-virtual-mailbox-domains.cf"


def cf_query(name):
    """The query of a Postfix cf file (continuation lines joined, as
    Postfix reads main.cf-style files)."""
    params, last = {}, None
    with open(os.path.join(CF_DIR, name)) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0].isspace() and last:
                params[last] += " " + line.strip()
                continue
            k, _, v = line.partition("=")
            last = k.strip()
            params[last] = v.strip()
    return params["query"]


def mysql_escape(s):
    """mysql_real_escape_string, which Postfix applies to %s."""
    table = {"\0": "\\0", "\n": "\\n", "\r": "\\r", "\\": "\\\\",
             "'": "\\'", '"': '\\"', "\x1a": "\\Z"}
    return "".join(table.get(c, c) for c in s)


def expand(query, key):
    """Postfix's db_common_expand for the two escapes our queries use."""
    out, i = [], 0
    while i < len(query):
        c = query[i]
        if c == "%":
            n = query[i + 1]
            if n == "%":
                out.append("%")
            elif n == "s":
                out.append(mysql_escape(key))
            else:
                raise AssertionError("unexpected %%%s in %r" % (n, query))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Client:
    """The mariadb client as one of the service accounts."""

    def __init__(self, stack, user, secret, tmpdir):
        self.stack = stack
        self.optfile = os.path.join(tmpdir, user + ".cnf")
        with open(os.path.join(stack.secrets, secret + ".pass")) as f:
            password = f.readline().rstrip("\r\n")
        fd = os.open(self.optfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[client]\nuser=%s\npassword=%s\nsocket=%s\n" % (
                user, password, stack.db.socket))
        self.password = password

    def run(self, sql):
        args = [MARIADB, "--defaults-file=" + self.optfile, "--batch",
                "--skip-column-names", self.stack.dbname]
        assert self.password not in " ".join(args)
        return subprocess.run(args, input=sql + ";\n", text=True,
                              capture_output=True, timeout=30)

    def rows(self, sql):
        r = self.run(sql)
        assert r.returncode == 0, r.stderr
        return [line.split("\t") for line in r.stdout.splitlines()]

    def lookup(self, cf, key):
        """A Postfix table lookup: the values, in order (Postfix joins
        them with commas); [] when not found."""
        return [row[0] for row in self.rows(expand(cf_query(cf), key))]

    def virtual_alias(self, addr):
        """virtual_alias_maps for a virtual domain: user@domain first,
        then @domain; the first key that matches wins."""
        found = self.lookup(ALIAS_CF, addr)
        if found:
            return found
        return self.lookup(ALIAS_CF, "@" + addr.rsplit("@", 1)[1])


@pytest.fixture
def postfix(admin, tmp_path):
    return Client(admin.stack, "aviary_postfix", "db-postfix", str(tmp_path))


@pytest.fixture
def auth(admin, tmp_path):
    return Client(admin.stack, "aviary_auth", "db-auth", str(tmp_path))


def mbox(admin, addr, *opts):
    admin.ok("mailbox", "add", addr, "--password-stdin", *opts,
             input="Pw-for-%s\n" % addr)


def test_cf_files_have_one_query_each():
    for cf in (ALIAS_CF, MAILBOX_CF, DOMAINS_CF):
        q = cf_query(cf)
        assert q.upper().startswith("SELECT "), q
        assert "%s" in q


def test_expand():
    assert expand("a '%s' LIKE '%%@%%'", "o'b@x") == "a 'o\\'b@x' LIKE '%@%'"


def test_mailbox_found(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    assert postfix.lookup(MAILBOX_CF, "user@example.test") == ["example.test/user/"]
    assert postfix.lookup(MAILBOX_CF, "nobody@example.test") == []
    assert postfix.lookup(MAILBOX_CF, "user@other.test") == []
    # Keys without '@' (Postfix also tries the bare local part and the
    # domain in some tables) match nothing.
    assert postfix.lookup(MAILBOX_CF, "user") == []
    assert postfix.lookup(MAILBOX_CF, "example.test") == []
    assert postfix.lookup(DOMAINS_CF, "example.test") == ["1"]
    assert postfix.lookup(DOMAINS_CF, "other.test") == []
    # The mailbox is an alias of itself (so that a catch-all never
    # takes its mail).
    assert postfix.lookup(ALIAS_CF, "user@example.test") == ["user@example.test"]


def test_key_is_escaped(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "o'brien@example.test")
    assert postfix.lookup(MAILBOX_CF, "o'brien@example.test") == \
        ["example.test/o'brien/"]
    for key in ("x' OR '1'='1@example.test", "%@example.test",
                "_@example.test", "\\@example.test"):
        assert postfix.lookup(MAILBOX_CF, key) == []
        assert postfix.lookup(ALIAS_CF, key) == []


def test_catch_all(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    admin.ok("alias", "add", "@example.test", "catch@ext.test")
    # Unknown users: user@domain finds nothing, @domain the catch-all.
    assert postfix.lookup(ALIAS_CF, "nobody@example.test") == []
    assert postfix.lookup(ALIAS_CF, "@example.test") == ["catch@ext.test"]
    assert postfix.virtual_alias("nobody@example.test") == ["catch@ext.test"]
    # An existing mailbox finds itself first: not swallowed.
    assert postfix.virtual_alias("user@example.test") == ["user@example.test"]
    # A disabled mailbox is still not swallowed (its mail is refused).
    admin.ok("mailbox", "disable", "user@example.test")
    assert postfix.virtual_alias("user@example.test") == ["user@example.test"]
    assert postfix.lookup(MAILBOX_CF, "user@example.test") == []


def test_alias_all_destinations(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    admin.ok("alias", "add", "team@example.test", "user@example.test",
             "x@ext.test,y@ext.test")
    assert sorted(postfix.lookup(ALIAS_CF, "team@example.test")) == [
        "user@example.test", "x@ext.test", "y@ext.test"]
    # An alias with the name of a mailbox adds to it.
    admin.ok("alias", "add", "user@example.test", "copy@ext.test")
    assert sorted(postfix.lookup(ALIAS_CF, "user@example.test")) == [
        "copy@ext.test", "user@example.test"]
    admin.ok("alias", "delete", "team@example.test", "x@ext.test")
    assert sorted(postfix.lookup(ALIAS_CF, "team@example.test")) == [
        "user@example.test", "y@ext.test"]
    # Aliases of a disabled domain are gone.
    admin.ok("domain", "disable", "example.test")
    assert postfix.lookup(ALIAS_CF, "team@example.test") == []


def test_alias_domain(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    admin.ok("alias", "add", "team@example.test", "x@ext.test", "y@ext.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    assert postfix.lookup(DOMAINS_CF, "example.net") == ["1"]
    assert postfix.lookup(ALIAS_CF, "user@example.net") == ["user@example.test"]
    assert postfix.lookup(ALIAS_CF, "team@example.net") == ["team@example.test"]
    assert postfix.virtual_alias("nobody@example.net") == []
    # Postfix then resolves the target address as usual.
    assert sorted(postfix.virtual_alias("team@example.test")) == [
        "x@ext.test", "y@ext.test"]
    # The alias domain itself has no mailboxes.
    assert postfix.lookup(MAILBOX_CF, "user@example.net") == []
    admin.ok("alias-domain", "delete", "example.net")
    assert postfix.lookup(DOMAINS_CF, "example.net") == []
    assert postfix.lookup(ALIAS_CF, "user@example.net") == []


def test_alias_domain_catch_all_only_with_target_catch_all(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    assert postfix.lookup(ALIAS_CF, "@example.net") == []
    assert postfix.virtual_alias("nobody@example.net") == []
    admin.ok("alias", "add", "@example.test", "catch@ext.test")
    assert postfix.lookup(ALIAS_CF, "@example.net") == ["@example.test"]
    assert postfix.virtual_alias("nobody@example.net") == ["@example.test"]
    assert postfix.virtual_alias("@example.test") == ["catch@ext.test"]
    # A mailbox under the alias domain's name is still itself.
    assert postfix.virtual_alias("user@example.net") == ["user@example.test"]
    admin.ok("alias", "delete", "@example.test")
    assert postfix.lookup(ALIAS_CF, "@example.net") == []


def test_disabled_domain(admin, postfix):
    admin.ok("domain", "add", "example.test")
    admin.ok("domain", "add", "other.test")
    mbox(admin, "user@example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    admin.ok("domain", "disable", "example.test")
    assert postfix.lookup(DOMAINS_CF, "example.test") == []
    assert postfix.lookup(DOMAINS_CF, "example.net") == []
    assert postfix.lookup(DOMAINS_CF, "other.test") == ["1"]
    assert postfix.lookup(MAILBOX_CF, "user@example.test") == []
    assert postfix.lookup(ALIAS_CF, "user@example.net") == []
    admin.ok("domain", "enable", "example.test")
    assert postfix.lookup(DOMAINS_CF, "example.test") == ["1"]
    assert postfix.lookup(DOMAINS_CF, "example.net") == ["1"]
    assert postfix.lookup(MAILBOX_CF, "user@example.test") == ["example.test/user/"]
    admin.ok("domain", "add", "off.test", "--disabled")
    assert postfix.lookup(DOMAINS_CF, "off.test") == []


def test_disabled_mailbox(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    mbox(admin, "off@example.test", "--disabled")
    admin.ok("mailbox", "disable", "user@example.test")
    assert postfix.lookup(MAILBOX_CF, "user@example.test") == []
    assert postfix.lookup(MAILBOX_CF, "off@example.test") == []
    admin.ok("mailbox", "enable", "user@example.test")
    assert postfix.lookup(MAILBOX_CF, "user@example.test") == ["example.test/user/"]


@pytest.mark.parametrize("cf", [ALIAS_CF, MAILBOX_CF])
def test_key_with_two_at_signs_matches_nothing(admin, postfix, cf):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    assert postfix.lookup(cf, "user@evil.test@example.test") == []


def test_postfix_account_reads_only_its_views(admin, postfix):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    for view in ("virtual_mailbox_domains", "virtual_mailbox_maps",
                 "virtual_alias_maps"):
        assert postfix.rows("SELECT COUNT(*) FROM " + view)[0][0] != "0"
    for table in ("mailboxes", "domains", "aliases", "alias_domains",
                  "audit_log", "auth_users", "auth_alias_domains",
                  "quota_usage"):
        r = postfix.run("SELECT * FROM " + table)
        assert r.returncode != 0, table
        assert "denied" in r.stderr, r.stderr
    r = postfix.run("DELETE FROM virtual_mailbox_domains")
    assert r.returncode != 0 and "denied" in r.stderr


def test_auth_account(admin, auth):
    admin.ok("domain", "add", "example.test")
    mbox(admin, "user@example.test")
    admin.ok("alias-domain", "add", "example.net", "example.test")
    rows = auth.rows("SELECT local_part, domain, password, active FROM auth_users")
    assert len(rows) == 1
    assert rows[0][:2] == ["user", "example.test"]
    assert rows[0][2].startswith("{SHA512-CRYPT}$6$")
    assert rows[0][3] == "1"
    assert auth.rows("SELECT alias_domain, domain FROM auth_alias_domains") == [
        ["example.net", "example.test"]]
    # A disabled domain makes its users inactive.
    admin.ok("domain", "disable", "example.test")
    assert auth.rows("SELECT active FROM auth_users") == [["0"]]
    for table in ("mailboxes", "domains", "aliases", "audit_log",
                  "virtual_alias_maps"):
        r = auth.run("SELECT * FROM " + table)
        assert r.returncode != 0, table
        assert "denied" in r.stderr, r.stderr
    r = auth.run("UPDATE auth_users SET password = 'x'")
    assert r.returncode != 0
    # It keeps quota usage.
    (mid,), = auth.rows("SELECT mailbox_id FROM auth_users")
    auth.rows("INSERT INTO quota_usage (mailbox_id, bytes, messages) VALUES "
              "(%s, 1024, 1)" % mid)
    js = admin("mailbox", "show", "user@example.test", "--json")
    assert_ok(js)
    assert '"used_bytes": 1024' in js.stdout
