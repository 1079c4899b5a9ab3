# bench/module.mk -- benchmark tools (not part of `all`): `make bench`.
$(B)/bench/auth_bench: bench/auth/auth_bench.c $(B)/libaviary-core.a
	@mkdir -p $(@D)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $^ -lpthread

bench: all $(B)/bench/auth_bench
	$(Q)$(PYTHON) bench/auth/run.py --build $(B)
	$(Q)$(PYTHON) bench/lmtp/run.py --build $(B)
	$(Q)$(PYTHON) bench/pop3/run.py --build $(B)
	$(Q)$(PYTHON) bench/imap/run.py --build $(B)
.PHONY: bench
