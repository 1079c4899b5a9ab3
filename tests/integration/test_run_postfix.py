"""The done-when of the auth issue: `make run` (tools/devstack.py) serves
SMTP AUTH for demo@example.test to a Postfix pointed at the auth socket
it prints."""
import os
import re
import smtplib
import base64
import tempfile
import shutil

import pytest

from postfix import PostfixError, PrivatePostfix, postfix_db_of_var
from test_devstack import READY_TIMEOUT, Devstack


def plain(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" +
                            password.encode()).decode()


def test_make_run_serves_postfix_sasl(build):
    # A var directory others may traverse: Postfix's smtpd (user postfix)
    # must reach the socket.
    base = tempfile.mkdtemp(prefix="av-run-pf-", dir="/tmp")
    os.chmod(base, 0o755)
    var = os.path.join(base, "var")
    ds = Devstack(build, var)
    pf = None
    try:
        ds.wait_for("aviary: ready", READY_TIMEOUT)
        password = ds.password()
        m = re.search(r"auth \(SASL\)\s+(\S+)", ds.output())
        assert m, ds.output()
        sock = m.group(1)
        assert sock == os.path.join(var, "run", "auth-client")
        m = re.search(r"MariaDB\s+unix socket (\S+)", ds.output())
        assert m, ds.output()
        db = postfix_db_of_var(m.group(1), var)
        for attempt in range(3):
            pf = PrivatePostfix(os.path.join(base, "postfix"),
                                PrivatePostfix.free_port(), sock, db=db)
            try:
                pf.start()
                break
            except PostfixError:
                if attempt == 2:
                    raise
        with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
            s.ehlo("client.test")
            code, msg = s.docmd("AUTH", "PLAIN " +
                                plain("demo@example.test", password))
            assert code == 235, msg
        with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
            s.ehlo("client.test")
            code, _ = s.docmd("AUTH", "PLAIN " +
                              plain("demo@example.test", password + "x"))
            assert code == 535
        pf.stop()
        pf = None
        assert ds.stop() == 0, ds.output()
        assert "aviary-auth" in ds.output()
    finally:
        if pf is not None:
            pf.stop()
        ds.kill()
        shutil.rmtree(base, ignore_errors=True)
