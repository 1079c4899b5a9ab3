# tests/module.mk -- unit tests (cmocka), fuzz harnesses (libFuzzer) and
# the corpus replay that turns every fuzz input into a regression test.
#
#   make unit-tests   one cmocka binary per tests/unit/test_*.c, in $(B)
#   make check        runs them, then replays every corpus through a
#                     gcc-built replay binary (ASan too under SAN=1)
#   make fuzz         clang -fsanitize=fuzzer,address,undefined harnesses
#                     in build/fuzz (whatever B is: clang, not the gcc
#                     archives, so the core sources are compiled again)
#   make fuzz-run     each harness for FUZZ_TIME seconds on a copy of its
#                     corpus; the committed corpus never grows by itself
UNIT_SRCS := \
	tests/unit/test_addr.c \
	tests/unit/test_arena.c \
	tests/unit/test_authd.c \
	tests/unit/test_authproto.c \
	tests/unit/test_base64.c \
	tests/unit/test_buf.c \
	tests/unit/test_conf.c \
	tests/unit/test_ev.c \
	tests/unit/test_folders.c \
	tests/unit/test_imap_parse.c \
	tests/unit/test_keywords.c \
	tests/unit/test_lineio.c \
	tests/unit/test_lmtp_parse.c \
	tests/unit/test_lru.c \
	tests/unit/test_maildir.c \
	tests/unit/test_mech.c \
	tests/unit/test_mime.c \
	tests/unit/test_mutf7.c \
	tests/unit/test_password.c \
	tests/unit/test_pop3_parse.c \
	tests/unit/test_str.c \
	tests/unit/test_tls.c \
	tests/unit/test_uidlist.c \
	tests/unit/test_units.c
FUZZ_SRCS := \
	tests/fuzz/fuzz_addr.c \
	tests/fuzz/fuzz_authproto.c \
	tests/fuzz/fuzz_conf_yaml.c \
	tests/fuzz/fuzz_imap_parse.c \
	tests/fuzz/fuzz_keywords.c \
	tests/fuzz/fuzz_lmtp.c \
	tests/fuzz/fuzz_maildir_name.c \
	tests/fuzz/fuzz_mime.c \
	tests/fuzz/fuzz_mutf7.c \
	tests/fuzz/fuzz_pop3.c \
	tests/fuzz/fuzz_uidlist.c
FUZZ_REPLAY_SRC := tests/fuzz/fuzz_replay.c

FUZZ_TIME	?= 12
FUZZ_CC		?= clang
FUZZ_B		:= build/fuzz
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link \
		   $(FUZZ_SAN)
FUZZ_LDFLAGS	:= -fsanitize=fuzzer $(FUZZ_SAN)
CMOCKA_LIBS	:= $(call pc,--libs,cmocka)

# UNIT_TESTS and FUZZERS are shared lists (the top Makefile); the rules
# here build only this file's entries, the targets run all of them.
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
UNIT_TESTS += $(UNIT_BINS)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_REPLAY_OBJS := $(FUZZ_SRCS:%.c=$(B)/%.o) $(FUZZ_REPLAY_SRC:%.c=$(B)/%.o)
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(B)/tests/fuzz/%_replay)
ALL_OBJS += $(UNIT_OBJS) $(FUZZ_REPLAY_OBJS)

# Tests of aviary-auth modules. auth-sql/ has no archive, so each of
# these links the objects it tests (built by auth-sql/module.mk, with
# that module's flags) ahead of the archives: explicit rules below.
UNIT_AUTH_BINS := \
	$(B)/tests/unit/test_authd \
	$(B)/tests/unit/test_authproto \
	$(B)/tests/unit/test_mech
FUZZ_AUTH_REPLAYS := \
	$(B)/tests/fuzz/fuzz_authproto_replay
AUTH_TEST_OBJS := $(UNIT_AUTH_BINS:%=%.o) \
	$(B)/tests/fuzz/fuzz_authproto.o \
	$(FUZZ_B)/obj/tests/fuzz/fuzz_authproto.o

