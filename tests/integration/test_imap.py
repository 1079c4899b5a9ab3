"""aviary-imap: logins and TLS, the selected folder (SELECT/EXAMINE,
STORE, EXPUNGE, COPY, MOVE, APPEND with UIDPLUS), IDLE, two sessions
seeing each other's changes, limits and bad input. Real clients:
imaplib and raw sockets; mail delivered through aviary-lmtp. FETCH,
SEARCH and the folder commands have test files of their own."""
import imaplib
import os
import re
import socket
import time

import pytest

from imaphelp import IMAPPlatform, REMOTE_IP, tls_context


@pytest.fixture(scope="module")
def plat(tmp_path_factory, build):
    yield from IMAPPlatform.running(tmp_path_factory, build, "imap")


def msg(subject, body=b"hello\r\n"):
    return (b"From: sender@example.org\r\nTo: x@example.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n\r\n" + body)


def untagged(m, name):
    return m.untagged_responses.get(name, [])


def folder_files(plat, addr, folder=""):
    home = plat.home(addr)
    d = os.path.join(home, "." + folder) if folder else home
    out = []
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if os.path.isdir(p):
            out += [(sub, n) for n in os.listdir(p)]
    return out


# --- logins, capabilities, TLS ---------------------------------------------

def test_greeting_capabilities_local(plat):
    m = plat.imap()
    assert re.match(rb"\* OK \[CAPABILITY IMAP4rev1 .*\] ", m.welcome)
    caps = set(m.capabilities)
    assert {"IMAP4REV1", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN", "IDLE",
            "LITERAL+", "SASL-IR", "ID", "ENABLE"} <= caps
    assert "LOGINDISABLED" not in caps
    m.logout()


def test_remote_logindisabled_until_starttls(plat):
    addr, pw = plat.mailbox()
    m = plat.imap(remote=True)
    assert "LOGINDISABLED" in m.capabilities
    assert "AUTH=PLAIN" not in m.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        m.login(addr, pw)
    m.starttls(tls_context())
    assert "LOGINDISABLED" not in m.capabilities
    assert "STARTTLS" not in m.capabilities
    m.login(addr, pw)
    m.logout()
    assert re.search(r"imap: login user=%s rip=%s " % (
        re.escape(addr), re.escape(REMOTE_IP)), plat.log())


def test_login_capabilities_after_and_wrong_password(plat):
    addr, pw = plat.mailbox()
    m = plat.imap()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.login(addr, pw + "x")
    typ, data = m.login(addr, pw)
    assert typ == "OK" and b"[CAPABILITY IMAP4rev1" in data[0]
    caps = data[0].decode()
    for c in ("UIDPLUS", "MOVE", "IDLE", "NAMESPACE", "SPECIAL-USE",
              "UNSELECT", "CHILDREN", "QUOTA"):
        assert c in caps
    assert "STARTTLS" not in caps and "AUTH=" not in caps
    m.logout()


