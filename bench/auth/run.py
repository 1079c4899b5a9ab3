#!/usr/bin/python3
"""bench/auth: successful authentications per second over aviary-auth's
client socket, with 8 concurrent connections (one request in flight per
connection, as Postfix's smtpd does).

  cold: every request is a user not seen before: SQL lookup and a full
        SHA512-CRYPT verification (5000 rounds) each time.
  warm: the same users again: the SQL lookup still runs (a changed or
        disabled password is seen at once) but the hash is not
        recomputed, because the stored value is the one already
        verified.

Set-up: a private MariaDB (tools/aviarydev.py), USERS mailboxes inserted
with one SHA512-CRYPT hash (same cost per user as distinct salts),
aviary-auth with 4 workers, no failure delay, loopback trusted.
Prints JSON lines; docs/performance.md records the numbers.
usage: bench/auth/run.py [--build build] [--users 4000] [--workers 4]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import aviarydev  # noqa: E402

PASSWORD = "bench-Password-1"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--users", type=int, default=4000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--connections", type=int, default=8)
    args = p.parse_args()
    build = os.path.abspath(args.build)
    tool = os.path.join(build, "bench", "auth_bench")
    with tempfile.TemporaryDirectory(prefix="aviary-bench-") as base:
        stack = aviarydev.Stack(base, build)
        auth = None
        try:
            stack.up()
            stack.write_config(auth_extra=(
                f"  workers: {args.workers}\n  failure_delay: 0s\n"
                "  trusted_networks: [\"127.0.0.0/8\"]\n"))
            stack.run_admin("domain", "add", "bench.test")
            h = stack.run_admin("pw", "--password-stdin",
                                input=PASSWORD + "\n").stdout.strip()
            rows = ",".join("(@d, 'u%d', %s)" % (i, aviarydev.sql_quote(h))
                            for i in range(args.users))
            stack.db.sql("SET @d = (SELECT id FROM domains WHERE name='bench.test');"
                         "INSERT INTO mailboxes (domain_id, local_part, password) VALUES "
                         + rows + ";", database="aviary")
            auth = subprocess.Popen([os.path.join(build, "aviary-auth"), "-c",
                                     stack.config], stderr=open(os.path.join(base, "auth.log"), "w"))
            sock = os.path.join(stack.db.rundir, "auth-client")
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            results = {}
            for phase in ("cold", "warm"):
                r = subprocess.run([tool, sock, str(args.connections),
                                    str(args.users), "u", "bench.test",
                                    str(args.users)], input=PASSWORD + "\n",
                                   text=True, capture_output=True)
                if r.returncode != 0:
                    sys.exit("auth_bench failed: " + r.stderr + r.stdout + open(os.path.join(base, "auth.log")).read()[-3000:])
                results[phase] = json.loads(r.stdout)
                results[phase]["phase"] = phase
                results[phase]["workers"] = args.workers
                print(json.dumps(results[phase]), flush=True)
        finally:
            if auth is not None:
                auth.terminate()
                auth.wait(10)
            stack.down()


if __name__ == "__main__":
    main()