# Tests of aviary-lmtp's pure parser, likewise linked with its object.
# aviary-pop3's parser the same way.
UNIT_POP3_BINS := $(B)/tests/unit/test_pop3_parse
FUZZ_POP3_REPLAYS := $(B)/tests/fuzz/fuzz_pop3_replay
POP3_TEST_OBJS := $(UNIT_POP3_BINS:%=%.o) $(B)/tests/fuzz/fuzz_pop3.o \
	$(FUZZ_B)/obj/tests/fuzz/fuzz_pop3.o
UNIT_LMTP_BINS := $(B)/tests/unit/test_lmtp_parse
FUZZ_LMTP_REPLAYS := $(B)/tests/fuzz/fuzz_lmtp_replay
LMTP_TEST_OBJS := $(UNIT_LMTP_BINS:%=%.o) $(B)/tests/fuzz/fuzz_lmtp.o \
	$(FUZZ_B)/obj/tests/fuzz/fuzz_lmtp.o

# The libFuzzer side: its own objects, archive and dependency files.
# Only what the harnesses reach, so a new daemon-side source never
# breaks the clang build; the auth-sql/ entries are the pure parsers,
# which need neither OpenSSL nor MariaDB (authd.c does, so it stays out).
FUZZ_LIB_SRCS := \
	auth-sql/authproto.c \
	auth-sql/mech.c \
	delivery/lmtp_parse.c \
	pop3/pop3_parse.c \
	imap/imap_args.c \
	imap/imap_cmds.c \
	imap/imap_fetchatt.c \
	imap/imap_parse.c \
	imap/imap_search.c \
	imap/imap_write.c \
	core/lib/arena.c \
	core/lib/base64.c \
	core/lib/buf.c \
	core/lib/conf.c \
	core/lib/log.c \
	core/lib/mem.c \
	core/lib/str.c \
	core/lib/units.c \
	core/mail/addr.c \
	core/mail/config.c \
	core/mail/folders.c \
	core/mail/imapfmt.c \
	core/mail/keywords.c \
	core/mail/maildir.c \
	core/mail/mime.c \
	core/mail/mime_rfc822.c \
	core/mail/mime_search.c \
	core/mail/mutf7.c \
	core/mail/password.c \
	core/mail/uidlist.c
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_B)/%)
FUZZERS += $(FUZZ_BINS)
FUZZ_RUNS := $(FUZZ_NAMES:%=fuzz-run-%)

$(UNIT_OBJS): CPPFLAGS += $(call pc,--cflags,cmocka)
$(AUTH_TEST_OBJS): CPPFLAGS += -Iauth-sql
$(LMTP_TEST_OBJS): CPPFLAGS += -Idelivery
$(POP3_TEST_OBJS): CPPFLAGS += -Ipop3

unit-tests: $(UNIT_TESTS) $(B)/tests/authclient_probe

# The driver of tests/integration/test_mime_dovecot.py (and of the
# parse + BODYSTRUCTURE timing in docs/architecture.md).
ALL_OBJS += $(B)/tests/mime_probe.o
unit-tests: $(B)/tests/mime_probe
check-integration: $(B)/tests/mime_probe
$(B)/tests/mime_probe: $(B)/tests/mime_probe.o $(B)/libaviary-mail.a \
    $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)

# The driver of tests/integration/test_authclient.py.
ALL_OBJS += $(B)/tests/integration/authclient_probe.o
$(B)/tests/authclient_probe: $(B)/tests/integration/authclient_probe.o \
    $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)

$(filter-out $(UNIT_AUTH_BINS) $(UNIT_LMTP_BINS) $(UNIT_IMAP_BINS) $(UNIT_POP3_BINS),$(UNIT_BINS)): \
    $(B)/tests/unit/%: \
    $(B)/tests/unit/%.o $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS) $(CMOCKA_LIBS)

# authd.o brings the penalty table (lru.c, ev.c) and HMAC (libcrypto).
$(B)/tests/unit/test_authd: $(B)/tests/unit/test_authd.o \
    $(B)/auth-sql/authd.o $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(call pc,--libs,libcrypto) \
	    $(CMOCKA_LIBS)

$(B)/tests/unit/test_authproto: $(B)/tests/unit/test_authproto.o \
    $(B)/auth-sql/authproto.o $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(CMOCKA_LIBS)

$(B)/tests/unit/test_mech: $(B)/tests/unit/test_mech.o \
    $(B)/auth-sql/mech.o
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

