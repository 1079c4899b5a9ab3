"""core/mail/mime.c and imapfmt.c against Debian's Dovecot 2.3 (the
oracle: what IMAP clients saw before a migration).

Every message of tests/mime/ goes into a temporary Maildir; a private,
pre-authenticated Dovecot IMAP process (/usr/lib/dovecot/imap -c <conf>
on stdin/stdout: no daemon, no network port, nothing under /etc/dovecot)
answers FETCH for ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE and a set
of BODY[section]<partial> items, and a few SEARCH commands; the same
questions go to <build>/tests/mime_probe (tests/mime_probe.c), and the
answers must be equal byte for byte, item by item.

Dovecot refuses to run as root, so when the tests run as root the mail
and the process belong to nobody (dovecothelp.Oracle). Skipped only when
Dovecot is not installed.
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

import dovecothelp
from avstack import BUILD, SAN
from dovecothelp import parse_fetches

PROBE = os.path.join(BUILD, "tests", "mime_probe")
CORPUS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "mime")

pytestmark = dovecothelp.needs_imap

# Items asked of every message. Sections that a message lacks must give
# what Dovecot gives there too (an empty literal).
BASE_ITEMS = ["RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "BODY"]
SECTIONS = [
    "BODY[]", "BODY[HEADER]", "BODY[TEXT]", "BODY[1]", "BODY[1.MIME]",
    "BODY[2]", "BODY[2.MIME]", "BODY[2.HEADER]", "BODY[2.TEXT]",
    "BODY[1.1]", "BODY[1.2]", "BODY[2.1]", "BODY[1.1.MIME]",
    "BODY[1.2.1]", "BODY[3]", "BODY[3.HEADER]", "BODY[9]",
    "BODY[1.HEADER]", "BODY[1.TEXT]",
    "BODY[HEADER.FIELDS (FROM SUBJECT)]",
    "BODY[HEADER.FIELDS (X-LONG REFERENCES MESSAGE-ID)]",
    "BODY[HEADER.FIELDS (CONTENT-TYPE)]",
    "BODY[HEADER.FIELDS.NOT (FROM SUBJECT DATE)]",
    "BODY[2.HEADER.FIELDS (SUBJECT)]",
    "BODY[2.HEADER.FIELDS.NOT (SUBJECT)]",
    "BODY[1.HEADER.FIELDS (SUBJECT)]",
    "BODY[]<0.10>", "BODY[]<5.20>", "BODY[TEXT]<2.5>",
    "BODY[1]<1.3>", "BODY[HEADER]<10.1000>", "BODY[]<100000.10>",
    "BODY[HEADER.FIELDS (FROM)]<3.7>", "BODY[]<7.0>",
]

# SEARCH keys asked of the whole corpus: (probe key, Dovecot key).
SEARCHES = [
    ("subject:hello", 'SUBJECT "hello"'),
    ("subject:CRLF", 'SUBJECT "crlf"'),
    ("subject:example", 'SUBJECT "example"'),
    ("subject:bientôt", 'SUBJECT "bient\xf4t"'),
    ("subject:élève", 'SUBJECT "\xc9L\xc8VE"'),
    ("from:pirard", 'FROM "pirard"'),
    ("from:andré", 'FROM "ANDR\xc9"'),
    ("from:françois", 'FROM "fran\xe7ois"'),
    ("from:example.com", 'FROM "example.com"'),
    ("to:bob", 'TO "bob"'),
    ("to:jürgen", 'TO "J\xdcRGEN"'),
    ("cc:third", 'CC "third"'),
    ("bcc:hidden", 'BCC "hidden"'),
    ("body:café", 'BODY "caf\xe9"'),
    ("body:report attached", 'BODY "report attached"'),
    ("body:original text", 'BODY "original text"'),
    ("body:hello world", 'BODY "hello world"'),
    ("body:andré", 'BODY "andr\xe9"'),
    ("text:juergen", 'TEXT "juergen"'),
    ("header-message-id:folded-id", 'HEADER Message-ID "folded-id"'),
    ("sentbefore:10-Feb-1994", "SENTBEFORE 10-Feb-1994"),
    ("senton:17-Feb-1994", "SENTON 17-Feb-1994"),
    ("sentsince:20-Feb-1994", "SENTSINCE 20-Feb-1994"),
    ("senton:1-Jan-1999", "SENTON 1-Jan-1999"),
    ("sentbefore:1-Jan-1970", "SENTBEFORE 1-Jan-1970"),
    ("subject:grüße", 'SUBJECT "GR\xdc\xdfE"'),
    ("subject:understand the", 'SUBJECT "understand the"'),
    ("from:müller", 'FROM "M\xdcLLER"'),
    ("to:ærø", 'TO "\xe6r\xf8"'),
    ("body:ünïcödé", 'BODY "\xdcN\xcfC\xd6D\xc9"'),
    ("body:inner body", 'BODY "inner body"'),
    ("cc:olle", 'CC "olle"'),
]

# Known, accepted differences: (message file, item) -> why. Keep it short:
# only what is understood and cannot be reproduced.
_NONL = ("Dovecot 2.3.19 answers this differently depending on the other "
         "FETCH items: BODYSTRUCTURE alone honours the Content-Type on the "
         "unterminated last header line (as we do, and as its ENVELOPE "
         "does for Subject), with RFC822.SIZE in the same FETCH it ignores "
         "it and shows text/plain")
EXPECTED_DIFF = {
    ("77-header-only-ctype-nonl.eml", "BODYSTRUCTURE"): _NONL,
    ("77-header-only-ctype-nonl.eml", "BODY"): _NONL,
}


def corpus_files():
    return sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))


def parse_searches(out):
    return [line[len(b"* SEARCH"):].split()
            for line in out.split(b"\r\n") if line.startswith(b"* SEARCH")]


def run_dovecot(datas, commands):
    """Messages into a Maildir (UIDs in list order) in a temporary
    directory, then one pre-authenticated session running commands, each
    of which must succeed; its raw output. Dovecot on a pipe has been
    seen (once in thousands of runs) to end a session without writing
    its last answers: such a run is made again, on a new Maildir."""
    workdir = tempfile.mkdtemp(prefix="av-mime-")
    try:
        if os.getuid() == 0:
            os.chmod(workdir, 0o755)    # for nobody, below
        for attempt in range(3):
            oracle = dovecothelp.Oracle(os.path.join(workdir,
                                                     "try%d" % attempt))
            oracle.write_messages(datas)
            out, _ = oracle.transcript(commands)
            if not dovecothelp.logged_out(out):
                continue
            for i in range(len(commands)):
                assert re.search(rb"\r\nc%d OK " % i, out), \
                    (commands[i], out[-2000:])
            return out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    pytest.fail("Dovecot did not complete the session three times")


def probe(args, files, **kw):
    r = subprocess.run([PROBE] + args + files, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300, **kw)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b"", r.stderr
    return r.stdout


def probe_fetches(items, names):
    """parse_fetches() of the probe's answers to FETCH items for corpus
    files."""
    args = []
    for it in items:
        args += ["-a", it]
    return parse_fetches(probe(args, [os.path.join(CORPUS, n)
                                      for n in names]))


@pytest.fixture(scope="module")
def corpus():
    names = corpus_files()
    assert len(names) >= 40, "tests/mime/ needs at least 40 shapes"
    datas = []
    for n in names:
        with open(os.path.join(CORPUS, n), "rb") as f:
            datas.append(f.read())
    return names, datas


@pytest.fixture(scope="module")
def dovecot_fetch(corpus):
    names, datas = corpus
    peek = [s.replace("BODY[", "BODY.PEEK[", 1) for s in SECTIONS]
    cmds = [("FETCH 1:* (%s)" % " ".join(BASE_ITEMS)).encode()]
    # one FETCH per section: Dovecot answers each from a fresh parse
    cmds += [("FETCH 1:* (%s)" % s).encode() for s in peek]
    return parse_fetches(run_dovecot(datas, cmds))


def _compare(names, theirs, ours, items):
    bad = []
    for i, name in enumerate(names, 1):
        for item in items:
            t = theirs.get(i, {}).get(item)
            o = ours.get(i, {}).get(item)
            if t is None:
                bad.append("%s: Dovecot gave no %s" % (name, item))
                continue
            if t != o and (name, item) not in EXPECTED_DIFF:
                bad.append("%s %s\n  dovecot: %r\n  aviary:  %r"
                           % (name, item, t[:600], (o or b"")[:600]))
    return bad


def test_fetch_structures(build, corpus, dovecot_fetch):
    names, _ = corpus
    ours = probe_fetches(BASE_ITEMS, names)
    bad = _compare(names, dovecot_fetch, ours, BASE_ITEMS)
    assert not bad, "\n".join(bad[:30]) + "\n(%d differences)" % len(bad)


def test_fetch_sections(build, corpus, dovecot_fetch):
    names, _ = corpus
    ours = probe_fetches(SECTIONS, names)
    items = []
    for s in SECTIONS:
        # Dovecot echoes <origin> only
        items.append(re.sub(r"<(\d+)\.\d+>$", r"<\1>", s))
    bad = _compare(names, dovecot_fetch, ours, items)
    assert not bad, "\n".join(bad[:30]) + "\n(%d differences)" % len(bad)


# Sections as a client may spell them, and how the answer names them.
ECHOES = [
    ('BODY[header.fields (subject "From")]',
     'BODY[HEADER.FIELDS (SUBJECT "FROM")]'),
    ("BODY[HEADER.FIELDS (from  to)]", "BODY[HEADER.FIELDS (FROM TO)]"),
    ("BODY[1.mime]", "BODY[1.MIME]"),
    ("BODY[text]<0.5>", "BODY[TEXT]<0>"),
    ("BODY[2.Header]", "BODY[2.HEADER]"),
]


def test_section_echo(build, corpus):
    """The item names a FETCH answer echoes (clients match them)."""
    names, datas = corpus
    i = names.index("09-rfc822-attached.eml")
    cmds = [("FETCH 1 (%s)" % r.replace("BODY[", "BODY.PEEK[", 1)).encode()
            for r, _ in ECHOES]
    theirs = parse_fetches(run_dovecot([datas[i]], cmds))[1]
    ours = probe_fetches([r for r, _ in ECHOES], [names[i]])[1]
    for _, echo in ECHOES:
        assert echo in theirs, (echo, sorted(theirs))
        assert ours.get(echo) == theirs[echo], (echo, sorted(ours))


def test_search(build, corpus):
    names, datas = corpus
    cmds = [b"SEARCH CHARSET ISO-8859-1 " + d.encode("latin-1")
            for _, d in SEARCHES]
    theirs = parse_searches(run_dovecot(datas, cmds))
    files = [os.path.join(CORPUS, n) for n in names]
    bad = []
    for (key, dkey), t in zip(SEARCHES, theirs):
        o = parse_searches(probe(["-s", key], files))[0]
        if o != t:
            bad.append("%s: dovecot %s aviary %s" % (
                dkey, [names[int(x) - 1] for x in t],
                [names[int(x) - 1] for x in o]))
    assert not bad, "\n".join(bad)


def test_parse_time_10000(build, corpus):
    """Parse + BODYSTRUCTURE of 10,000 messages (the corpus repeated)
    stays well under a few seconds: linear, no quadratic header work."""
    names, _ = corpus
    rounds = 10000 // len(names) + 1
    out = probe(["-t", "-n", str(rounds)],
                [os.path.join(CORPUS, n) for n in names]).decode()
    secs = float(re.search(r"seconds=([\d.]+)", out).group(1))
    limit = 60.0 if SAN else 10.0
    assert secs < limit, out
