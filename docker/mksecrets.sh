#!/bin/sh
# docker/mksecrets.sh [DIR] - make the compose stack's secret files
# (docker/compose.yaml, "secrets:") in DIR, docker/secrets/ by default:
# one random password per file, mode 0600. A file that exists is kept,
# so running it again changes nothing. Run it once before the first
# `docker compose up`. The files never go into git (secrets/.gitignore).
#
#   db-root.pass        MariaDB's root (used by the db-setup service only)
#   db-admin.pass       aviary_admin   (aviary-admin in the aviary container)
#   db-auth.pass        aviary_auth    (aviary-auth)
#   db-postfix.pass     aviary_postfix (Postfix's mysql maps)
#   first-mailbox.pass  the password of AVIARY_MAILBOX
set -eu

dir=${1:-$(dirname "$0")/secrets}
umask 077
mkdir -p "$dir"
for name in db-root db-admin db-auth db-postfix first-mailbox; do
	file="$dir/$name.pass"
	if [ -e "$file" ]; then
		printf 'kept    %s\n' "$file"
		continue
	fi
	# 24 random bytes as 48 hex digits: safe in SQL, option files and
	# Postfix map files alike.
	od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$file.tmp"
	printf '\n' >>"$file.tmp"
	mv "$file.tmp" "$file"
	printf 'made    %s\n' "$file"
done
