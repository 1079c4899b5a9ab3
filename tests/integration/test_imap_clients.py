"""aviary-imap with real clients: a Thunderbird-like session scripted
with imaplib, curl's imap:// and imaps://, and mbsync (Debian's isync)
syncing a mailbox down to a local Maildir and changes back up. Then the
database goes away: logins get a temporary failure, never "wrong
password" (the last test: it stops the platform's MariaDB)."""
import os
import re
import shutil
import subprocess
import time

import pytest

from imaphelp import IMAPPlatform


@pytest.fixture(scope="module")
def plat(tmp_path_factory, build):
    yield from IMAPPlatform.running(tmp_path_factory, build, "imapcl")


def msg(subject, body=b"hello\r\n", sender=b"Alice <alice@example.org>"):
    return (b"From: " + sender + b"\r\nTo: x@example.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Sun, 22 Nov 2026 10:00:00 +0100\r\n"
            b"Message-ID: <" + subject.replace(" ", "-").encode() +
            b"@example.org>\r\n\r\n" + body)


def test_thunderbird_like_session(plat):
    """What Thunderbird does at start and while the user works: ID,
    capabilities, LIST (special-use), SELECT, headers of everything,
    a body, \\Seen, delete = move to Trash, expunge, a sent message
    appended to Sent, then IDLE until new mail arrives."""
    addr, pw = plat.mailbox()
    for i in range(5):
        plat.deliver(addr, msg("tb %d" % i, b"body %d\r\n" % i))
    m = plat.imaps()
    typ, _ = m.xatom("ID", '("name" "Thunderbird" "version" "140.0")')
    assert typ == "OK"
    m.login(addr, pw)
    typ, data = m.list()
    lines = [x.decode() for x in data]
    assert any(re.search(r'\\Sent\b.* "\." "?Sent"?$', x) for x in lines), \
        lines
    assert any(re.search(r'\\Trash\b.* "\." "?Trash"?$', x) for x in lines)
    assert any("INBOX" in x for x in lines)
    typ, data = m.select("INBOX")
    assert data == [b"5"]
    typ, data = m.uid("FETCH", "1:*", "(UID RFC822.SIZE FLAGS BODY.PEEK[HEADER."
                      "FIELDS (FROM TO CC BCC SUBJECT DATE MESSAGE-ID "
                      "PRIORITY X-PRIORITY REFERENCES NEWSGROUPS IN-REPLY-TO "
                      "CONTENT-TYPE REPLY-TO)])")
    headers = [x for x in data if isinstance(x, tuple)]
    assert len(headers) == 5 and b"Subject: tb 0" in headers[0][1]
    typ, data = m.uid("FETCH", "3", "(UID RFC822.SIZE BODY.PEEK[])")
    assert b"body 2" in data[0][1]
    typ, data = m.uid("STORE", "3", "+FLAGS", "(\\Seen)")
    assert b"\\Seen" in data[0]
    # Delete = MOVE to Trash (Thunderbird uses MOVE when offered).
    typ, data = m.uid("MOVE", "1", "Trash")
    assert typ == "OK"
    typ, data = m.status("Trash", "(MESSAGES UNSEEN UIDNEXT)")
    assert b"MESSAGES 1" in data[0]
    # Or flag and expunge.
    m.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
    m.expunge()
    typ, data = m.search(None, "ALL")
    assert len(data[0].split()) == 3
    typ, data = m.append("Sent", "(\\Seen)", None,
                         msg("sent by tb", sender=addr.encode()))
    assert typ == "OK" and b"APPENDUID" in data[0]
    # IDLE: a delivery is pushed.
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+ ")
    t0 = time.monotonic()
    plat.deliver(addr, msg("pushed"))
    line = m.readline()
    assert re.match(rb"\* 4 EXISTS", line), line
    assert time.monotonic() - t0 < 1.0
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag):
            assert b"OK" in line
            break
    m.logout()


