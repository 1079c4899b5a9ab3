# install.mk -- `make install`: the tree docs/install.md describes, below
# $(DESTDIR)$(PREFIX) (programs, schema, Postfix maps, fail2ban files,
# documentation, the man pages of man/) and $(DESTDIR) (/etc/aviary, the
# systemd unit). The programs come from $(B) (B=build/san works too). The
# configuration example is installed only when no aviary.yaml exists yet:
# an edited /etc/aviary/aviary.yaml is never overwritten.

INSTALL		?= install
SYSCONFDIR	?= /etc/aviary
UNITDIR		?= /lib/systemd/system
I_SBIN		:= $(DESTDIR)$(PREFIX)/sbin
I_BIN		:= $(DESTDIR)$(PREFIX)/bin
I_SHARE		:= $(DESTDIR)$(PREFIX)/share/aviary
I_DOC		:= $(DESTDIR)$(PREFIX)/share/doc/aviary
I_MAN		:= $(DESTDIR)$(PREFIX)/share/man
I_ETC		:= $(DESTDIR)$(SYSCONFDIR)
I_UNIT		:= $(DESTDIR)$(UNITDIR)

install: all
	$(E) "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)$(INSTALL) -d -m 0755 $(I_SBIN) $(I_BIN) $(I_SHARE)/schema \
	    $(I_SHARE)/postfix $(I_SHARE)/fail2ban/filter.d \
	    $(I_SHARE)/fail2ban/jail.d $(I_DOC) $(I_MAN)/man5 $(I_MAN)/man8 \
	    $(I_UNIT)
	$(Q)$(INSTALL) -m 0755 $(B)/aviaryd $(B)/aviary-auth $(B)/aviary-lmtp \
	    $(B)/aviary-pop3 $(B)/aviary-imap \
	    $(I_SBIN)/
	$(Q)$(INSTALL) -m 0755 $(B)/aviary-admin $(I_BIN)/
	$(Q)$(INSTALL) -m 0644 schema/*.sql $(I_SHARE)/schema/
	$(Q)$(INSTALL) -m 0644 conf/postfix/*.cf $(I_SHARE)/postfix/
	$(Q)$(INSTALL) -m 0644 conf/fail2ban/filter.d/aviary.conf \
	    $(I_SHARE)/fail2ban/filter.d/
	$(Q)$(INSTALL) -m 0644 conf/fail2ban/jail.d/aviary.local \
	    $(I_SHARE)/fail2ban/jail.d/
	$(Q)$(INSTALL) -m 0644 README.md docs/*.md $(I_DOC)/
	$(Q)for f in man/*.[58]; do \
	    d=$(I_MAN)/man$${f##*.}/$${f#man/}; \
	    sed -e 's|/usr/local/|$(PREFIX)/|g' \
	        -e 's|/etc/aviary/|$(SYSCONFDIR)/|g' $$f >$$d.tmp && \
	    chmod 0644 $$d.tmp && mv -f $$d.tmp $$d || exit 1; \
	done
	$(Q)sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' \
	    -e 's|/etc/aviary/|$(SYSCONFDIR)/|g' \
	    conf/systemd/aviary.service >$(I_UNIT)/aviary.service.tmp
	$(Q)chmod 0644 $(I_UNIT)/aviary.service.tmp
	$(Q)mv -f $(I_UNIT)/aviary.service.tmp $(I_UNIT)/aviary.service
	$(Q)[ -d $(I_ETC) ] || $(INSTALL) -d -m 0755 $(I_ETC)
	$(Q)if [ -e $(I_ETC)/aviary.yaml ]; then \
	    echo "  KEEP    $(I_ETC)/aviary.yaml (exists; example not installed)"; \
	else \
	    $(INSTALL) -m 0640 conf/aviary.yaml $(I_ETC)/aviary.yaml; \
	fi

.PHONY: install
