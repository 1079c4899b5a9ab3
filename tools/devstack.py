#!/usr/bin/python3
"""`make run`: the whole Aviary platform in the foreground on loopback.

Starts a private MariaDB under ./var, applies the grants and the schema,
writes var/aviary.yaml, creates the demo domain and mailbox, prints how to
connect and `aviary: ready`, and stays until SIGINT or SIGTERM, which stop
everything it started. Running it again reuses var/.
"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aviarydev  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("command", choices=["run"])
    p.add_argument("--build", default="build")
    p.add_argument("--var", default="var")
    args = p.parse_args()

    aviarydev.die_with_parent()
    stack = aviarydev.Stack(args.var, args.build,
                            lmtp_listen=["127.0.0.1:10024"],
                            pop3_listen=["127.0.0.1:10110"],
                            pop3s_listen=["127.0.0.1:10995"],
                            imap_listen=["127.0.0.1:10143"],
                            imaps_listen=["127.0.0.1:10993"])
    stopping = []

    def on_signal(signum, frame):
        # One stop is enough: ignore the signals that follow (a terminal
        # sends SIGINT to make and to us; a supervisor may repeat TERM),
        # so that shutting down is never itself interrupted.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    aviaryd = None
    try:
        stack.up()
        password = aviarydev.demo(stack)
        aviaryd = aviarydev.start_aviaryd(stack)
        admin = os.path.relpath(stack.admin)
        cfg = os.path.relpath(stack.config)
        # One write: the services share this stdout pipe for their logs,
        # and print() would write the final newline separately.
        sys.stdout.write(f"""
Aviary development stack
  MariaDB        unix socket {stack.db.socket} (root, no password; private)
  configuration  {cfg}
  mail root      {stack.mailroot}
  auth (SASL)    {stack.auth_client_socket}  (Postfix: smtpd_sasl_type = dovecot,
                 smtpd_sasl_path = {stack.auth_client_socket})
  userdb         {stack.auth_userdb_socket}
  LMTP           {stack.lmtp_socket} and 127.0.0.1:10024  (Postfix:
                 virtual_transport = lmtp:unix:{stack.lmtp_socket})
  IMAP           127.0.0.1:10143 (STARTTLS) and IMAPS 127.0.0.1:10993
  POP3           127.0.0.1:10110 (STLS) and POP3S 127.0.0.1:10995
                 self-signed certificate {os.path.relpath(stack.tls_cert)}
  demo mailbox   demo@example.test  password: {password}

  try:  {admin} -c {cfg} domain list
        {admin} -c {cfg} auth test demo@example.test
        {admin} -c {cfg} user demo@example.test
        curl -k --user demo@example.test pop3s://127.0.0.1:10995/

Press Ctrl-C to stop.
aviary: ready\n""")
        sys.stdout.flush()
        signal.pause()
    except KeyboardInterrupt:
        pass
    except Exception as e:  # set-up failed: say why, stop what started
        print("aviary: %s" % e, file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if aviaryd is not None:
            aviarydev.stop_process(aviaryd)
        stack.down()
    sys.stdout.write("aviary: stopped\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
