#!/bin/sh
# docker/mariadb/db-setup.sh - the database accounts of the compose stack
# (the db-setup service of docker/compose.yaml, in the mariadb image).
#
# schema/grants.sql in two passes, as docs/install.md does by hand:
#   1. as soon as MariaDB answers: the database and the three accounts
#      (the aviary container waits for its account, then runs
#      `aviary-admin db migrate`);
#   2. once every migration of schema/ is recorded in schema_migrations:
#      again, for the grants on the views the migrations made.
# Then it exits 0. Run on every `docker compose up`, so a password
# changed in docker/secrets/ is applied, and new views get their grants
# after an upgrade.
#
# Environment (defaults: the compose service's):
#   DB_HOST                mariadb (TCP 3306), or unix:/path/to/socket
#   DB_NAME                aviary
#   DB_ACCOUNT_HOST        % (the accounts' host part: any container)
#   DB_ROOT_PASSWORD_FILE, DB_ADMIN_PASSWORD_FILE, DB_AUTH_PASSWORD_FILE,
#   DB_POSTFIX_PASSWORD_FILE   /run/secrets/db-root, db-admin, db-auth,
#                          db-postfix
#   SCHEMA_DIR             /aviary/schema (grants.sql, NNN_*.sql)
#   DB_SETUP_WAIT          600: seconds to wait in each step
#   MARIADB_CLIENT         mariadb
# Passwords travel in a 0600 option file and on standard input, never
# on a command line; they may hold letters, digits and . _ + / = - only.
set -eu

host=${DB_HOST:-mariadb}
db=${DB_NAME:-aviary}
account_host=${DB_ACCOUNT_HOST:-%}
schema=${SCHEMA_DIR:-/aviary/schema}
wait=${DB_SETUP_WAIT:-600}
client=${MARIADB_CLIENT:-mariadb}

log() {
	printf 'db-setup: %s\n' "$*" >&2
}

fail() {
	log "error: $*"
	exit 1
}

# The first line of a secret file, checked to be safe in SQL quotes and
# in an option file.
secret() {
	[ -r "$1" ] || fail "cannot read $1"
	IFS= read -r value <"$1" || [ -n "${value:-}" ] || value=
	case $value in
	*[!A-Za-z0-9._+/=-]*) fail "$1: use letters, digits and . _ + / = - only" ;;
	esac
	printf '%s' "$value"
}

case $wait in
'' | *[!0-9]*) fail "DB_SETUP_WAIT must be a number of seconds" ;;
esac
case $db in
'' | *[!A-Za-z0-9_]*) fail "DB_NAME: letters, digits and _ only" ;;
esac
case $account_host in
'' | *[!A-Za-z0-9_.%:-]*) fail "DB_ACCOUNT_HOST: a host name, address or %" ;;
esac
[ -r "$schema/grants.sql" ] || fail "no $schema/grants.sql (SCHEMA_DIR)"

root_pw=$(secret "${DB_ROOT_PASSWORD_FILE:-/run/secrets/db-root}")
admin_pw=$(secret "${DB_ADMIN_PASSWORD_FILE:-/run/secrets/db-admin}")
auth_pw=$(secret "${DB_AUTH_PASSWORD_FILE:-/run/secrets/db-auth}")
postfix_pw=$(secret "${DB_POSTFIX_PASSWORD_FILE:-/run/secrets/db-postfix}")

optfile=$(mktemp)
trap 'rm -f "$optfile"' EXIT
{
	printf '[client]\nuser=root\npassword=%s\n' "$root_pw"
	case $host in
	unix:*) printf 'socket=%s\n' "${host#unix:}" ;;
	*) printf 'host=%s\nprotocol=tcp\n' "$host" ;;
	esac
} >"$optfile"

sql() {
	"$client" --defaults-extra-file="$optfile" --batch --skip-column-names
}

grants() {
	{
		printf "SET @db = '%s', @host = '%s', @admin_password = '%s', " \
		    "$db" "$account_host" "$admin_pw"
		printf "@auth_password = '%s', @postfix_password = '%s';\n" \
		    "$auth_pw" "$postfix_pw"
		cat "$schema/grants.sql"
	} | sql
}

deadline=$(($(date +%s) + wait))
until echo 'SELECT 1' | sql >/dev/null 2>&1; do
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "MariaDB at $host did not answer within ${wait}s"
	sleep 1
done
grants
log "accounts of database $db ready"

migrations=0
for f in "$schema"/[0-9][0-9][0-9]_*.sql; do
	[ -e "$f" ] && migrations=$((migrations + 1))
done
deadline=$(($(date +%s) + wait))
while :; do
	applied=$(echo "SELECT COUNT(*) FROM \`$db\`.schema_migrations" |
		sql 2>/dev/null) || applied=0
	[ "$applied" -ge "$migrations" ] && break
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "only $applied of $migrations migrations applied after ${wait}s"
	sleep 1
done
grants
log "grants on the views of database $db ready"
