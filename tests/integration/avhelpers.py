"""Assertions shared by the integration tests."""
import json

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOUSER = 67
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CANTCREAT = 73      # a limit would be passed
EX_NOPERM = 77         # pw --verify: mismatch
EX_CONFIG = 78


def _cmd(r):
    return " ".join(str(a) for a in r.args[1:]) if isinstance(r.args, list) else r.args


def error_line(r):
    """The one error line of a failed command. A failure is one line
    starting with "aviary-admin: "; a usage error (64) may add the
    usage synopsis as a second line starting with "usage: aviary-admin"."""
    lines = r.stderr.splitlines()
    assert lines, "%s: exit %d with nothing on stderr" % (_cmd(r), r.returncode)
    assert r.stderr.endswith("\n"), "stderr not newline-terminated: %r" % r.stderr
    assert lines[0].startswith("aviary-admin: "), \
        "%s: stderr does not start with 'aviary-admin: ': %r" % (_cmd(r), r.stderr)
    assert len(lines[0]) > len("aviary-admin: ") + 3, "empty message: %r" % r.stderr
    extra = lines[1:]
    if r.returncode == EX_USAGE and extra:
        assert len(extra) == 1 and extra[0].startswith("usage: aviary-admin "), \
            "%s: unexpected stderr: %r" % (_cmd(r), r.stderr)
    else:
        assert not extra, "%s: more than one line on stderr: %r" % (_cmd(r), r.stderr)
    return lines[0]


def assert_fail(r, code, *fragments):
    """Exit code 'code', one clear error line containing every fragment
    (case-insensitive), nothing on stdout. Returns the line."""
    assert r.returncode == code, "%s: expected exit %d, got %d; stderr %r" % (
        _cmd(r), code, r.returncode, r.stderr)
    line = error_line(r)
    for f in fragments:
        assert f.lower() in line.lower(), "%r not in %r" % (f, line)
    assert r.stdout == "", "%s: output on failure: %r" % (_cmd(r), r.stdout)
    return line


def assert_ok(r):
    assert r.returncode == 0, "%s: exit %d: %r" % (_cmd(r), r.returncode, r.stderr)
    assert r.stderr == "", "%s: stderr on success: %r" % (_cmd(r), r.stderr)
    return r


def jsonout(r):
    assert_ok(r)
    return json.loads(r.stdout)


def table(r):
    """Human table output: list of rows (lists of whitespace-separated
    fields), header first."""
    assert_ok(r)
    return [line.split() for line in r.stdout.splitlines()]


def record(r):
    """Human record output ("Title:  value" lines) as a dict."""
    assert_ok(r)
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip()
    return out
