#!/bin/sh
# docker/postfix/entrypoint.sh - configure Postfix with the shipped
# conf/postfix/ files and run it in the foreground (docker/README.md).
#
#   main.cf    = docker/postfix/main.cf + conf/postfix/main.cf (verbatim),
#                then myhostname (and a self-signed certificate when
#                none is in the certs volume) set with postconf -e
#   master.cf  = Debian's master.cf + conf/postfix/master.cf (verbatim);
#                the chrooted services get their files in the queue
#                directory from Debian's configure-instance.sh, as
#                postfix.service does on a Debian host
#   maps       = conf/postfix/mysql-*.cf in <config>/aviary/, their hosts
#                and password lines set (0640 root:postfix)
#
# Environment (defaults are the image's paths, so the script also runs
# outside a container, as tests/integration/test_docker_files.py does):
#   POSTFIX_CONFIG_DIR     /etc/postfix
#   AVIARY_POSTFIX_FILES   /usr/local/share/aviary/postfix (conf/postfix/)
#   POSTFIX_BASE_MAIN_CF   /usr/local/share/aviary/docker/postfix-main.cf
#   POSTFIX_BASE_MASTER_CF /usr/share/postfix/master.cf.dist
#   MAIL_HOSTNAME          the host name in greetings (default: hostname)
#   DB_HOST                inet:mariadb:3306 (Postfix mysql_table "hosts")
#   DB_PASSWORD_FILE       /run/secrets/db-postfix (aviary_postfix)
#   POSTFIX_START          yes; "no" writes the configuration and stops
set -eu

dir=${POSTFIX_CONFIG_DIR:-/etc/postfix}
files=${AVIARY_POSTFIX_FILES:-/usr/local/share/aviary/postfix}
base_main=${POSTFIX_BASE_MAIN_CF:-/usr/local/share/aviary/docker/postfix-main.cf}
base_master=${POSTFIX_BASE_MASTER_CF:-/usr/share/postfix/master.cf.dist}
db_host=${DB_HOST:-inet:mariadb:3306}
db_password_file=${DB_PASSWORD_FILE:-/run/secrets/db-postfix}

log() {
	printf 'postfix-entrypoint: %s\n' "$*" >&2
}

fail() {
	log "error: $*"
	exit 1
}

pconf() {
	postconf -c "$dir" "$@"
}

for f in "$base_main" "$base_master" "$files/main.cf" "$files/master.cf"; do
	[ -r "$f" ] || fail "cannot read $f"
done
[ -r "$db_password_file" ] || fail "cannot read $db_password_file (DB_PASSWORD_FILE)"
mkdir -p "$dir"

# main.cf and master.cf, written next to the old ones and renamed over
# them, so that a failure leaves the previous configuration.
{
	cat "$base_main"
	printf '\n# ---- conf/postfix/main.cf (Aviary), verbatim\n'
	cat "$files/main.cf"
} >"$dir/main.cf.new"
{
	cat "$base_master"
	printf '\n# ---- conf/postfix/master.cf (Aviary), verbatim\n'
	cat "$files/master.cf"
} >"$dir/master.cf.new"
chmod 0644 "$dir/main.cf.new" "$dir/master.cf.new"
mv -f "$dir/main.cf.new" "$dir/main.cf"
mv -f "$dir/master.cf.new" "$dir/master.cf"

pconf -e "myhostname = ${MAIL_HOSTNAME:-$(hostname)}"

# A certificate from the certs volume, or a self-signed one for now.
cert=$(pconf -h smtpd_tls_cert_file)
key=$(pconf -h smtpd_tls_key_file)
if [ ! -r "$cert" ] || [ ! -r "$key" ]; then
	self="$dir/selfsigned"
	if [ ! -r "$self/cert.pem" ] || [ ! -r "$self/key.pem" ]; then
		mkdir -p "$self"
		chmod 0700 "$self"
		openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
		    -subj "/CN=$(pconf -h myhostname)" \
		    -keyout "$self/key.pem" -out "$self/cert.pem" 2>/dev/null
		chmod 0600 "$self/key.pem"
	fi
	log "warning: no certificate at $cert, using a self-signed one"
	pconf -e "smtpd_tls_cert_file = $self/cert.pem" \
	    "smtpd_tls_key_file = $self/key.pem"
fi

# The map files: only the hosts and password lines change. The password
# is read by awk from its file, never put on a command line.
maps="$dir/aviary"
mkdir -p "$maps"
chmod 0750 "$maps"
for src in "$files"/mysql-*.cf; do
	[ -r "$src" ] || fail "no map files in $files"
	dst="$maps/${src##*/}"
	(
		umask 077
		awk -v host="$db_host" -v pwfile="$db_password_file" '
			BEGIN {
				if ((getline pw < pwfile) <= 0) {
					print "cannot read " pwfile > "/dev/stderr"
					exit 2
				}
			}
			/^hosts = / { print "hosts = " host; next }
			/^password = / { print "password = " pw; next }
			{ print }
		' "$src" >"$dst.new"
	)
	mv -f "$dst.new" "$dst"
done
if getent group postfix >/dev/null; then
	chown root:postfix "$maps" "$maps"/*.cf
	chmod 0640 "$maps"/*.cf
fi

if [ "${POSTFIX_START:-yes}" = no ]; then
	log "configuration written to $dir"
	exit 0
fi

# The private/ directory is a volume shared with the aviary container
# (its sockets auth and aviary-lmtp): Postfix's own, mode 0700.
queue=$(pconf -h queue_directory)
mkdir -p "$queue/private"
chown postfix "$queue/private"
chmod 0700 "$queue/private"
if [ -r /etc/aliases ]; then
	postalias -c "$dir" hash:/etc/aliases
fi
MAIL_CONFIG=$dir /usr/lib/postfix/configure-instance.sh -
postfix -c "$dir" check
exec postfix -c "$dir" start-fg
