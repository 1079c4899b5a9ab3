#!/usr/bin/python3
"""bench/imap: a mailbox of 10,000 messages delivered through aviary-lmtp,
then, over one IMAP connection, the time of: SELECT; FETCH 1:* (UID FLAGS
INTERNALDATE RFC822.SIZE ENVELOPE); FETCH 1:* BODYSTRUCTURE; UID SEARCH
SUBJECT; FETCH of 1,000 full bodies; STORE +FLAGS on all. Each step runs
cold (page cache dropped when running as root, a fresh login) and warm
(again at once). Then the memory of aviary-imap per idle connection:
1,000 connections logged in, INBOX selected, in IDLE, against the
process's RSS before. Prints JSON lines; docs/performance.md records
the numbers.
usage: bench/imap/run.py [--build build] [--messages 10000] [--idle 1000]
"""
import argparse
import json
import os
import random
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import LineSocket, aviarydev, free_port, message_size  # noqa: E402

USER = "bench@imap.test"
PASSWORD = "bench-password-1"


def make_messages(n, seed=7):
    rnd = random.Random(seed)
    words = ["report", "invoice", "meeting", "lunch", "update", "weekly",
             "alpha", "beta", "gamma", "holiday", "budget", "review"]
    for i in range(n):
        size = message_size(rnd)
        line = ("%08d " % i) + "x" * 69 + "\r\n"
        body = line * (size // len(line) + 1)
        subj = " ".join(rnd.choice(words) for _ in range(3))
        if i % 5 == 0:
            ctype = ("Content-Type: multipart/mixed; boundary=\"b%d\"\r\n" % i)
            body = ("--b%d\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                    "--b%d\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b%d--\r\n"
                    % (i, i, body, i))
        else:
            ctype = "Content-Type: text/plain; charset=us-ascii\r\n"
        yield ("From: Sender %d <s%d@example.org>\r\nTo: %s\r\n"
               "Subject: %s %d\r\nDate: Sun, 22 Nov 2026 10:%02d:00 +0100\r\n"
               "Message-ID: <%d@bench>\r\nMIME-Version: 1.0\r\n%s\r\n%s"
               % (i, i, USER, subj, i, i % 60, i, ctype, body)).encode()


class Client(LineSocket):
    def __init__(self, port):
        super().__init__(port)
        self.n = 0
        self.line()

    def cmd(self, text):
        """Send, read to the tagged reply (skipping literals' bytes);
        returns (bytes received, tagged line)."""
        self.n += 1
        tag = b"t%d" % self.n
        self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        got = 0
        while True:
            line = self.line()
            got += len(line) + 2
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError("%s: %r" % (text, line))
                return got, line
            if line.endswith(b"}"):
                k = int(line[line.rindex(b"{") + 1:-1])
                self.skip(k)
                got += k


def drop_caches():
    if os.geteuid() == 0:
        subprocess.run(["sync"])
        try:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
        except OSError:
            pass


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def imap_pid(aviaryd_pid):
    """Our aviary-imap: the child of our aviaryd (other tests may run
    their own)."""
    out = subprocess.run(["pgrep", "-P", str(aviaryd_pid), "-f",
                          "aviary-imap"], capture_output=True,
                         text=True).stdout.split()
    return int(out[0]) if out else None


def steps(port, n):
    c = Client(port)
    c.cmd("LOGIN %s %s" % (USER, PASSWORD))
    out = {}
    for name, cmd in (
            ("select", "SELECT INBOX"),
            ("fetch_headers", "FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"),
            ("fetch_bodystructure", "FETCH 1:* BODYSTRUCTURE"),
            ("uid_search_subject", "UID SEARCH SUBJECT \"budget review\""),
            ("fetch_1000_bodies", "FETCH %d:%d BODY.PEEK[]" % (max(1, n - 999), n)),
            ("store_all", "STORE 1:* +FLAGS.SILENT (\\Flagged)")):
        t = time.perf_counter()
        got, _ = c.cmd(cmd)
        out[name + "_s"] = round(time.perf_counter() - t, 3)
        if name == "fetch_1000_bodies":
            out["bodies_mb_per_s"] = round(got / (time.perf_counter() - t) / 1e6, 1)
    c.cmd("STORE 1:* -FLAGS.SILENT (\\Flagged)")
    c.cmd("LOGOUT")
    return out


def idle_memory(port, count, aviaryd_pid):
    pid = imap_pid(aviaryd_pid)
    before = rss_kb(pid)
    socks = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), 60)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"a LOGIN %s %s\r\nb SELECT INBOX\r\nc IDLE\r\n" %
                  (USER.encode(), PASSWORD.encode()))
        while not f.readline().startswith(b"+ "):
            pass
        socks.append((s, f))
    time.sleep(1)
    after = rss_kb(pid)
    for s, f in socks:
        s.close()
    return {"connections": count, "rss_before_kb": before,
            "rss_after_kb": after,
            "kb_per_idle_connection": round((after - before) / count, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--idle", type=int, default=1000)
    args = ap.parse_args()
    aviarydev.die_with_parent()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    base = tempfile.mkdtemp(prefix="av-bench-imap-", dir="/tmp")
    lport, iport = free_port(), free_port()
    st = aviarydev.Stack(base, args.build, lmtp_listen=["127.0.0.1:%d" % lport],
                         imap_listen=["127.0.0.1:%d" % iport])
    proc = None
    try:
        st.up()
        st.write_config(login_extra="  max_connections_per_ip: 0\n",
                        imap_extra="  max_connections_per_user: 0\n")
        st.run_admin("domain", "add", "imap.test")
        st.run_admin("mailbox", "add", USER, "--password-stdin",
                     input=PASSWORD + "\n")
        proc = aviarydev.start_aviaryd(st)
        t = time.perf_counter()
        with smtplib.LMTP("127.0.0.1", lport) as lmtp:
            for m in make_messages(args.messages):
                lmtp.sendmail("a@b.test", [USER], m)
        print(json.dumps({"bench": "imap", "delivered": args.messages,
                          "deliver_s": round(time.perf_counter() - t, 1)}),
              flush=True)
        for phase in ("cold", "warm"):
            if phase == "cold":
                drop_caches()
            res = steps(iport, args.messages)
            res.update({"bench": "imap", "phase": phase,
                        "messages": args.messages})
            print(json.dumps(res), flush=True)
        res = idle_memory(iport, args.idle, proc.pid)
        res["bench"] = "imap-idle"
        print(json.dumps(res), flush=True)
    finally:
        if proc is not None:
            aviarydev.stop_process(proc)
        st.down()
        subprocess.run(["rm", "-rf", base])


if __name__ == "__main__":
    main()
