# admin/module.mk -- aviary-admin, the provisioning CLI. Links the SQL
# library: it holds the admin database account's password.
ADMIN_SRCS := \
	admin/cmd_alias.c \
	admin/cmd_auth.c \
	admin/cmd_db.c \
	admin/cmd_domain.c \
	admin/cmd_import.c \
	admin/cmd_mailbox.c \
	admin/cmd_pw.c \
	admin/cmd_setup.c \
	admin/main.c \
	admin/output.c \
	admin/prompt.c
MIGRATIONS := \
	schema/001_init.sql \
	schema/002_sender_login.sql

ADMIN_OBJS := $(ADMIN_SRCS:%.c=$(B)/%.o) $(B)/gen/migrations.o
ALL_OBJS += $(ADMIN_OBJS)
BINS += $(B)/aviary-admin

$(ADMIN_OBJS): CPPFLAGS += -Iadmin $(call pc,--cflags,libmariadb)

$(B)/tools/embedsql: tools/embedsql.c
	@mkdir -p $(@D)
	$(E) "  HOSTCC  $<"
	$(Q)$(CC) -O1 -o $@ $<

# admin/module.mk too: a migration added to the list must regenerate it.
$(B)/gen/migrations.c: $(MIGRATIONS) $(B)/tools/embedsql admin/module.mk
	@mkdir -p $(@D)
	$(E) "  GEN     $@"
	$(Q)$(B)/tools/embedsql $@ $(MIGRATIONS)

$(B)/gen/migrations.o: $(B)/gen/migrations.c
	$(E) "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -Wno-overlength-strings $(HARDEN) -c -o $@ $<

$(B)/aviary-admin: $(ADMIN_OBJS) $(B)/libaviary-sql.a $(B)/libaviary-mail.a $(B)/libaviary-core.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SQL_LIBS) $(MAIL_LIBS) $(CORE_LIBS)
