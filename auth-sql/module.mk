# auth-sql/module.mk -- aviary-auth. The only daemon that links the SQL
# library and holds database credentials (the auth account).
AUTH_SRCS := \
	auth-sql/authd.c \
	auth-sql/authproto.c \
	auth-sql/client_conn.c \
	auth-sql/main.c \
	auth-sql/mech.c \
	auth-sql/passdb.c \
	auth-sql/pool.c \
	auth-sql/userdb_conn.c

AUTH_OBJS := $(AUTH_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(AUTH_OBJS)
BINS += $(B)/aviary-auth

$(AUTH_OBJS): CPPFLAGS += -Iauth-sql $(call pc,--cflags,libmariadb openssl)

$(B)/aviary-auth: $(AUTH_OBJS) $(B)/libaviary-sql.a $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SQL_LIBS) $(MAIL_LIBS) $(CORE_LIBS) $(call pc,--libs,libcrypto) -lpthread
