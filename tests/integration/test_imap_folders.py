"""aviary-imap: the commands on folders (imap/imap_mboxcmd.c) with
imaplib and a raw client: LIST and LSUB (patterns, references, INBOX
case, hierarchy), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
SPECIAL-USE (RFC 6154), CREATE/DELETE/RENAME, SUBSCRIBE/UNSUBSCRIBE,
STATUS after LMTP deliveries, NAMESPACE, QUOTA (RFC 9208), non-ASCII
names in modified UTF-7 and names the server must refuse.

The platform (aviaryd with aviary-auth, aviary-lmtp and aviary-imap on a
private MariaDB) is imaphelp.IMAPPlatform; the client here is a small
one of its own that returns text lines, for exact comparisons.
"""
import base64
import imaplib
import os
import re
import socket

import pytest

import avstack
from imaphelp import IMAPPlatform


# --- the platform ---------------------------------------------------------

@pytest.fixture(scope="module")
def plat(tmp_path_factory, build):
    yield from IMAPPlatform.running(tmp_path_factory, build, "imapf")


# --- clients --------------------------------------------------------------

class Raw:
    """A small IMAP client on a socket: exact response lines, commands
    imaplib does not know (LIST-EXTENDED forms, GETQUOTA)."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""
        self.n = 0
        self.greeting = self.line()

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; have %r" % self.buf)
        self.buf += chunk

    def line(self):
        """One response line without CRLF; a literal inside it is kept
        inline as {n}CRLF<bytes>."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._read()
            line, self.buf = self.buf.split(b"\r\n", 1)
            out += line
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                return out.decode("latin-1")
            n = int(m.group(1))
            while len(self.buf) < n:
                self._read()
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]

    def cmd(self, text):
        """(tagged line, [untagged lines]) of one command."""
        self.n += 1
        tag = "t%d" % self.n
        self.sock.sendall(("%s %s\r\n" % (tag, text)).encode("latin-1"))
        lines = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return line[len(tag) + 1:], lines
            lines.append(line)

    def ok(self, text):
        tagged, lines = self.cmd(text)
        assert tagged.startswith("OK"), (text, tagged, lines)
        return lines

    def login(self, addr, pw):
        return self.ok('LOGIN "%s" "%s"' % (addr, pw))

    def close(self):
        try:
            self.sock.sendall(b"z LOGOUT\r\n")
        except OSError:
            pass
        self.sock.close()


def raw(plat, addr=None, pw=None):
    r = Raw(plat.imap_port)
    assert r.greeting.startswith("* OK"), r.greeting
    if addr is not None:
        r.login(addr, pw)
    return r


def client(plat, addr, pw):
    m = imaplib.IMAP4("127.0.0.1", plat.imap_port, timeout=30)
    m.login(addr, pw)
    return m


LIST_RE = re.compile(r'^\* (LIST|LSUB) \(([^)]*)\) ("(?:[^"\\]|\\.)"|NIL) '
                     r'("(?:[^"\\]|\\.)*"|[^ ]+)(?: (.*))?$')


def unquote(s):
    if s.startswith('"'):
        return re.sub(r'\\(.)', r'\1', s[1:-1])
    return s


def parse_list(lines, kind="LIST"):
    """{name: (set of attributes, extended data or None)} of the LIST (or
    LSUB) lines, in the order they came."""
    out = {}
    for line in lines:
        if not line.startswith("* %s " % kind):
            continue
        m = LIST_RE.match(line)
        assert m, line
        assert m.group(3) == '"."', line
        name = unquote(m.group(4))
        assert name not in out, "%s listed twice" % name
        out[name] = (set(m.group(2).split()), m.group(5))
    return out


def parse_status(line):
    m = re.match(r'^\* STATUS ("(?:[^"\\]|\\.)*"|[^ ]+) \((.*)\)$', line)
    assert m, line
    items = m.group(2).split()
    return unquote(m.group(1)), dict(
        (items[i], int(items[i + 1])) for i in range(0, len(items), 2))


def mutf7(s):
    """Modified UTF-7 (RFC 3501 5.1.3) of a str."""
    out, run = [], []

    def flush():
        if run:
            b = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=")
                       .replace("/", ",") + "-")
            run.clear()
    for ch in s:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def msg(subject, body=b"hello\r\n"):
    return (b"From: sender@example.org\r\nTo: x@example.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n\r\n" + body)


SPECIAL = {"Drafts": "\\Drafts", "Sent": "\\Sent", "Sent Messages": "\\Sent",
           "Trash": "\\Trash", "Junk": "\\Junk", "Archive": "\\Archive"}


