# imap/module.mk -- aviary-imap: the command parser (pure, no I/O; see
# imap/README.md) and the server. Tests link the parser's objects
# explicitly, as the LMTP parser's do; tests/module.mk keeps these
# binaries out of its generic link rule.
IMAP_PARSE_SRCS := \
	imap/imap_args.c \
	imap/imap_cmds.c \
	imap/imap_fetchatt.c \
	imap/imap_parse.c \
	imap/imap_search.c \
	imap/imap_write.c

IMAP_PARSE_OBJS := $(IMAP_PARSE_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(IMAP_PARSE_OBJS)
all: $(IMAP_PARSE_OBJS)

# Pattern-specific, so it holds in $(B) and in the fuzz build directory
# whatever they are called.
%/tests/unit/test_imap_parse.o %/tests/fuzz/fuzz_imap_parse.o: \
    CPPFLAGS += -Iimap

UNIT_IMAP_BINS := $(B)/tests/unit/test_imap_parse
FUZZ_IMAP_REPLAYS := $(B)/tests/fuzz/fuzz_imap_parse_replay

$(B)/tests/unit/test_imap_parse: $(B)/tests/unit/test_imap_parse.o \
    $(IMAP_PARSE_OBJS) $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(CMOCKA_LIBS)

$(B)/tests/fuzz/fuzz_imap_parse_replay: $(B)/tests/fuzz/fuzz_imap_parse.o \
    $(B)/tests/fuzz/fuzz_replay.o $(IMAP_PARSE_OBJS) $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

# The server: the parser's objects plus the connection, the login half
# (imap_login.c: no mail-store access, make lint checks it) and the
# session half.
IMAP_SRV_SRCS := \
	imap/imap_conn.c \
	imap/imap_fetch.c \
	imap/imap_login.c \
	imap/imap_mbox.c \
	imap/imap_mboxcmd.c \
	imap/imap_searchrun.c \
	imap/imap_session.c \
	imap/main.c

IMAP_SRV_OBJS := $(IMAP_SRV_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(IMAP_SRV_OBJS)
BINS += $(B)/aviary-imap

$(B)/aviary-imap: $(IMAP_SRV_OBJS) $(IMAP_PARSE_OBJS) $(B)/libaviary-mail.a \
    $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)
