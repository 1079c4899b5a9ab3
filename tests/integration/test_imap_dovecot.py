"""A mailbox moves between Debian's Dovecot 2.3 and Aviary, both ways,
keeping UIDVALIDITY, UIDs, flags and keywords, so clients do not
download everything again (protocols.md 5.4).

Dovecot runs from a private configuration: its LMTP on a UNIX socket in
a temporary directory (no TCP listener), its IMAP preauthenticated on
stdin/stdout (dovecothelp.Server). The test delivers with Dovecot's
LMTP, flags and files mail with Dovecot's IMAP, stops Dovecot, copies
the tree (with mtimes) into the Aviary mailbox and reads it over
Aviary's IMAP and POP3; then Aviary changes it and Dovecot reads it
back."""
import os
import re
import shutil
import tempfile

import pytest

import dovecothelp
from imaphelp import IMAPPlatform


@pytest.fixture(scope="module")
def plat(tmp_path_factory, build):
    dovecothelp.require_server()
    yield from IMAPPlatform.running(tmp_path_factory, build, "imapdv")


@pytest.fixture
def dovecot():
    # Dovecot's mail processes run as nobody: a directory they can enter.
    base = tempfile.mkdtemp(prefix="av-dv-", dir="/tmp")
    os.chmod(base, 0o755)
    d = dovecothelp.Server(base)
    try:
        d.start()
        yield d
    finally:
        d.stop()
        shutil.rmtree(base, ignore_errors=True)


def uidlist_header(path):
    with open(os.path.join(path, "dovecot-uidlist")) as f:
        head = f.readline().split()
    return dict((x[0], x[1:]) for x in head[1:])


def test_dovecot_tree_served_with_same_uids_and_back(plat, dovecot):
    addr, pw = plat.mailbox()
    for i in range(5):
        dovecot.deliver(addr, b"Subject: from dovecot %d\r\n\r\nbody %d\r\n"
                        % (i, i))
    out = dovecot.imap(addr, [
        "SELECT INBOX",
        "STORE 2 +FLAGS ($Forwarded \\Seen)",
        "STORE 4 +FLAGS (\\Flagged)",
        "CREATE Work",
        "COPY 1:2 Work",
        "STORE 5 +FLAGS (\\Deleted)",
        "EXPUNGE",
    ])
    dv_inbox_v = int(re.search(r"UIDVALIDITY (\d+)", out).group(1))
    dovecot.stop()
    dv_home = dovecot.home(addr)
    dv_work_v = int(uidlist_header(os.path.join(dv_home, ".Work"))["V"])

    # Aviary serves the tree as it is.
    nobody = dovecothelp.nobody()
    home = plat.home(addr)
    dovecothelp.copy_tree(dv_home, home, nobody.pw_uid, nobody.pw_gid)
    m = plat.login(addr, pw)
    typ, data = m.select("INBOX")
    assert data == [b"4"]
    assert int(m.untagged_responses["UIDVALIDITY"][0]) == dv_inbox_v
    assert m.untagged_responses["UIDNEXT"][-1] == b"6"
    typ, data = m.fetch("1:*", "(UID FLAGS)")
    got = [x.decode() for x in data]
    assert [re.search(r"UID (\d+)", x).group(1) for x in got] == \
        ["1", "2", "3", "4"]
    assert "$Forwarded" in got[1] and "\\Seen" in got[1]
    assert "\\Flagged" in got[3]
    typ, data = m.select("Work")
    assert int(m.untagged_responses["UIDVALIDITY"][0]) == dv_work_v
    assert data == [b"2"]
    # Aviary changes it: a keyword, an APPEND, a new folder.
    m.select("INBOX")
    m.store("3", "+FLAGS", "($Label1)")
    typ, data = m.append("INBOX", "(\\Seen)", None,
                         b"Subject: from aviary\r\n\r\nbody\r\n")
    appended_uid = int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))
    assert appended_uid == 6
    m.create("FromAviary")
    m.logout()
    # POP3 UIDLs are Dovecot's default format over the same UIDs.
    p = plat.pop3()
    p.user(addr)
    p.pass_(pw)
    uidls = [x.split()[1] for x in p.uidl()[1]]
    p.quit()
    assert uidls == [b"%08X%08X" % (u, dv_inbox_v) for u in (1, 2, 3, 4, 6)]

    # And Dovecot reads what Aviary wrote.
    dovecothelp.copy_tree(home, dv_home, nobody.pw_uid, nobody.pw_gid)
    out = dovecot.imap(addr, [
        "SELECT INBOX",
        "FETCH 1:* (UID FLAGS)",
        "LIST \"\" \"*\"",
    ])
    assert "UIDVALIDITY %d" % dv_inbox_v in out
    uids = re.findall(r"\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)", out)
    assert [u for u, _ in uids] == ["1", "2", "3", "4", "6"]
    assert "$Label1" in uids[2][1]
    assert "$Forwarded" in uids[1][1]
    assert "\\Seen" in uids[4][1]
    assert "FromAviary" in out and "Work" in out