@pytest.fixture
def box(plat):
    """A fresh mailbox, logged in once so that the session has made the
    special-use folders: (addr, password)."""
    addr, pw = plat.mailbox()
    r = raw(plat, addr, pw)
    r.close()
    return addr, pw


# --- LIST -----------------------------------------------------------------

def test_list_fresh_mailbox_special_use(plat, box):
    r = raw(plat, *box)
    lines = r.ok('LIST "" "*"')
    got = parse_list(lines)
    # INBOX first, then the folders the session created at login, each
    # with its special-use attribute and the CHILDREN attributes.
    assert list(got)[0] == "INBOX"
    assert got["INBOX"][0] == {"\\HasNoChildren"}
    for name, attr in SPECIAL.items():
        assert got[name][0] == {"\\HasNoChildren", attr}, (name, got)
    assert set(got) == {"INBOX"} | set(SPECIAL)
    # On disk they are Maildir++ folders.
    home = plat.home(box[0])
    for name in SPECIAL:
        assert os.path.isdir(os.path.join(home, "." + name, "cur"))
    # They were subscribed when they were made.
    subs = parse_list(r.ok('LSUB "" "*"'), "LSUB")
    assert set(SPECIAL) <= set(subs)
    r.close()


def test_list_with_imaplib(plat, box):
    m = client(plat, *box)
    typ, data = m.list()
    assert typ == "OK"
    names = [d.decode() for d in data]
    assert any(n.endswith('"." INBOX') or n.endswith('"." "INBOX"')
               for n in names), names
    assert any('\\Sent' in n and 'Sent Messages' in n for n in names)
    typ, data = m.list('""', "%")
    assert typ == "OK" and len(data) == 1 + len(SPECIAL)
    m.logout()


def test_list_empty_pattern_gives_separator(plat, box):
    r = raw(plat, *box)
    assert r.ok('LIST "" ""') == ['* LIST (\\Noselect) "." ""']
    # The root of a reference with a hierarchy: up to its first '.'.
    assert r.ok('LIST "Work.Projects" ""') == ['* LIST (\\Noselect) "." Work.']
    assert r.ok('LIST "Work" ""') == ['* LIST (\\Noselect) "." ""']
    # LSUB and LIST-EXTENDED: an empty pattern matches nothing.
    assert r.ok('LSUB "" ""') == []
    assert r.ok('LIST () "" ""') == []
    r.close()


def test_list_hierarchy_percent_and_reference(plat, box):
    r = raw(plat, *box)
    r.ok('CREATE "Work.Projects.2024"')
    r.ok('CREATE "Work.Notes"')
    # Parents are not created (folders.h, as Dovecot): they list as
    # \Noselect levels with children.
    got = parse_list(r.ok('LIST "" "*"'))
    assert got["Work"][0] == {"\\Noselect", "\\HasChildren"}
    assert got["Work.Projects"][0] == {"\\Noselect", "\\HasChildren"}
    assert got["Work.Projects.2024"][0] == {"\\HasNoChildren"}
    assert got["Work.Notes"][0] == {"\\HasNoChildren"}
    assert not os.path.exists(os.path.join(plat.home(box[0]), ".Work"))
    # '%' stops at the separator.
    top = parse_list(r.ok('LIST "" "%"'))
    assert "Work" in top and "Work.Notes" not in top
    assert set(parse_list(r.ok('LIST "" "Work.%"'))) == {
        "Work.Projects", "Work.Notes"}
    # The reference is prepended as it is.
    assert set(parse_list(r.ok('LIST "Work." "%"'))) == {
        "Work.Projects", "Work.Notes"}
    assert set(parse_list(r.ok('LIST "Work.Projects." "*"'))) == {
        "Work.Projects.2024"}
    assert set(parse_list(r.ok('LIST "" "W*s"'))) == {
        "Work.Projects", "Work.Notes"}
    assert set(parse_list(r.ok('LIST "" "*2024"'))) == {"Work.Projects.2024"}
    assert r.ok('LIST "" "Nothing*"') == []
    # A created folder below a \Noselect level makes the level a folder.
    r.ok('CREATE Work')
    assert parse_list(r.ok('LIST "" Work'))["Work"][0] == {"\\HasChildren"}
    r.close()


