#!/usr/bin/python3
"""bench/lmtp: messages per second and per-message latency delivering
through aviary-lmtp, fsync on, with 1 and 4 concurrent sessions.

A realistic mix of sizes (2 KB to 200 KB, median about 8 KB: log-normal,
fixed seed), one recipient per message, 8 mailboxes, each session one
LMTP connection reused for many transactions (as Postfix does). At the
end every accepted message is counted on disk and the bytes compared.
Prints JSON lines; docs/performance.md records the numbers.
usage: bench/lmtp/run.py [--build build] [--messages 2000]
"""
import argparse
import hashlib
import json
import math
import os
import random
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import aviarydev  # noqa: E402

USERS = ["u%d@bench.test" % i for i in range(8)]


def make_messages(n, seed=42):
    rnd = random.Random(seed)
    msgs = []
    for i in range(n):
        size = int(min(200_000, max(2_000, rnd.lognormvariate(math.log(8000), 0.9))))
        line = ("%08d " % i) + "x" * 69 + "\r\n"
        body = (line * (size // len(line) + 1))[:size]
        msgs.append(("Subject: bench %d\r\nFrom: a@b.test\r\n\r\n" % i + body).encode())
    return msgs


def wait_socket(path, timeout=20):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("no socket " + path)


def run_phase(sock, msgs, sessions):
    lat = []
    lock = threading.Lock()
    nxt = [0]
    errors = []

    def worker():
        c = smtplib.LMTP(sock)
        c.docmd("LHLO", "bench")
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= len(msgs):
                break
            t0 = time.perf_counter()
            try:
                c.sendmail("sender@bench.test", [USERS[k % len(USERS)]], msgs[k])
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                continue
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
        c.quit()

    t0 = time.perf_counter()
    ths = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {"sessions": sessions, "messages": len(lat), "errors": len(errors),
            "seconds": round(wall, 3), "per_second": round(len(lat) / wall, 1),
            "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
            "mbytes_per_second": round(sum(len(m) for m in msgs) / wall / 1e6, 2)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--messages", type=int, default=2000)
    args = p.parse_args()
    build = os.path.abspath(args.build)
    msgs = make_messages(args.messages)
    sizes = sorted(len(m) for m in msgs)
    print(json.dumps({"sizes": {"min": sizes[0], "median": sizes[len(sizes) // 2],
                                "max": sizes[-1]}}), flush=True)
    with tempfile.TemporaryDirectory(prefix="aviary-lbench-") as base:
        stack = aviarydev.Stack(base, build)
        procs = []
        try:
            stack.up()
            stack.run_admin("domain", "add", "bench.test")
            for u in USERS:
                stack.run_admin("mailbox", "add", u, "--password-stdin",
                                input="x-bench-pw\n")
            for binary in ("aviary-auth", "aviary-lmtp"):
                procs.append(subprocess.Popen([os.path.join(build, binary), "-c",
                                               stack.config],
                                              stderr=subprocess.DEVNULL))
            wait_socket(stack.auth_userdb_socket)
            wait_socket(stack.lmtp_socket)
            total = 0
            for sessions in (1, 4):
                r = run_phase(stack.lmtp_socket, msgs, sessions)
                total += r["messages"]
                print(json.dumps(r), flush=True)
            # Every accepted message is on disk, byte-exact.
            want = {}
            for m in msgs:
                if not m.endswith(b"\r\n"):    # smtplib completes the line
                    m += b"\r\n"
                h = hashlib.sha256(m.replace(b"\r\n", b"\n")).hexdigest()
                want[h] = want.get(h, 0) + 2
            got = {}
            n = 0
            for u in USERS:
                d = os.path.join(stack.mailroot, "bench.test", u.split("@")[0], "new")
                for f in os.listdir(d):
                    data = open(os.path.join(d, f), "rb").read()
                    # Drop the two headers delivery adds.
                    data = data.split(b"\n", 2)[2]
                    h = hashlib.sha256(data).hexdigest()
                    got[h] = got.get(h, 0) + 1
                    n += 1
            print(json.dumps({"on_disk": n, "accepted": total,
                              "byte_exact": got == want}), flush=True)
            if n != total or got != want:
                sys.exit("messages missing or different on disk")
        finally:
            for pr in procs:
                pr.terminate()
                pr.wait(10)
            stack.down()


if __name__ == "__main__":
    main()
