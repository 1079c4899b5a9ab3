# pop3/module.mk -- aviary-pop3. No SQL: logins go through aviary-auth's
# client socket, homes through its userdb socket.
POP3_SRCS := \
	pop3/main.c \
	pop3/pop3_conn.c \
	pop3/pop3_login.c \
	pop3/pop3_mail.c \
	pop3/pop3_parse.c

POP3_OBJS := $(POP3_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(POP3_OBJS)
BINS += $(B)/aviary-pop3

$(POP3_OBJS): CPPFLAGS += -Ipop3

$(B)/aviary-pop3: $(POP3_OBJS) $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)