def test_curl_imap_and_imaps(plat, tmp_path):
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is not installed (tools/deps.sh installs it)")
    addr, pw = plat.mailbox(spaces=False)
    plat.deliver(addr, msg("curl one", b"curl body\r\n"))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login %s password %s\n" % (addr, pw))
    os.chmod(netrc, 0o600)
    # Passwords stay out of argv: curl reads them from the netrc file.
    base = [curl, "-sS", "--netrc-file", str(netrc)]
    r = subprocess.run(base + ["imap://127.0.0.1:%d/" % plat.imap_port],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"INBOX" in r.stdout and b"Sent" in r.stdout
    r = subprocess.run(base + ["-k", "imaps://127.0.0.1:%d/INBOX;UID=1"
                               % plat.imaps_port],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"curl body" in r.stdout and b"Subject: curl one" in r.stdout
    r = subprocess.run(base + ["--ssl-reqd", "-k",
                               "imap://127.0.0.1:%d/INBOX?SUBJECT%%20curl"
                               % plat.imap_port],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"* SEARCH 1" in r.stdout


def maildir_files(d):
    out = {}
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if os.path.isdir(p):
            for n in os.listdir(p):
                out[n] = os.path.join(p, n)
    return out


def test_mbsync_down_and_up(plat, tmp_path):
    mbsync = shutil.which("mbsync")
    if mbsync is None:
        pytest.fail("mbsync is not installed (isync; tools/deps.sh)")
    addr, pw = plat.mailbox(spaces=False)
    for i in range(4):
        plat.deliver(addr, msg("mb %d" % i, b"mbsync body %d\r\n" % i))
    local = tmp_path / "local"
    local.mkdir()
    rc = tmp_path / "mbsyncrc"
    rc.write_text(f"""IMAPAccount aviary
Host localhost
Port {plat.imaps_port}
User {addr}
Pass {pw}
SSLType IMAPS
CertificateFile {plat.stack.tls_cert}

IMAPStore remote
Account aviary

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(tmp_path))

    def sync():
        r = subprocess.run([mbsync, "-c", str(rc), "-a"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr

    sync()
    inbox = maildir_files(local / "INBOX")
    assert len(inbox) == 4
    assert (local / "Sent").is_dir() and (local / "Trash").is_dir()
    bodies = {}
    for name, path in inbox.items():
        with open(path, "rb") as f:
            data = f.read()
        bodies[re.search(rb"Subject: (mb \d)", data).group(1)] = (name,
                                                                    path)
    # Local changes: mb 0 read, mb 1 deleted, a new message in Drafts...
    name, path = bodies[b"mb 0"]
    cur = local / "INBOX" / "cur"
    base = name.split(":")[0]
    os.rename(path, cur / (base + ":2,S"))
    name, path = bodies[b"mb 1"]
    os.rename(path, cur / (name.split(":")[0] + ":2,T"))
    drafts = local / "Drafts"
    assert drafts.is_dir()
    (drafts / "new").mkdir(exist_ok=True)
    (drafts / "new" / "1795300000.local.draft").write_bytes(
        b"Subject: draft from mbsync\r\n\r\nwritten offline\r\n")
    # ... and a server-side change at the same time.
    plat.deliver(addr, msg("mb new"))
    sync()
    m = plat.login(addr, pw)
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", '"mb 1"')
    assert data == [b""]
    typ, data = m.search(None, "SEEN")
    seen = data[0].split()
    assert len(seen) == 1
    typ, data = m.fetch(seen[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"mb 0" in data[0][1]
    m.select("Drafts")
    typ, data = m.search(None, "ALL")
    assert len(data[0].split()) == 1
    m.logout()
    assert len(maildir_files(local / "INBOX")) == 4   # 4 - 1 + 1
    # A second sync changes nothing.
    before = sorted(maildir_files(local / "INBOX"))
    sync()
    assert sorted(maildir_files(local / "INBOX")) == before


def test_zz_database_down_is_temporary(plat):
    """Stop MariaDB: a login aviary-auth has not verified before gets a
    temporary failure (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP]),
    never an authentication failure. Last in the file: it leaves the
    platform without its database."""
    import imaplib
    import poplib
    addr, pw = plat.mailbox()
    plat.stack.db.stop()
    m = plat.imap()
    with pytest.raises(imaplib.IMAP4.error, match=r"UNAVAILABLE"):
        m.login(addr, pw)
    m.logout()
    p = plat.pop3()
    p.user(addr)
    with pytest.raises(poplib.error_proto, match=r"\[SYS/TEMP\]"):
        p.pass_(pw)
    p.quit()