def test_list_inbox_is_case_insensitive(plat, box):
    r = raw(plat, *box)
    for pat in ("inbox", "InBoX", "INBOX", "inb*", "*box", "i%x"):
        got = parse_list(r.ok('LIST "" "%s"' % pat))
        assert "INBOX" in got, pat
    r.ok('CREATE "inbox.Sub"')
    got = parse_list(r.ok('LIST "" "inbox.*"'))
    assert set(got) == {"INBOX.Sub"}
    assert parse_list(r.ok('LIST "" INBOX'))["INBOX"][0] == {"\\HasChildren"}
    # Stored as Dovecot stores it.
    assert os.path.isdir(os.path.join(plat.home(box[0]), ".INBOX.Sub"))
    # Other names are case-sensitive.
    assert r.ok('LIST "" "drafts"') == []
    r.close()


def test_list_quoting_of_names(plat, box):
    r = raw(plat, *box)
    for name in ('My Folder', 'a"b', 'back\\slash', 'pct%', 'star*', 'NIL'):
        quoted = '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')
        r.ok("CREATE " + quoted)
        lines = r.ok("LIST \"\" " + quoted)
        assert len(lines) == 1, (name, lines)
        assert lines[0].endswith(" " + quoted), lines
        assert parse_list(lines) == {name: ({"\\HasNoChildren"}, None)}
    r.close()


# --- LIST-EXTENDED, LIST-STATUS, SPECIAL-USE ------------------------------

def test_list_extended_nonexistent_and_children(plat, box):
    r = raw(plat, *box)
    r.ok('CREATE "A.B.C"')
    got = parse_list(r.ok('LIST () "" "A*"'))
    assert got["A"][0] == {"\\NonExistent", "\\HasChildren"}
    assert got["A.B"][0] == {"\\NonExistent", "\\HasChildren"}
    assert got["A.B.C"][0] == {"\\HasNoChildren"}
    got = parse_list(r.ok('LIST "" "A*" RETURN (CHILDREN)'))
    assert got["A"][0] == {"\\NonExistent", "\\HasChildren"}
    # Several patterns: each name once, in order.
    got = parse_list(r.ok('LIST "" (INBOX "A.%" "A.*" Drafts)'))
    assert set(got) == {"INBOX", "A.B", "A.B.C", "Drafts"}
    # REMOTE is accepted and changes nothing here.
    assert r.ok('LIST (REMOTE) "" "A*"') == r.ok('LIST () "" "A*"')
    r.close()


def test_list_extended_special_use(plat, box):
    r = raw(plat, *box)
    r.ok('CREATE Plain')
    # Selection SPECIAL-USE: only those, with their attributes.
    got = parse_list(r.ok('LIST (SPECIAL-USE) "" "*"'))
    assert set(got) == set(SPECIAL)
    for name, attr in SPECIAL.items():
        assert attr in got[name][0]
    # Return option SPECIAL-USE: everything, attributes where they apply.
    got = parse_list(r.ok('LIST "" "*" RETURN (SPECIAL-USE)'))
    assert "Plain" in got and "INBOX" in got
    assert got["Trash"][0] >= {"\\Trash"}
    assert not (got["Plain"][0] & set(SPECIAL.values()))
    # Another return option alone: no special-use (as Dovecot).
    got = parse_list(r.ok('LIST "" "*" RETURN (CHILDREN)'))
    assert "\\Trash" not in got["Trash"][0]
    # A special-use folder that was deleted is no longer listed so.
    r.ok("DELETE Junk")
    assert "Junk" not in parse_list(r.ok('LIST (SPECIAL-USE) "" "*"'))
    r.close()


