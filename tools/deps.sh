#!/bin/bash
# Install the Debian packages that building, running and testing Aviary
# need, when any is missing. Used by `make run`, `make test` and .ci/run.
# Needs root to install; otherwise it names what is missing and fails.
set -eu
PKGS="gcc make pkg-config libc6-dev libmariadb-dev libssl-dev libcrypt-dev
libyaml-dev libcmocka-dev mariadb-server mariadb-client python3
python3-pytest python3-yaml clang libclang-rt-14-dev openssl procps
postfix postfix-mysql swaks fail2ban curl fetchmail isync dovecot-imapd
dovecot-lmtpd dovecot-pop3d groff-base"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# The mariadb-server package would start the system's MariaDB; ours runs
# privately under ./var, so keep the package from starting services.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
# Postfix: no system configuration (the tests run private instances).
if echo "$missing" | grep -qw postfix; then
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
fi
rc=0
apt-get install -y -q --no-install-recommends $missing || rc=$?
[ "$made_policy" = 1 ] && rm -f "$policy"
exit $rc
