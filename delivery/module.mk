# delivery/module.mk -- aviary-lmtp. No SQL: recipients are looked up
# through aviary-auth's userdb socket.
LMTP_SRCS := \
	delivery/lmtp_conn.c \
	delivery/lmtp_parse.c \
	delivery/main.c

LMTP_OBJS := $(LMTP_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(LMTP_OBJS)
BINS += $(B)/aviary-lmtp

$(LMTP_OBJS): CPPFLAGS += -Idelivery

$(B)/aviary-lmtp: $(LMTP_OBJS) $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)
