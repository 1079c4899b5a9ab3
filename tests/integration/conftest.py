"""Integration tests: aviary-admin and the SQL views against a real,
private MariaDB (tools/aviarydev.py).

One server per session, below a pytest temporary directory, stopped at
the end whatever happened; each test that asks for `admin` (or
`clean_db`) starts from empty tables and an empty mail root. The
binaries come from $AVIARY_BUILD (default: <repo>/build), so that
`make SAN=1 check-integration` runs the same tests under ASan.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avstack  # noqa: E402  (puts <repo>/tools on sys.path)

sys.path.insert(0, os.path.join(avstack.REPO, "tools"))
import aviarydev  # noqa: E402


@pytest.fixture(scope="session")
def build():
    if not os.access(avstack.ADMIN, os.X_OK):
        pytest.fail("%s not built (run make, or set AVIARY_BUILD)" %
                    avstack.ADMIN)
    return avstack.BUILD


@pytest.fixture(scope="session")
def stack(tmp_path_factory, build):
    """The session's private MariaDB with grants, schema and aviary.yaml."""
    s = aviarydev.Stack(avstack.short_tmpdir(tmp_path_factory, "stack"), build)
    try:
        s.up()
        yield s
    finally:
        avstack.stop_stack(s)


@pytest.fixture
def clean_db(stack):
    """Empty tables and an empty mail root before the test."""
    avstack.clean(stack)
    return stack


@pytest.fixture
def admin(clean_db):
    """admin(*args, input=None) -> CompletedProcess of
    `<build>/aviary-admin -c <config> ARGS` (text, both streams captured);
    also admin.ok(...), admin.sql(...), admin.stack."""
    return avstack.Admin(clean_db)
