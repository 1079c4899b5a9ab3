# master/module.mk -- aviaryd, the supervisor. It links neither the SQL
# library nor OpenSSL: it holds no secrets and talks to no client; it
# only needs the configuration table (libaviary-mail) and the core.
MASTER_SRCS := \
	master/daemon.c \
	master/listener.c \
	master/logfwd.c \
	master/main.c \
	master/spawn.c \
	master/supervisor.c

MASTER_OBJS := $(MASTER_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(MASTER_OBJS)
BINS += $(B)/aviaryd

$(MASTER_OBJS): CPPFLAGS += -Imaster

$(B)/aviaryd: $(MASTER_OBJS) $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MAIL_LIBS) $(CORE_LIBS)