def test_authenticate_plain_sasl_ir_and_login_mech(plat):
    import base64
    addr, pw = plat.mailbox()
    r = plat.raw()
    ir = base64.b64encode(b"\0" + addr.encode() + b"\0" + pw.encode())
    _, t = r.cmd(b"AUTHENTICATE PLAIN " + ir)
    assert t.startswith(b"a OK [CAPABILITY")
    r.close()
    r = plat.raw()
    r.send(b"b AUTHENTICATE LOGIN\r\n")
    assert base64.b64decode(r.line()[2:]) == b"Username:"
    r.send(base64.b64encode(addr.encode()) + b"\r\n")
    assert base64.b64decode(r.line()[2:]) == b"Password:"
    r.send(base64.b64encode(pw.encode()) + b"\r\n")
    _, t = r.until(b"b")
    assert t.startswith(b"b OK")
    r.close()
    r = plat.raw()
    r.send(b"c AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send(b"*\r\n")
    _, t = r.until(b"c")
    assert t.startswith(b"c BAD")
    r.close()


def test_imaps_and_starttls(plat):
    addr, pw = plat.mailbox()
    m = plat.imaps()
    assert "STARTTLS" not in m.capabilities
    m.login(addr, pw)
    m.logout()
    m = plat.imap()
    m.starttls(tls_context())
    m.login(addr, pw)
    m.logout()


def test_literal_login_and_id_and_noop(plat):
    addr, pw = plat.mailbox()
    r = plat.raw()
    lines, t = r.cmd(b'ID ("name" "test")')
    assert lines == [b'* ID ("name" "Aviary")'] and t.startswith(b"a OK")
    r.send(b"b LOGIN {%d}\r\n" % len(addr))
    assert r.line().startswith(b"+ ")
    r.send(addr.encode() + b" {%d+}\r\n" % len(pw) + pw.encode() + b"\r\n")
    _, t = r.until(b"b")
    assert t.startswith(b"b OK")
    _, t = r.cmd(b"NOOP")
    assert t == b"a OK NOOP completed."
    lines, t = r.cmd(b"ENABLE UTF8=ACCEPT CONDSTORE")
    assert lines == [b"* ENABLED"] and t.startswith(b"a OK")
    r.close()


def test_bad_commands_and_states(plat):
    r = plat.raw()
    _, t = r.cmd(b"SELECT INBOX")
    assert t.startswith(b"a BAD")
    _, t = r.cmd(b"FOO")
    assert t == b"a BAD Unknown command"
    r.send(b"\r\n")
    r.send(b"x" * 70000 + b"\r\n")
    line = r.line()
    assert b"BAD" in line
    _, t = r.cmd(b"NOOP")
    assert t.startswith(b"a OK")
    r.close()


def test_too_many_bad_commands_closes(plat):
    r = plat.raw()
    for i in range(19):
        _, t = r.cmd(b"BOGUS")
        assert t.startswith(b"a BAD")
    r.send(b"a BOGUS\r\n")
    assert r.line().startswith(b"a BAD")
    assert r.line().startswith(b"* BYE")
    with pytest.raises(EOFError):
        r.line()


# --- the selected folder ----------------------------------------------------

def test_select_examine_and_flags(plat):
    addr, pw = plat.mailbox()
    for i in range(3):
        plat.deliver(addr, msg("s%d" % i))
    m = plat.login(addr, pw)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"3"]
    assert untagged(m, "RECENT") == [b"3"]
    assert untagged(m, "UIDNEXT") == [b"4"]
    uidvalidity = int(untagged(m, "UIDVALIDITY")[0])
    assert untagged(m, "READ-WRITE") == [b""]
    # Read-write SELECT moved the messages to cur/ (no longer recent).
    assert all(d == "cur" for d, _ in folder_files(plat, addr))
    typ, data = m.store("1:2", "+FLAGS", r"(\Flagged $Work)")
    assert typ == "OK"
    assert any(b"$Work" in x for x in data)
    m.close()
    typ, data = m.select("INBOX", readonly=True)
    assert data == [b"3"] and untagged(m, "RECENT") == [b"0"]
    assert int(untagged(m, "UIDVALIDITY")[0]) == uidvalidity
    assert b"$Work" in untagged(m, "FLAGS")[-1]
    typ, data = m.store("1", "+FLAGS", r"(\Seen)")
    assert typ == "NO" and b"READ-ONLY" in data[0]
    m.logout()
    # The keyword went to dovecot-keywords, the letter into the name.
    with open(os.path.join(plat.home(addr), "dovecot-keywords")) as f:
        assert f.read() == "0 $Work\n"
    names = sorted(n for _, n in folder_files(plat, addr))
    assert sum(1 for n in names if n.endswith(":2,Fa")) == 2


def test_select_nonexistent_leaves_nothing_selected(plat):
    addr, pw = plat.mailbox()
    m = plat.login(addr, pw)
    m.select("INBOX")
    typ, data = m.select("NoSuchFolder")
    assert typ == "NO" and b"NONEXISTENT" in data[0]
    with pytest.raises(imaplib.IMAP4.error):
        m.expunge()
    m.logout()


def test_store_forms_and_silent(plat):
    addr, pw = plat.mailbox()
    plat.deliver(addr, msg("f"))
    r = plat.raw()
    r.login(addr, pw)
    r.cmd(b"SELECT INBOX")
    lines, t = r.cmd(br"STORE 1 FLAGS (\Seen \Answered)")
    assert lines == [br"* 1 FETCH (FLAGS (\Answered \Seen \Recent))"]
    lines, t = r.cmd(br"STORE 1 -FLAGS.SILENT (\Answered)")
    assert lines == [] and t.startswith(b"a OK")
    lines, t = r.cmd(br"UID STORE 1 +FLAGS (\Draft)")
    assert lines == [br"* 1 FETCH (UID 1 FLAGS (\Seen \Draft \Recent))"]
    _, t = r.cmd(br"STORE 2 +FLAGS (\Seen)")
    assert t.startswith(b"a BAD")
    _, t = r.cmd(br"STORE 1 +FLAGS (\Recent)")
    assert t.startswith(b"a BAD")
    r.close()


