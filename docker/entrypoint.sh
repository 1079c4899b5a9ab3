#!/bin/sh
# docker/entrypoint.sh - start Aviary in a container (docker/README.md).
#
#   aviary-entrypoint            check the configuration, wait for MariaDB,
#                                apply the migrations, create the first
#                                domain and mailbox, exec aviaryd -F
#   aviary-entrypoint health     exit 0 when aviary-auth answers (the
#                                container's health check)
#   aviary-entrypoint CMD ...    exec CMD (aviary-admin ..., sh)
#
# Environment (defaults are the image's paths, so the script also runs
# outside a container, as tests/integration/test_docker_files.py does):
#   AVIARY_CONFIG                 /etc/aviary/aviary.yaml
#   AVIARY_SBIN                   /usr/local/sbin (aviaryd and the services)
#   AVIARY_ADMIN                  /usr/local/bin/aviary-admin
#   AVIARY_DB_WAIT                60: seconds to wait for the database
#   AVIARY_DOMAIN                 first domain (created when missing)
#   AVIARY_MAILBOX                first mailbox: local part in AVIARY_DOMAIN,
#                                 or a whole address (created when missing)
#   AVIARY_MAILBOX_PASSWORD_FILE  its password, first line of the file
#   AVIARY_MAILBOX_PASSWORD       or the password itself (the file is
#                                 better: the environment shows in
#                                 `docker inspect`)
#   AVIARY_RUN_DIR                /run/aviary: made if missing (userdb socket)
#   AVIARY_MAIL_ROOT              /var/mail/vhosts: made if missing, owned by
#   AVIARY_MAIL_USER, AVIARY_MAIL_GROUP   vmail, vmail
#   AVIARY_HEALTH_ADDRESS         the address the health check looks up
#
# Runs as root. Passwords never go on a command line: aviary-admin reads
# them on standard input. Safe to run again: an existing domain or
# mailbox is left as it is (its password too), applied migrations are
# skipped.
set -eu

config=${AVIARY_CONFIG:-/etc/aviary/aviary.yaml}
sbin=${AVIARY_SBIN:-/usr/local/sbin}
admin=${AVIARY_ADMIN:-/usr/local/bin/aviary-admin}

# sysexits.h, as aviary-admin uses them.
EX_NOUSER=67
EX_UNAVAILABLE=69

log() {
	printf 'aviary-entrypoint: %s\n' "$*" >&2
}

fail() {
	log "error: $*"
	exit 1
}

av_admin() {
	"$admin" -c "$config" "$@"
}

# The status of a command, without set -e ending the script.
status_of() {
	set +e
	"$@"
	st=$?
	set -e
	return 0
}

health() {
	probe=${AVIARY_HEALTH_ADDRESS:-healthcheck@aviary.invalid}
	# A userdb lookup goes through aviaryd's socket to aviary-auth and
	# SQL: found (0) or not found (67) are both answers.
	status_of av_admin user "$probe" >/dev/null 2>&1
	case $st in
	0 | "$EX_NOUSER") exit 0 ;;
	*) exit 1 ;;
	esac
}

wait_for_database() {
	wait=${AVIARY_DB_WAIT:-60}
	case $wait in
	'' | *[!0-9]*) fail "AVIARY_DB_WAIT must be a number of seconds, not '$wait'" ;;
	esac
	# date +%s counts whole seconds: one more, or a start late in a
	# second would give up to a second early.
	deadline=$(($(date +%s) + wait + 1))
	log "waiting up to ${wait}s for the database"
	while :; do
		set +e
		out=$(av_admin db status 2>&1 >/dev/null)
		st=$?
		set -e
		case $st in
		0) return 0 ;;
		# Unreachable, or not accepting our account yet (the grants
		# may still be on their way): try again.
		"$EX_UNAVAILABLE") ;;
		*) fail "cannot check the database (aviary-admin exit $st): $out" ;;
		esac
		if [ "$(date +%s)" -ge "$deadline" ]; then
			fail "the database did not answer within ${wait}s" \
			    "(AVIARY_DB_WAIT): $out"
		fi
		sleep 1
	done
}

first_domain() {
	domain=${AVIARY_DOMAIN:-}
	[ -n "$domain" ] || return 0
	status_of av_admin domain show "$domain" >/dev/null 2>&1
	case $st in
	0) log "domain $domain exists" ;;
	"$EX_NOUSER")
		av_admin domain add "$domain" >/dev/null
		log "domain $domain added"
		;;
	*) fail "domain show $domain: aviary-admin exit $st" ;;
	esac
}

first_mailbox() {
	mailbox=${AVIARY_MAILBOX:-}
	[ -n "$mailbox" ] || return 0
	case $mailbox in
	*@*) ;;
	*)
		[ -n "${AVIARY_DOMAIN:-}" ] ||
			fail "AVIARY_MAILBOX '$mailbox' has no domain: set AVIARY_DOMAIN"
		mailbox=$mailbox@$AVIARY_DOMAIN
		;;
	esac
	status_of av_admin mailbox show "$mailbox" >/dev/null 2>&1
	case $st in
	0)
		log "mailbox $mailbox exists (password unchanged)"
		return 0
		;;
	"$EX_NOUSER") ;;
	*) fail "mailbox show $mailbox: aviary-admin exit $st" ;;
	esac
	if [ -n "${AVIARY_MAILBOX_PASSWORD_FILE:-}" ]; then
		[ -r "$AVIARY_MAILBOX_PASSWORD_FILE" ] ||
			fail "AVIARY_MAILBOX_PASSWORD_FILE: cannot read $AVIARY_MAILBOX_PASSWORD_FILE"
		av_admin mailbox add "$mailbox" --password-stdin \
		    <"$AVIARY_MAILBOX_PASSWORD_FILE" >/dev/null
	elif [ -n "${AVIARY_MAILBOX_PASSWORD:-}" ]; then
		# printf is built into the shell: no process shows the password.
		printf '%s\n' "$AVIARY_MAILBOX_PASSWORD" |
			av_admin mailbox add "$mailbox" --password-stdin >/dev/null
	else
		fail "mailbox $mailbox needs a password:" \
		    "set AVIARY_MAILBOX_PASSWORD_FILE"
	fi
	log "mailbox $mailbox added"
}

directories() {
	run=${AVIARY_RUN_DIR:-/run/aviary}
	if [ ! -d "$run" ]; then
		mkdir -p "$run"
		chmod 0755 "$run"
	fi
	root=${AVIARY_MAIL_ROOT:-/var/mail/vhosts}
	if [ ! -d "$root" ]; then
		mkdir -p "$root"
		chown "${AVIARY_MAIL_USER:-vmail}:${AVIARY_MAIL_GROUP:-vmail}" "$root"
		chmod 0750 "$root"
		log "made $root"
	fi
}

case ${1:-} in
'') ;;
health) health ;;
*) exec "$@" ;;
esac

[ -x "$sbin/aviaryd" ] || fail "$sbin/aviaryd: not found (AVIARY_SBIN)"
[ -x "$admin" ] || fail "$admin: not found (AVIARY_ADMIN)"
[ -r "$config" ] || fail "$config: cannot read the configuration (AVIARY_CONFIG)"
# A broken configuration stops here, with its file and line.
"$sbin/aviaryd" --check -c "$config" >/dev/null ||
	fail "$config is not valid (see above)"
wait_for_database
av_admin db migrate >&2
first_domain
first_mailbox
unset AVIARY_MAILBOX_PASSWORD
directories
log "starting $sbin/aviaryd"
exec "$sbin/aviaryd" -F -c "$config"
