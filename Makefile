# Makefile -- the only one. Fragments (*/module.mk) append to ALL_OBJS,
# BINS and the test lists; nothing recurses. See docs/development.md.
#
# Knobs: SAN=1 (ASan+UBSan, objects in build/san), DEBUG=1 (-O0),
#        V=1 (show commands), PREFIX=/usr/local, DESTDIR=.
# Targets: all check check-integration test run fuzz fuzz-run lint bench
#          install (PREFIX, DESTDIR: see docs/install.md)
#          deps clean distclean

ifdef SAN
B	?= build/san
else
B	?= build
endif
CC	?= cc
PYTHON	?= /usr/bin/python3
PREFIX	?= /usr/local
ifdef DEBUG
CFLAGS	?= -O0 -g
else
CFLAGS	?= -O2 -g
endif
WARN	:= -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla \
	   -Wimplicit-fallthrough -Werror=implicit-function-declaration -Werror
HARDEN	:= -fstack-protector-strong -fPIE
ifndef SAN
HARDEN	+= -D_FORTIFY_SOURCE=2
endif
CPPFLAGS += -Icore/include -D_GNU_SOURCE -MMD -MP
LDFLAGS	+= -pie -Wl,-z,relro,-z,now
ifdef SAN
CFLAGS	+= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif
ifeq ($(V),)
Q := @
E := @echo
else
Q :=
E := @:
endif
pc = $(shell pkg-config $(1) $(2))

BINS		:=
ALL_OBJS	:=
UNIT_TESTS	:=
FUZZERS		:=

all:		# real prerequisites are added by the fragments

include core/module.mk
include admin/module.mk
include auth-sql/module.mk
include delivery/module.mk
include imap/module.mk
include pop3/module.mk
include master/module.mk
include bench/module.mk
include tests/module.mk
include install.mk

all: $(BINS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(E) "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(HARDEN) -c -o $@ $<

# deps: install the Debian packages the build and the tests need (as
# root; apt-get update first). Prints what is missing otherwise.
deps:
	$(Q)tools/deps.sh

# test: everything, under AddressSanitizer + UBSan, as CI runs it.
test: deps
	$(Q)$(MAKE) --no-print-directory SAN=1 all unit-tests
	$(Q)$(MAKE) --no-print-directory SAN=1 check
	$(Q)$(MAKE) --no-print-directory fuzz-run
	$(Q)$(MAKE) --no-print-directory SAN=1 check-integration

# check-integration: pytest against real MariaDB and our binaries in $(B).
check-integration: all
	$(Q)AVIARY_BUILD=$(abspath $(B)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# run: the whole platform in the foreground on loopback (see README).
run: deps all
	$(Q)$(PYTHON) tools/devstack.py run --build $(B)

distclean: clean
	rm -rf var

clean:
	rm -rf build

lint:
	$(Q)tools/lint.sh

-include $(ALL_OBJS:.o=.d)
.PHONY: all check check-integration test run deps fuzz fuzz-run lint \
	clean distclean unit-tests