def test_list_extended_subscribed_and_recursivematch(plat, box):
    r = raw(plat, *box)
    r.ok('CREATE "Foo.Bar"')
    r.ok('CREATE "Foo.Baz"')
    r.ok('CREATE Moo')
    r.ok('SUBSCRIBE "Foo.Bar"')
    r.ok('SUBSCRIBE Moo')
    got = parse_list(r.ok('LIST (SUBSCRIBED) "" "*"'))
    assert got["Foo.Bar"][0] == {"\\Subscribed", "\\HasNoChildren"}
    assert got["Moo"][0] == {"\\Subscribed", "\\HasNoChildren"}
    assert "Foo" not in got and "Foo.Baz" not in got
    assert got["Trash"][0] >= {"\\Subscribed"}
    # RFC 5258 example 9: the unsubscribed parent of a subscribed child
    # that '%' does not reach comes back with CHILDINFO.
    got = parse_list(r.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'))
    assert got["Foo"] == ({"\\NonExistent", "\\HasChildren"},
                          '("CHILDINFO" ("SUBSCRIBED"))')
    assert got["Moo"] == ({"\\Subscribed", "\\HasNoChildren"}, None)
    # With '*' the child itself is listed, the parent is not.
    got = parse_list(r.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"'))
    assert "Foo" not in got and "Foo.Bar" in got
    # RETURN (SUBSCRIBED) marks without selecting.
    got = parse_list(r.ok('LIST "" "Foo*" RETURN (SUBSCRIBED)'))
    assert got["Foo.Bar"][0] == {"\\Subscribed", "\\HasNoChildren"}
    assert got["Foo.Baz"][0] == {"\\HasNoChildren"}
    assert got["Foo"][0] == {"\\NonExistent", "\\HasChildren"}
    # A subscribed name that is no folder: \NonExistent with SUBSCRIBED,
    # absent from a plain LIST.
    r.ok("SUBSCRIBE Moo")
    r.ok("DELETE Moo")
    got = parse_list(r.ok('LIST (SUBSCRIBED) "" "Moo"'))
    assert got["Moo"][0] == {"\\Subscribed", "\\NonExistent",
                             "\\HasNoChildren"}
    assert r.ok('LIST "" "Moo"') == []
    r.close()


def test_list_extended_errors(plat, box):
    r = raw(plat, *box)
    for cmd in ('LIST (RECURSIVEMATCH) "" "*"', 'LIST (BOGUS) "" "*"',
                'LIST "" "*" RETURN (BOGUS)', 'LIST "" ()',
                'LIST "" "*" RETURN (STATUS (BOGUS))', 'LIST ""',
                'LSUB "" ("a" "b")'):
        tagged, _ = r.cmd(cmd)
        assert tagged.startswith("BAD"), (cmd, tagged)
    # Still usable.
    assert "INBOX" in parse_list(r.ok('LIST "" INBOX'))
    r.close()


def test_list_status(plat, box):
    addr, pw = box
    for i in range(3):
        plat.deliver(addr, msg("s%d" % i))
    r = raw(plat, addr, pw)
    r.ok('CREATE "P.Q"')
    lines = r.ok('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN UIDNEXT '
                 'SIZE))')
    # Every STATUS comes right after the LIST of its folder; none for
    # the non-existent level P.
    statuses = {}
    for i, line in enumerate(lines):
        if line.startswith("* STATUS "):
            name, items = parse_status(line)
            prev = parse_list([lines[i - 1]])
            assert list(prev) == [name], (lines[i - 1], line)
            statuses[name] = items
    assert "P" not in statuses
    assert set(statuses) == {"INBOX", "P.Q"} | set(SPECIAL)
    assert statuses["INBOX"]["MESSAGES"] == 3
    assert statuses["INBOX"]["UNSEEN"] == 3
    assert statuses["INBOX"]["UIDNEXT"] == 4
    assert statuses["INBOX"]["SIZE"] > 0
    assert list(statuses["INBOX"]) == ["MESSAGES", "UIDNEXT", "UNSEEN",
                                       "SIZE"]
    assert statuses["P.Q"] == {"MESSAGES": 0, "UNSEEN": 0, "UIDNEXT": 1,
                               "SIZE": 0}
    # Special-use attributes come with a STATUS-only return.
    got = parse_list([x for x in lines if x.startswith("* LIST")])
    assert "\\Sent" in got["Sent"][0]
    r.close()


# --- LSUB, SUBSCRIBE, UNSUBSCRIBE -----------------------------------------

def test_lsub_and_subscriptions(plat, box):
    addr, pw = box
    m = client(plat, addr, pw)
    assert m.create("Lists.linux.kernel")[0] == "OK"
    assert m.create("Lists.misc")[0] == "OK"
    assert m.subscribe("Lists.linux.kernel")[0] == "OK"
    assert m.subscribe("Lists.linux.kernel")[0] == "OK"     # twice is fine
    # Only existing folders (or their parent levels) can be subscribed.
    typ, data = m.subscribe("NoSuchFolder")
    assert typ == "NO" and b"[NONEXISTENT]" in data[0]
    assert m.subscribe("Lists")[0] == "OK"
    m.logout()

    r = raw(plat, addr, pw)
    got = parse_list(r.ok('LSUB "" "Lists*"'), "LSUB")
    # LSUB reports no CHILDREN attributes; "Lists" is a level, no folder.
    assert got == {"Lists": ({"\\Noselect"}, None),
                   "Lists.linux.kernel": (set(), None)}
    # '%' stopping above a subscribed name: \Noselect (RFC 3501 6.3.9).
    got = parse_list(r.ok('LSUB "Lists." "%"'), "LSUB")
    assert got == {"Lists.linux": ({"\\Noselect"}, None)}
    got = parse_list(r.ok('LSUB "" "%"'), "LSUB")
    assert "Lists" in got and "Lists.linux" not in got
    # Special-use attributes show in LSUB too (Outlook wants them).
    assert got["Drafts"][0] == {"\\Drafts"}
    # The file is Dovecot's version 2 format.
    with open(os.path.join(plat.home(addr), "subscriptions")) as f:
        text = f.read()
    assert text.startswith("V\t2\n\n") and "Lists\tlinux\tkernel\n" in text
    # UNSUBSCRIBE: a name not subscribed is fine; "x." means x.
    r.ok('UNSUBSCRIBE "Lists."')
    r.ok('UNSUBSCRIBE "Never.Subscribed"')
    got = parse_list(r.ok('LSUB "" "Lists*"'), "LSUB")
    assert set(got) == {"Lists.linux.kernel"}
    # Subscriptions are independent of existence (RFC 3501 6.3.6).
    r.ok('DELETE "Lists.linux.kernel"')
    got = parse_list(r.ok('LSUB "" "Lists*"'), "LSUB")
    assert got == {"Lists.linux.kernel": ({"\\Noselect"}, None)}
    r.ok('UNSUBSCRIBE "Lists.linux.kernel"')
    assert r.ok('LSUB "" "Lists*"') == []
    r.close()


# --- CREATE, DELETE, RENAME -----------------------------------------------

def test_create(plat, box):
    r = raw(plat, *box)
    home = plat.home(box[0])
    r.ok("CREATE Projects")
    assert os.path.isfile(os.path.join(home, ".Projects", "maildirfolder"))
    tagged, _ = r.cmd("CREATE Projects")
    assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
    for name in ("INBOX", "inbox", "Drafts"):
        tagged, _ = r.cmd("CREATE " + name)
        assert tagged.startswith("NO [ALREADYEXISTS]"), (name, tagged)
    # A trailing separator only says children will follow (RFC 3501
    # 6.3.3): "Dir." makes Dir.
    r.ok('CREATE "Dir."')
    assert parse_list(r.ok('LIST "" Dir'))["Dir"][0] == {"\\HasNoChildren"}
    # Every folder gets its own UIDVALIDITY, above the others.
    with open(os.path.join(home, ".Dir", "dovecot-uidlist")) as f:
        v_dir = int(f.readline().split()[1][1:])
    with open(os.path.join(home, ".Projects", "dovecot-uidlist")) as f:
        v_proj = int(f.readline().split()[1][1:])
    assert v_dir > v_proj
    # Create parameters we do not know are refused.
    tagged, _ = r.cmd("CREATE Special (USE (\\Drafts))")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_bad_names(plat, box):
    r = raw(plat, *box)
    for name in ('"a..b"', '".lead"', '"trail.."', '"~tilde"', '"a/b"',
                 '""', '"' + "x" * 300 + '"',
                 '"' + ".".join(["d"] * 40) + '"'):
        tagged, _ = r.cmd("CREATE " + name)
        assert tagged.startswith("NO [CANNOT]"), (name, tagged)
    # Not valid modified UTF-7 (unterminated, ASCII encoded, two runs in a
    # row, an odd number of bytes): no response code (Dovecot's wording).
    for name in ('"&Jjo"', '"&AGE-"', '"&AOQ-&AOQ-"', '"&Zm9v-"'):
        tagged, _ = r.cmd("CREATE " + name)
        assert tagged == "NO Mailbox name is not valid mUTF-7", \
            (name, tagged)
    # 8-bit names (a UTF-8 client that did not ENABLE UTF8=ACCEPT).
    r.sock.sendall("t99 CREATE \"R\u00e4k\"\r\n".encode("utf-8"))
    while True:
        line = r.line()
        if line.startswith("t99 "):
            break
    assert line.startswith("t99 NO"), line
    # The same rules for the other commands that take a name.
    for cmd in ('DELETE "a..b"', 'RENAME Drafts "x..y"', 'STATUS "a..b" '
                '(MESSAGES)', 'SUBSCRIBE "a/b"', 'RENAME Drafts "&Jjo"'):
        tagged, _ = r.cmd(cmd)
        assert tagged.startswith("NO"), (cmd, tagged)
    # Nothing was made on disk.
    home = plat.home(box[0])
    assert sorted(d for d in os.listdir(home) if d.startswith(".")) == \
        sorted("." + n for n in SPECIAL)
    r.close()


def test_non_ascii_names_round_trip(plat, box):
    addr, pw = box
    home = plat.home(addr)
    names = ["R\u00e4ksm\u00f6rg\u00e5s", "\u65e5\u672c\u8a9e",
             "caf\u00e9 & cr\u00e8me", "Emoji \U0001F600"]
    r = raw(plat, addr, pw)
    for n in names:
        enc = mutf7(n)
        r.ok('CREATE "%s"' % enc)
        # Stored with the same bytes as Dovecot stores them.
        assert os.path.isdir(os.path.join(home, "." + enc)), enc
    assert mutf7("R\u00e4ksm\u00f6rg\u00e5s") == "R&AOQ-ksm&APY-rg&AOU-s"
    got = parse_list(r.ok('LIST "" "*"'))
    for n in names:
        assert mutf7(n) in got, (n, sorted(got))
    # STATUS, RENAME, SUBSCRIBE, DELETE with the encoded names.
    enc = mutf7(names[1])
    lines = r.ok('STATUS "%s" (MESSAGES UIDNEXT)' % enc)
    assert parse_status(lines[0]) == (enc, {"MESSAGES": 0, "UIDNEXT": 1})
    level = mutf7("\u00dcn\u00ef")
    new = level + "." + mutf7("\u00e4")
    r.ok('RENAME "%s" "%s"' % (enc, new))
    assert enc not in parse_list(r.ok('LIST "" "*"'))
    got = parse_list(r.ok('LIST "" "%s*"' % level))
    assert got == {level: ({"\\Noselect", "\\HasChildren"}, None),
                   new: ({"\\HasNoChildren"}, None)}
    assert os.path.isdir(os.path.join(home, "." + new))
    r.ok('SUBSCRIBE "%s"' % new)
    assert new in parse_list(r.ok('LSUB "" "*"'), "LSUB")
    r.ok('DELETE "%s"' % new)
    assert new not in parse_list(r.ok('LIST "" "*"'))
    r.close()


def test_delete(plat, box):
    addr, pw = box
    r = raw(plat, addr, pw)
    tagged, _ = r.cmd("DELETE NoSuch")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    tagged, _ = r.cmd("DELETE INBOX")
    assert tagged.startswith("NO [CANNOT]"), tagged
    tagged, _ = r.cmd("DELETE inbox")
    assert tagged.startswith("NO [CANNOT]"), tagged
    # A folder with children: only its own directory goes, it becomes a
    # \Noselect level; deleting the level is NONEXISTENT.
    r.ok('CREATE "Par.Kid"')
    r.ok("CREATE Par")
    r.ok("DELETE Par")
    got = parse_list(r.ok('LIST "" "Par*"'))
    assert got["Par"][0] == {"\\Noselect", "\\HasChildren"}
    assert got["Par.Kid"][0] == {"\\HasNoChildren"}
    tagged, _ = r.cmd("DELETE Par")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    r.ok('DELETE "Par.Kid"')
    assert r.ok('LIST "" "Par*"') == []
    # Messages go with the folder.
    r.ok("CREATE Full")
    with open(os.path.join(plat.home(addr), ".Full", "new",
                           "1.M1P1.test,S=5,W=5"), "wb") as f:
        f.write(b"x\r\n\r\n")
    assert parse_status(r.ok("STATUS Full (MESSAGES)")[0])[1] == {
        "MESSAGES": 1}
    r.ok("DELETE Full")
    assert not os.path.exists(os.path.join(plat.home(addr), ".Full"))
    # A re-created folder never reuses the old UIDVALIDITY.
    r.ok("CREATE Again")
    v1 = parse_status(r.ok("STATUS Again (UIDVALIDITY)")[0])[1]
    r.ok("DELETE Again")
    r.ok("CREATE Again")
    v2 = parse_status(r.ok("STATUS Again (UIDVALIDITY)")[0])[1]
    assert v2["UIDVALIDITY"] > v1["UIDVALIDITY"]
    r.close()


def test_delete_selected_folder_disconnects(plat, box):
    r = raw(plat, *box)
    r.ok("CREATE Doomed")
    r.ok("SELECT Doomed")
    tagged, lines = r.cmd("DELETE Doomed")
    assert tagged.startswith("OK"), tagged
    # As Dovecot: the client believed a folder was selected; it is told
    # to reconnect.
    line = r.line()
    assert line.startswith("* BYE"), line
    with pytest.raises((EOFError, OSError)):
        r.line()
    r.sock.close()
    r = raw(plat, *box)
    assert r.ok('LIST "" Doomed') == []
    r.close()


def test_rename(plat, box):
    addr, pw = box
    home = plat.home(addr)
    r = raw(plat, addr, pw)
    r.ok('CREATE "Old.Child.Grand"')
    r.ok("CREATE Old")
    r.ok('SUBSCRIBE "Old.Child.Grand"')
    r.ok("SUBSCRIBE Old")
    r.ok("RENAME Old New")
    got = parse_list(r.ok('LIST "" "*"'))
    assert "Old" not in got and "Old.Child.Grand" not in got
    assert got["New"][0] == {"\\HasChildren"}
    assert got["New.Child"][0] == {"\\Noselect", "\\HasChildren"}
    assert got["New.Child.Grand"][0] == {"\\HasNoChildren"}
    assert os.path.isdir(os.path.join(home, ".New.Child.Grand"))
    # The subscriptions followed.
    subs = parse_list(r.ok('LSUB "" "*"'), "LSUB")
    assert "New" in subs and "New.Child.Grand" in subs and "Old" not in subs
    # Errors.
    tagged, _ = r.cmd("RENAME Old Other")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    tagged, _ = r.cmd("RENAME New Drafts")
    assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
    tagged, _ = r.cmd("RENAME New INBOX")
    assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
    tagged, _ = r.cmd('RENAME New "New.Sub"')
    assert tagged.startswith("NO [CANNOT]"), tagged
    r.ok("CREATE Clash")
    r.ok('CREATE "Clash.Child.Grand"')
    tagged, _ = r.cmd("RENAME Clash New")
    assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
    # Nothing half-moved.
    assert os.path.isdir(os.path.join(home, ".Clash.Child.Grand"))
    r.close()


def test_rename_inbox_moves_messages(plat, box):
    addr, pw = box
    for i in range(2):
        plat.deliver(addr, msg("in%d" % i))
    m = client(plat, addr, pw)
    assert m.create("INBOX.kept")[0] == "OK"
    typ, data = m.rename("INBOX", '"Old Mail"')
    assert typ == "OK", data
    typ, data = m.status('"Old Mail"', "(MESSAGES UNSEEN)")
    assert typ == "OK"
    assert data[0] == b'"Old Mail" (MESSAGES 2 UNSEEN 2)', data
    typ, data = m.status("INBOX", "(MESSAGES)")
    assert data[0] == b"INBOX (MESSAGES 0)", data
    # INBOX stays, with its children.
    typ, data = m.list('""', "INBOX*")
    names = b" ".join(data)
    assert b"INBOX.kept" in names
    m.logout()


def test_rename_selected_folder_keeps_working(plat, box):
    addr, pw = box
    r = raw(plat, addr, pw)
    r.ok("CREATE Cur")
    r.ok("SELECT Cur")
    r.ok("RENAME Cur Moved")
    # The view follows the folder to its new name.
    lines = r.ok("NOOP")
    assert not any("BYE" in x for x in lines)
    lines = r.ok("STATUS Moved (MESSAGES UIDNEXT)")
    assert parse_status(lines[0])[1]["UIDNEXT"] == 1
    r.close()


# --- STATUS ---------------------------------------------------------------

def dovecot_uidlist(path):
    with open(os.path.join(path, "dovecot-uidlist")) as f:
        head = f.readline().split()
    return dict((x[0], x[1:]) for x in head[1:])


def test_status_after_lmtp_deliveries(plat, box):
    addr, pw = box
    home = plat.home(addr)
    bodies = [msg("m%d" % i, b"line\r\n" * (i + 1)) for i in range(3)]
    for b in bodies:
        plat.deliver(addr, b)
    m = client(plat, addr, pw)
    typ, data = m.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY "
                         "UNSEEN SIZE)")
    assert typ == "OK", data
    name, items = parse_status("* STATUS " + data[0].decode())
    assert name == "INBOX"
    assert list(items) == ["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
                           "UNSEEN", "SIZE"]
    assert items["MESSAGES"] == 3
    assert items["RECENT"] == 3          # still in new/
    assert items["UNSEEN"] == 3
    assert items["UIDNEXT"] == 4         # UIDs given by STATUS itself
    head = dovecot_uidlist(home)
    assert items["UIDVALIDITY"] == int(head["V"])
    assert int(head["N"]) == 4
    # SIZE is the sum of the RFC822.SIZEs: the W= of the file names.
    sizes = []
    for d in ("new", "cur"):
        for f in os.listdir(os.path.join(home, d)):
            sizes.append(int(re.search(r",W=(\d+)", f).group(1)))
    assert items["SIZE"] == sum(sizes)
    # A \Seen flag set on disk (as another client would) shows.
    name0 = sorted(os.listdir(os.path.join(home, "new")))[0]
    os.rename(os.path.join(home, "new", name0),
              os.path.join(home, "cur", name0 + ":2,S"))
    typ, data = m.status("INBOX", "(UNSEEN MESSAGES RECENT)")
    assert data[0] == b"INBOX (MESSAGES 3 RECENT 2 UNSEEN 2)", data
    # Missing folders and levels.
    typ, data = m.status("Nope", "(MESSAGES)")
    assert typ == "NO" and data[0].startswith(b"[NONEXISTENT]"), data
    m.create("Lvl.Leaf")
    typ, data = m.status("Lvl", "(MESSAGES)")
    assert typ == "NO" and data[0].startswith(b"[NONEXISTENT]"), data
    # A folder's own counts.
    typ, data = m.status("Lvl.Leaf", "(MESSAGES UIDNEXT UNSEEN SIZE)")
    assert data[0] == b"Lvl.Leaf (MESSAGES 0 UIDNEXT 1 UNSEEN 0 SIZE 0)"
    m.logout()


def test_status_of_selected_folder(plat, box):
    addr, pw = box
    plat.deliver(addr, msg("one"))
    plat.deliver(addr, msg("two"))
    r = raw(plat, addr, pw)
    r.ok("SELECT INBOX")
    lines = r.ok("STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE)")
    st = [parse_status(x) for x in lines if x.startswith("* STATUS")]
    assert st and st[0][1]["MESSAGES"] == 2 and st[0][1]["UIDNEXT"] == 3
    assert st[0][1]["UNSEEN"] == 2 and st[0][1]["SIZE"] > 0
    r.close()


def test_status_bad_arguments(plat, box):
    r = raw(plat, *box)
    for cmd in ("STATUS INBOX", "STATUS INBOX ()", "STATUS INBOX (BOGUS)",
                "STATUS INBOX MESSAGES"):
        tagged, _ = r.cmd(cmd)
        assert tagged.startswith("BAD"), (cmd, tagged)
    r.close()


# --- NAMESPACE, QUOTA -----------------------------------------------------

def test_namespace(plat, box):
    m = client(plat, *box)
    typ, data = m.namespace()
    assert typ == "OK" and data == [b'(("" ".")) NIL NIL'], data
    m.logout()
    r = raw(plat, *box)
    assert r.ok("NAMESPACE") == ['* NAMESPACE (("" ".")) NIL NIL']
    r.close()


def test_quota_with_limits(plat):
    addr, pw = plat.mailbox(quota="2M")
    res = avstack.run_admin(plat.stack.config, "mailbox", "quota", addr,
                            "2M", "--messages", "100")
    assert res.returncode == 0, res.stderr
    r = raw(plat, addr, pw)
    lines = r.ok("GETQUOTAROOT INBOX")
    assert lines[0] == '* QUOTAROOT INBOX ""'
    # STORAGE in KiB, MESSAGE in messages: usage, then limit.
    assert lines[1] == '* QUOTA "" (STORAGE 0 2048 MESSAGE 0 100)', lines
    r.close()
    body = msg("big", b"x" * 5000 + b"\r\n")
    plat.deliver(addr, body)
    plat.deliver(addr, body)
    r = raw(plat, addr, pw)
    lines = r.ok("GETQUOTA \"\"")
    m = re.match(r'^\* QUOTA "" \(STORAGE (\d+) 2048(.*)\)$', lines[0])
    assert m, lines
    assert 9 <= int(m.group(1)) <= 11
    assert m.group(2) == " MESSAGE 2 100"
    lines = r.ok('GETQUOTAROOT "Sent Messages"')
    assert lines[0] == '* QUOTAROOT "Sent Messages" ""'
    tagged, _ = r.cmd('GETQUOTA "User quota"')
    assert tagged.startswith("NO"), tagged
    tagged, _ = r.cmd("GETQUOTAROOT Nope")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    tagged, _ = r.cmd('SETQUOTA "" (STORAGE 1)')
    assert tagged.startswith("NO [NOPERM]"), tagged
    r.close()


def test_quota_without_limits(plat, box):
    m = client(plat, *box)
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK", data
    assert data == [[b'INBOX ""'], [b'"" ()']], data
    m.logout()


# --- state ----------------------------------------------------------------

def test_folder_commands_need_login(plat):
    r = raw(plat)
    for cmd in ('LIST "" "*"', "CREATE x", "STATUS INBOX (MESSAGES)",
                "NAMESPACE", "GETQUOTAROOT INBOX", 'LSUB "" "*"'):
        tagged, _ = r.cmd(cmd)
        assert tagged.startswith("BAD") or tagged.startswith("NO"), \
            (cmd, tagged)
    r.close()


def test_capabilities_name_the_folder_extensions(plat, box):
    m = client(plat, *box)
    typ, data = m.capability()
    assert typ == "OK"
    caps = set(data[0].decode().split())
    assert {"NAMESPACE", "CHILDREN", "LIST-EXTENDED", "LIST-STATUS",
            "SPECIAL-USE", "QUOTA"} <= caps, caps
    m.logout()
