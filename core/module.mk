# core/module.mk -- libaviary-core.a (no mail knowledge), libaviary-mail.a
# (mail knowledge, no protocol), libaviary-sql.a (MariaDB access; linked
# only by aviary-auth and aviary-admin, the processes that hold SQL
# credentials).
CORE_SRCS := \
	core/lib/arena.c \
	core/lib/base64.c \
	core/lib/buf.c \
	core/lib/conf.c \
	core/lib/ev.c \
	core/lib/lineio.c \
	core/lib/log.c \
	core/lib/lru.c \
	core/lib/mem.c \
	core/lib/net.c \
	core/lib/proc.c \
	core/lib/sock.c \
	core/lib/str.c \
	core/lib/tls.c \
	core/lib/tstream.c \
	core/lib/units.c
MAIL_SRCS := \
	core/mail/addr.c \
	core/mail/authclient.c \
	core/mail/config.c \
	core/mail/folders.c \
	core/mail/imapfmt.c \
	core/mail/keywords.c \
	core/mail/loginsvc.c \
	core/mail/maildir.c \
	core/mail/mime.c \
	core/mail/mime_rfc822.c \
	core/mail/mime_search.c \
	core/mail/mutf7.c \
	core/mail/password.c \
	core/mail/uidlist.c \
	core/mail/userdb_client.c
SQL_SRCS := \
	core/sql/db.c

CORE_OBJS := $(CORE_SRCS:%.c=$(B)/%.o)
MAIL_OBJS := $(MAIL_SRCS:%.c=$(B)/%.o)
SQL_OBJS := $(SQL_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(CORE_OBJS) $(MAIL_OBJS) $(SQL_OBJS)

$(CORE_OBJS): CPPFLAGS += $(call pc,--cflags,yaml-0.1)
$(SQL_OBJS): CPPFLAGS += $(call pc,--cflags,libmariadb)
$(B)/core/lib/tls.o: CPPFLAGS += $(call pc,--cflags,openssl)

# OpenSSL for tls.c: every binary links it; the login processes use it.
CORE_LIBS := $(call pc,--libs,yaml-0.1) $(call pc,--libs,openssl)
MAIL_LIBS := $(call pc,--libs,libcrypt)
SQL_LIBS := $(call pc,--libs,libmariadb)

$(B)/libaviary-core.a: $(CORE_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(B)/libaviary-mail.a: $(MAIL_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(B)/libaviary-sql.a: $(SQL_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