def test_expunge_and_uid_expunge(plat):
    addr, pw = plat.mailbox()
    for i in range(4):
        plat.deliver(addr, msg("e%d" % i))
    m = plat.login(addr, pw)
    m.select("INBOX")
    m.store("1,3", "+FLAGS", r"(\Deleted)")
    m.store("4", "+FLAGS", r"(\Deleted)")
    typ, data = m.uid("EXPUNGE", "1:3")
    assert typ == "OK"
    assert untagged(m, "EXPUNGE") == [b"3", b"1"]
    typ, data = m.expunge()         # imaplib keeps the earlier ones
    assert data == [b"3", b"1", b"2"]
    assert len(folder_files(plat, addr)) == 1
    m.logout()


def test_copy_move_append_uidplus(plat):
    addr, pw = plat.mailbox()
    for i in range(3):
        plat.deliver(addr, msg("c%d" % i))
    m = plat.login(addr, pw)
    m.select("INBOX")
    m.store("2", "+FLAGS", r"(\Seen $Label1)")
    typ, data = m.copy("1:2", "Trash")
    assert typ == "OK"
    cu = re.match(rb"\[COPYUID (\d+) (\S+) (\S+)\]", data[0])
    assert cu and cu.group(2) == b"1,2" and cu.group(3) == b"1,2"
    typ, data = m.copy("1", "Nope")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    typ, data = m._simple_command("MOVE", "3", "Archive")
    assert typ == "OK"
    assert untagged(m, "EXPUNGE") == [b"3"]
    assert any(b"COPYUID" in x for x in untagged(m, "OK"))
    when = imaplib.Time2Internaldate(time.mktime((2024, 2, 29, 12, 0, 0, 0,
                                                  0, -1)))
    typ, data = m.append("Sent", r"(\Seen \Draft)", when,
                         b"Subject: sent\r\n\r\nbody\r\n")
    assert typ == "OK"
    au = re.match(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    assert au
    typ, data = m.append("Nope", None, None, b"Subject: x\r\n\r\ny\r\n")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    m.logout()
    trash = folder_files(plat, addr, "Trash")
    assert len(trash) == 2
    assert any(n.endswith(":2,Sa") for _, n in trash)
    with open(os.path.join(plat.home(addr), ".Trash",
                           "dovecot-keywords")) as f:
        assert "$Label1" in f.read()
    assert len(folder_files(plat, addr, "Archive")) == 1
    sent = folder_files(plat, addr, "Sent")
    assert len(sent) == 1 and sent[0][1].endswith(":2,DS")
    st = os.stat(os.path.join(plat.home(addr), ".Sent", "cur", sent[0][1]))
    assert time.localtime(st.st_mtime)[:3] == (2024, 2, 29)


def test_append_into_selected_folder_reports_exists(plat):
    addr, pw = plat.mailbox()
    m = plat.login(addr, pw)
    m.select("INBOX")
    m.append("INBOX", None, None, b"Subject: a\r\n\r\nb\r\n")
    assert untagged(m, "EXISTS")[-1] == b"1"
    m.logout()


def test_append_synchronizing_literal_and_too_big(plat):
    addr, pw = plat.mailbox()
    r = plat.raw()
    r.login(addr, pw)
    body = b"Subject: raw\r\n\r\n" + b"x" * 100000 + b"\r\n"
    r.send(b"b APPEND INBOX (\\Flagged) {%d}\r\n" % len(body))
    assert r.line().startswith(b"+ ")
    r.send(body + b"\r\n")
    _, t = r.until(b"b")
    assert re.match(rb"b OK \[APPENDUID \d+ 1\]", t)
    r.send(b"c APPEND INBOX {999999999999}\r\n")
    _, t = r.until(b"c")
    assert t.startswith(b"c NO [TOOBIG]")
    _, t = r.cmd(b"NOOP")
    assert t.startswith(b"a OK")
    r.close()
    files = folder_files(plat, addr)
    assert len(files) == 1 and files[0][1].endswith(":2,F")


# --- other sessions, IDLE ----------------------------------------------------

def test_two_sessions_see_flags_and_expunges(plat):
    addr, pw = plat.mailbox()
    for i in range(3):
        plat.deliver(addr, msg("t%d" % i))
    a = plat.login(addr, pw)
    b = plat.login(addr, pw)
    a.select("INBOX")
    b.select("INBOX")
    a.store("2", "+FLAGS", r"(\Flagged)")
    typ, data = b.noop()
    assert any(b"2 (FLAGS (\\Flagged" in x or b"(FLAGS (\\Flagged" in x
               for x in untagged(b, "FETCH"))
    a.store("1", "+FLAGS", r"(\Deleted)")
    a.expunge()
    b.noop()
    assert untagged(b, "EXPUNGE") == [b"1"]
    plat.deliver(addr, msg("late"))
    b.noop()
    assert untagged(b, "EXISTS")[-1] == b"3"
    a.logout()
    b.logout()


def test_idle_reports_delivery_within_a_second(plat):
    addr, pw = plat.mailbox()
    r = plat.raw()
    r.login(addr, pw)
    r.cmd(b"SELECT INBOX")
    r.send(b"i IDLE\r\n")
    assert r.line() == b"+ idling"
    t0 = time.monotonic()
    plat.deliver(addr, msg("push"))
    assert r.line() == b"* 1 EXISTS"
    assert time.monotonic() - t0 < 1.0
    assert r.line() == b"* 1 RECENT"
    r.send(b"DONE\r\n")
    _, t = r.until(b"i")
    assert t == b"i OK Idle completed."
    r.send(b"j IDLE\r\n")
    assert r.line() == b"+ idling"
    r.send(b"NOTDONE\r\n")
    _, t = r.until(b"j")
    assert t.startswith(b"j BAD")
    r.close()


def test_logout_and_connection_limit_per_ip(plat):
    socks = []
    try:
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", plat.imap_port))
            s.recv(1000)
            socks.append(s)
        s = socket.create_connection(("127.0.0.1", plat.imap_port))
        assert b"BYE [UNAVAILABLE]" in s.recv(1000)
        s.close()
    finally:
        for s in socks:
            s.close()


def test_idle_view_survives_changes_by_others(plat):
    """While a session idles its view is kept compact (runs of UIDs and
    flags); changes another session makes meanwhile are reported, and
    after DONE the view (sizes and dates too) is whole again."""
    addr, pw = plat.mailbox()
    for i in range(12):
        plat.deliver(addr, msg("h%d" % i, b"x" * (100 + i) + b"\r\n"))
    b = plat.login(addr, pw)
    b.select("INBOX")
    b.store("2:5", "+FLAGS", r"(\Seen)")
    b.store("9", "+FLAGS", r"(\Flagged $Todo)")
    r = plat.raw()
    r.login(addr, pw)
    r.cmd(b"SELECT INBOX")
    r.send(b"i IDLE\r\n")
    assert r.line() == b"+ idling"
    b.store("3", "+FLAGS", r"(\Answered)")
    b.store("7", "+FLAGS", r"(\Deleted)")
    b.expunge()
    seen = set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(seen) < 2:
        line = r.line()
        if b"FETCH" in line and b"\\Answered" in line:
            seen.add("flags")
        if line == b"* 7 EXPUNGE":
            seen.add("expunge")
    assert seen == {"flags", "expunge"}
    plat.deliver(addr, msg("h-new"))
    while r.line() != b"* 12 EXISTS":
        pass
    r.send(b"DONE\r\n")
    _, t = r.until(b"i")
    assert t == b"i OK Idle completed."
    lines, t = r.cmd(b"FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)")
    assert t.startswith(b"a OK")
    ours = [re.sub(rb" \\Recent|\\Recent ?", b"", x[2:]).replace(
        b" FETCH ", b" ") for x in lines if b"FETCH" in x]
    b.noop()
    typ, data = b.fetch("1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE)")
    theirs = [re.sub(rb" \\Recent|\\Recent ?", b"", x) for x in data]
    assert len(ours) == 12
    assert ours == theirs
    r.close()
    b.logout()