$(B)/tests/unit/test_lmtp_parse: $(B)/tests/unit/test_lmtp_parse.o \
    $(B)/delivery/lmtp_parse.o $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(CMOCKA_LIBS)

$(B)/tests/unit/test_pop3_parse: $(B)/tests/unit/test_pop3_parse.o \
    $(B)/pop3/pop3_parse.o $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(CMOCKA_LIBS)

$(B)/tests/fuzz/fuzz_pop3_replay: $(B)/tests/fuzz/fuzz_pop3.o \
    $(B)/tests/fuzz/fuzz_replay.o $(B)/pop3/pop3_parse.o \
    $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

$(B)/tests/fuzz/fuzz_lmtp_replay: $(B)/tests/fuzz/fuzz_lmtp.o \
    $(B)/tests/fuzz/fuzz_replay.o $(B)/delivery/lmtp_parse.o \
    $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

$(filter-out $(FUZZ_AUTH_REPLAYS) $(FUZZ_LMTP_REPLAYS) $(FUZZ_IMAP_REPLAYS) $(FUZZ_POP3_REPLAYS),$(FUZZ_REPLAYS)): \
    $(B)/tests/fuzz/%_replay: $(B)/tests/fuzz/%.o \
    $(B)/tests/fuzz/fuzz_replay.o $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)

$(B)/tests/fuzz/fuzz_authproto_replay: $(B)/tests/fuzz/fuzz_authproto.o \
    $(B)/tests/fuzz/fuzz_replay.o $(B)/auth-sql/authproto.o \
    $(B)/auth-sql/mech.o $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

# Every unit binary runs even after one fails, so one report shows all
# failures; then each corpus is replayed under the same SAN setting.
check: unit-tests $(FUZZ_REPLAYS)
	$(Q)fail=0; for t in $(UNIT_TESTS); do \
		echo "  TEST    $$t"; \
		$$t || { echo "  FAIL    $$t" >&2; fail=1; }; \
	done; exit $$fail
	$(Q)for f in $(FUZZ_NAMES); do \
		echo "  REPLAY  tests/fuzz/corpus/$$f"; \
		$(B)/tests/fuzz/$${f}_replay tests/fuzz/corpus/$$f || exit 1; \
	done

# The same warning set as gcc, -Werror included: clang's -Wformat=2
# flags vsnprintf(fmt) in a va_list helper unless the helper is declared
# printf-like, and log_emit() is, with AV_PRINTFLIKE(3, 0).
FUZZ_WARN := $(WARN)

$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(E) "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(call pc,--cflags,yaml-0.1) $(FUZZ_CFLAGS) \
	    $(FUZZ_WARN) -c -o $@ $<

$(FUZZ_B)/libaviary-fuzz.a: $(FUZZ_LIB_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_B)/%: $(FUZZ_B)/obj/tests/fuzz/%.o \
    $(FUZZ_B)/libaviary-fuzz.a
	$(E) "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)

fuzz: $(FUZZERS)

# One target per harness, so `make -j fuzz-run` runs them side by side.
# libFuzzer adds what it finds to the first corpus directory: that is a
# copy under build/, and crash/leak/timeout inputs land beside it.
fuzz-run: $(FUZZ_RUNS)

$(FUZZ_RUNS): fuzz-run-%: $(FUZZ_B)/%
	$(Q)d=$(FUZZ_B)/run/$*; rm -rf $$d && mkdir -p $$d/corpus && \
	cp tests/fuzz/corpus/$*/* $$d/corpus/ && \
	echo "  FUZZ    $* for $(FUZZ_TIME)s (log: $$d/log)" && \
	if $(FUZZ_B)/$* -max_total_time=$(FUZZ_TIME) -timeout=10 \
	    -dict=tests/fuzz/$*.dict -artifact_prefix=$$d/ \
	    $$d/corpus >$$d/log 2>&1; then \
		grep -h '^Done ' $$d/log; \
	else \
		tail -n 40 $$d/log; \
		echo "fuzz-run: $* failed; the input is in $$d/" >&2; \
		exit 1; \
	fi

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
.PHONY: $(FUZZ_RUNS)

# The integration suite drives this probe too.
check-integration: $(B)/tests/authclient_probe
