"""The man pages of man/ (installed by `make install`, install.mk):
each renders without a groff warning, has the sections every page
needs, names only existing pages in SEE ALSO, and aviary-admin.8
describes every command that `aviary-admin` prints in its usage."""
import glob
import os
import re
import shutil
import subprocess

import pytest

from avstack import ADMIN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MAN = os.path.join(ROOT, "man")
PAGES = sorted(glob.glob(os.path.join(MAN, "*.[1-8]")))
EXPECTED = {"aviaryd.8", "aviary-auth.8", "aviary-lmtp.8", "aviary-pop3.8",
            "aviary-imap.8", "aviary-admin.8", "aviary.yaml.5"}
SERVICES = {"aviaryd.8", "aviary-auth.8", "aviary-lmtp.8", "aviary-pop3.8",
            "aviary-imap.8"}
XREF = re.compile(r"([A-Za-z0-9_.+-]+)\s*\((\d)\)")


def groff(*args):
    exe = shutil.which("groff")
    if exe is None:
        pytest.fail("groff not found: the man page checks need Debian's "
                    "groff-base (apt-get install groff-base, or make deps)")
    return subprocess.run([exe] + list(args), capture_output=True,
                          text=True, timeout=60)


def render(page, flat=True):
    """The page as plain text: one line per paragraph and per tag (no
    hyphenation, a very long line length); with flat, all whitespace
    collapsed to single spaces."""
    r = groff("-man", "-Tascii", "-rHY=0", "-rLL=2000n", "-P", "-cbou", page)
    assert r.returncode == 0, r.stderr
    return re.sub(r"\s+", " ", r.stdout) if flat else r.stdout


def source(page):
    with open(page, encoding="ascii") as f:     # plain ASCII sources
        return f.read()


def section(text, name):
    """The lines of a .SH section of a page source."""
    m = re.search(r"^\.SH \"?%s\"?\n(.*?)(?=^\.SH |\Z)" % re.escape(name),
                  text, re.S | re.M)
    return m.group(1) if m else None


def names(src):
    """Page names referred to as name(N), with groff's \\- and font
    escapes removed."""
    plain = re.sub(r"\\f[BIRP]|\\&", "", src.replace("\\-", "-"))
    plain = re.sub(r"^\.[A-Z]{1,2} ", "", plain, flags=re.M)
    return {"%s.%s" % (n, s) for n, s in XREF.findall(plain)}


def test_the_pages_are_there():
    assert {os.path.basename(p) for p in PAGES} == EXPECTED


@pytest.mark.parametrize("page", PAGES, ids=os.path.basename)
def test_renders_without_warnings(page):
    r = groff("-man", "-ww", "-z", page)
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("page", PAGES, ids=os.path.basename)
def test_sections(page):
    src = source(page)
    name = os.path.basename(page)
    want = ["NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "SEE ALSO"]
    if name.endswith(".8"):
        want += ["OPTIONS", "EXIT STATUS"]
    if name in SERVICES:
        want.append("SIGNALS")
    for s in want:
        assert section(src, s) is not None, "%s: no .SH %s" % (name, s)
    title = re.search(r"^\.TH (\S+) (\d)", src, re.M)
    assert title, name + ": no .TH"
    assert "%s.%s" % (title.group(1).lower(), title.group(2)) == name
    # NAME is "page \- what it is", which man(1), apropos and mandb read
    assert re.search(r" NAME %s - \S" % re.escape(name[:-2]),
                     render(page)), name


@pytest.mark.parametrize("page", PAGES, ids=os.path.basename)
def test_see_also_names_existing_pages(page):
    src = source(page)
    have = {os.path.basename(p) for p in PAGES}
    see = names(section(src, "SEE ALSO"))
    assert see, "%s: SEE ALSO names no page" % page
    assert see <= have, "%s: SEE ALSO names missing pages: %s" % (
        os.path.basename(page), sorted(see - have))
    # Aviary pages referred to anywhere in the text exist too.
    ours = {n for n in names(src) if n.startswith("aviary")}
    assert ours <= have, sorted(ours - have)


def usage_commands():
    """(top-level commands, 'command subcommand' pairs) of the usage that
    aviary-admin prints when run without arguments."""
    if not os.access(ADMIN, os.X_OK):
        pytest.fail("%s not built (run make, or set AVIARY_BUILD)" % ADMIN)
    r = subprocess.run([ADMIN], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 64, r.stdout + r.stderr
    top, pairs = set(), set()
    for line in r.stderr.splitlines():
        m = re.match(r"^  ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?(?:\s|$)", line)
        if m:
            top.add(m.group(1))
            if m.group(2):
                pairs.add(m.group(0).strip())
    assert {"db", "domain", "mailbox", "setup"} <= top, r.stderr
    return top, pairs


def test_admin_page_has_every_command():
    """Each command of the usage (and each "command subcommand" pair)
    starts a tagged paragraph of COMMANDS: described, not just named."""
    top, pairs = usage_commands()
    text = render(os.path.join(MAN, "aviary-admin.8"), flat=False)
    commands = text.split("\nCOMMANDS\n", 1)[1].split("\nEXIT STATUS\n")[0]
    starts = [line.strip() for line in commands.splitlines()]
    missing = [c for c in sorted(top | pairs)
               if not any(re.match(r"%s(?:[ ,]|$)" % re.escape(c), line)
                          for line in starts)]
    assert not missing, "aviary-admin.8 does not describe: %s" % missing
    synopsis = render(os.path.join(MAN, "aviary-admin.8")).split(
        " SYNOPSIS ", 1)[1].split(" DESCRIPTION ", 1)[0]
    for opt in ("-c", "--json", "--yes"):
        assert opt in synopsis, opt
