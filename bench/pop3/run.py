#!/usr/bin/python3
"""bench/pop3: a mailbox of 1,000 messages delivered through aviary-lmtp,
then one POP3 session at a time: time to log in (USER/PASS through
aviary-auth, opening the maildrop and its dovecot-uidlist), STAT, LIST,
UIDL, and RETR of every message, in MB/s, over plain POP3 and POP3S
(TLS 1.3). Sizes follow bench/lmtp's fixed-seed log-normal mix (2 KB to
200 KB, median about 8 KB, whole lines). Each retrieved message is checked against
what was delivered. Prints JSON lines; docs/performance.md records the
numbers.
usage: bench/pop3/run.py [--build build] [--messages 1000] [--rounds 3]
"""
import argparse
import json
import os
import random
import smtplib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import LineSocket, aviarydev, free_port, message_size  # noqa: E402

USER = "bench@pop3.test"
PASSWORD = "bench-password-1"


def make_messages(n, seed=42):
    rnd = random.Random(seed)
    msgs = []
    for i in range(n):
        size = message_size(rnd)
        line = ("%08d " % i) + "x" * 69 + "\r\n"
        body = line * (size // len(line) + 1)     # whole lines
        msgs.append(("Subject: bench %d\r\nFrom: a@b.test\r\n\r\n" % i + body).encode())
    return msgs


class Client(LineSocket):
    def __init__(self, port, tls):
        super().__init__(port, tls, timeout=60)
        self.line()

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        r = self.line()
        if not r.startswith(b"+OK"):
            raise RuntimeError("%s: %r" % (text.split()[0], r))
        return r

    def multi(self):
        start = 0
        while True:
            if self.buf.startswith(b".\r\n"):
                out, self.buf = b"", self.buf[3:]
                return out
            i = self.buf.find(b"\r\n.\r\n", start)
            if i >= 0:
                out, self.buf = self.buf[:i + 2], self.buf[i + 5:]
                return out
            start = max(0, len(self.buf) - 4)
            self.more()


def session(port, tls, expect):
    t0 = time.perf_counter()
    c = Client(port, tls)
    c.cmd("USER " + USER)
    c.cmd("PASS " + PASSWORD)
    t_login = time.perf_counter() - t0
    t = time.perf_counter()
    n = int(c.cmd("STAT").split()[1])
    t_stat = time.perf_counter() - t
    t = time.perf_counter()
    c.cmd("LIST")
    sizes = [int(x.split()[1]) for x in c.multi().split(b"\r\n") if x]
    t_list = time.perf_counter() - t
    t = time.perf_counter()
    c.cmd("UIDL")
    c.multi()
    t_uidl = time.perf_counter() - t
    total = 0
    t = time.perf_counter()
    for i in range(1, n + 1):
        c.cmd("RETR %d" % i)
        data = c.multi()
        total += len(data)
        # After the Return-Path and Delivered-To that delivery added.
        if not data.endswith(expect[i - 1]):
            raise RuntimeError("message %d differs" % i)
    t_retr = time.perf_counter() - t
    c.cmd("QUIT")
    assert n == len(expect) and sum(sizes) >= total - 2 * n
    return {"login_ms": round(t_login * 1000, 2), "stat_ms": round(t_stat * 1000, 2),
            "list_ms": round(t_list * 1000, 2), "uidl_ms": round(t_uidl * 1000, 2),
            "retr_s": round(t_retr, 3), "messages": n, "bytes": total,
            "mb_per_s": round(total / t_retr / 1e6, 1),
            "msgs_per_s": round(n / t_retr)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    aviarydev.die_with_parent()
    base = tempfile.mkdtemp(prefix="av-bench-pop3-", dir="/tmp")
    lport, pport, sport = free_port(), free_port(), free_port()
    st = aviarydev.Stack(base, args.build, lmtp_listen=["127.0.0.1:%d" % lport],
                         pop3_listen=["127.0.0.1:%d" % pport],
                         pop3s_listen=["127.0.0.1:%d" % sport])
    proc = None
    try:
        st.up()
        st.run_admin("domain", "add", "pop3.test")
        st.run_admin("mailbox", "add", USER, "--password-stdin",
                     input=PASSWORD + "\n")
        proc = aviarydev.start_aviaryd(st)
        msgs = make_messages(args.messages)
        with smtplib.LMTP("127.0.0.1", lport) as lmtp:
            for m in msgs:
                lmtp.sendmail("a@b.test", [USER], m)
        for tls in (False, True):
            for r in range(args.rounds):
                res = session(sport if tls else pport, tls, msgs)
                res.update({"bench": "pop3", "tls": tls, "round": r + 1})
                print(json.dumps(res), flush=True)
    finally:
        if proc is not None:
            aviarydev.stop_process(proc)
        st.down()
        subprocess.run(["rm", "-rf", base])


if __name__ == "__main__":
    main()
