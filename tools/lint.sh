#!/bin/bash
# make lint: the house rules that a compiler does not check
# (reference/style.md 3.10): banned functions, raw malloc outside mem.c,
# VLAs are caught by -Wvla. Prints offending lines; exits 1 if any.
set -u
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' | grep -v '^tools/' )
bad=0
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|system|popen|alloca|mktemp|tmpnam|longjmp|setjmp)[[:space:]]*\(' $files; then
	echo "lint: banned function (see docs/development.md)" >&2
	bad=1
fi
if grep -nE '\b(malloc|calloc|realloc)[[:space:]]*\(' $files | grep -v '^core/lib/mem.c:' | grep -vE 'x(malloc|calloc|realloc)'; then
	echo "lint: raw allocation outside core/lib/mem.c" >&2
	bad=1
fi
# DESIGN.md's target separation: the code that faces a client before it
# has logged in must not reach the mail store.
preauth="pop3/pop3_login.c imap/imap_login.c"
if grep -nE '#include[[:space:]]+"(aviary/(maildir|uidlist|userdb_client|folders|keywords|mime)|imap_session)\.h"' $preauth; then
	echo "lint: pre-authentication code includes a mail-store header" >&2
	bad=1
fi
exit $bad
