# SPDX-License-Identifier: GPL-2.0-only
#
# ircontain build.  Out of tree: everything generated goes under $(BUILD)
# (vmlinux.h, BPF objects, skeletons, binaries).  `make asan` builds the same
# tree with ASan+UBSan into $(BUILD)/asan.  V=1 shows full commands.

BUILD		?= build
SAN		?=
CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
VMLINUX_BTF	?= /sys/kernel/btf/vmlinux
ARCH		:= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION		:= $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

PREFIX		?= /usr/local
DESTDIR		?=

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

OUT		:= $(BUILD)$(if $(SAN),/asan)
comma		:= ,
SAN_FLAGS	:= $(if $(SAN),-fsanitize=address$(comma)undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

# libcurl and libmicrohttpd (the fleet, metrics) are dlopen()ed on first
# use like libarchive: their headers only, never linked.
PKGS		:= libbpf libnl-3.0 libnl-route-3.0 jansson yaml-0.1 sqlite3 libsodium libpcap libarchive \
		   libcurl libmicrohttpd
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Start-up time is containment time: every command, `quarantine host`
# included, paid ~5 ms of CPU mapping and relocating 31 shared objects.
# The libraries every command may use are linked in from Debian's static
# archives; libarchive and libpcap (and the 18 objects they pull in) are
# dlopen()ed by userspace/common/lazylib.c when `export`/`verify` first call them.
STATIC_PKGS	:= libbpf libnl-3.0 libnl-route-3.0 jansson yaml-0.1 sqlite3 libsodium
PKG_LIBS	:= -Wl,--as-needed -Wl,-Bstatic \
		   $(filter-out -lpthread -pthread -lm,$(shell pkg-config --static --libs $(STATIC_PKGS) 2>/dev/null)) \
		   -lelf -lz -Wl,-Bdynamic -lm
# The unit tests read bundles and captures back with the libraries directly.
TEST_LIBS	:= $(shell pkg-config --libs libpcap libarchive 2>/dev/null)

# Userspace, in folders that name its parts (each has a README.md: what
# lives there and what it may call): cli/, controller/, evidence/, kernel/,
# common/.  Headers are included by name (`#include "store.h"`), so every
# folder is on the include path.
USER_DIRS	:= $(patsubst %/,%,$(sort $(dir $(wildcard userspace/*/*.c))))
ifneq ($(wildcard userspace/*.c userspace/*.h),)
$(error $(wildcard userspace/*.c userspace/*.h): userspace/ has no files of its own; move them into the folder that fits (userspace/README.md))
endif

CFLAGS		?= -O2 -g
ALL_CFLAGS	:= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
		   -Wformat=2 -Wno-missing-field-initializers \
		   -Iinclude $(addprefix -I,$(USER_DIRS)) -I$(BUILD) $(PKG_CFLAGS) \
		   -DIRC_VERSION='"$(VERSION)"' $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS	:= $(SAN_FLAGS) $(LDFLAGS)

BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		   -Iinclude -Ibpf -I$(BUILD)

BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# Everything but cli/main.c is a library the tests link too.
LIB_SRCS	:= $(filter-out userspace/cli/main.c,$(wildcard userspace/*/*.c))
LIB_OBJS	:= $(patsubst userspace/%.c,$(OUT)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ	:= $(OUT)/obj/cli/main.o
BIN		:= $(OUT)/ircontain

UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS	:= $(wildcard tests/bpf/test_*.c)
BPFT_BINS	:= $(patsubst tests/bpf/%.c,$(OUT)/tests/bpf/%,$(BPFT_SRCS))
# libFuzzer targets: the library again, built by clang with the fuzzer's
# coverage and ASan+UBSan, into $(BUILD)/fuzz.
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OUT	:= $(BUILD)/fuzz
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(FUZZ_SRCS))
FUZZ_OBJS	:= $(patsubst userspace/%.c,$(FUZZ_OUT)/obj/%.o,$(LIB_SRCS))
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS	:= $(filter-out $(SAN_FLAGS),$(ALL_CFLAGS)) -O1 -g $(FUZZ_SAN) -Wno-format-nonliteral
FUZZ_TIME	?= 60
# Programs; the benchmarks' BPF objects (bench_*.bpf.c) are built below.
BENCH_SRCS	:= $(filter-out %.bpf.c,$(wildcard scripts/bench/bench_*.c))
BENCH_BINS	:= $(patsubst scripts/bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))
# The benchmarks' own BPF anchors (a bare hash lookup, a bare drop).
BENCH_BPF	:= $(wildcard scripts/bench/*.bpf.c)
BENCH_SKELS	:= $(patsubst scripts/bench/%.bpf.c,$(BUILD)/%.skel.h,$(BENCH_BPF))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all asan tests check check-kernels check-unit check-bpf check-e2e check-fresh soak bench \
		clean install uninstall deps fuzz fuzz-build bench-build

all: $(BIN)

deps:
	$(Q)scripts/install-deps.sh

asan:
	$(Q)$(MAKE) --no-print-directory SAN=1 all tests

tests: $(BIN) $(UNIT_BINS) $(BPFT_BINS)

# --- BPF ---------------------------------------------------------------
$(BUILD)/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(BUILD)/bench/%.bpf.o: scripts/bench/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BENCH_SKELS): $(BUILD)/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- userspace -----------------------------------------------------------
# The skeletons are order-only: they must exist before the first compile,
# and -MMD's .d files make the files that include them (kernel/loader.c)
# depend on them, so a BPF change recompiles those, not all of userspace.
$(OUT)/obj/%.o: userspace/%.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BIN): $(MAIN_OBJ) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

$(OUT)/tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP $< $(LIB_OBJS) $(ALL_LDFLAGS) $(PKG_LIBS) $(TEST_LIBS) -lcmocka -o $@

$(OUT)/tests/bpf/%: tests/bpf/%.c $(LIB_OBJS) $(SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP $< $(LIB_OBJS) $(ALL_LDFLAGS) $(PKG_LIBS) -lcmocka -o $@

# test_layout compares abi.h as userspace's compiler lays it out (gcc's BTF
# of layout_user.c) with the BPF objects' BTF; layout.bpf.o adds the
# ring-buffer records the programs' BTF does not describe.  Both are read
# beside the test program.
$(OUT)/tests/bpf/layout_user.o: tests/bpf/layout_user.c
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=c11 -Iinclude -gbtf -fno-eliminate-unused-debug-types -MMD -MP -c $< -o $@

$(OUT)/tests/bpf/layout.bpf.o: tests/bpf/layout.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

tests: $(OUT)/tests/bpf/layout_user.o $(OUT)/tests/bpf/layout.bpf.o

$(OUT)/bench/%: scripts/bench/%.c $(LIB_OBJS) $(SKELS) $(BENCH_SKELS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/bpf -MMD -MP $< $(LIB_OBJS) $(ALL_LDFLAGS) $(PKG_LIBS) -o $@

$(FUZZ_OUT)/obj/%.o: userspace/%.c | $(SKELS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_OUT)/%: tests/fuzz/%.c $(FUZZ_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $< $(FUZZ_OBJS) $(PKG_LIBS) -o $@

# --- tests -------------------------------------------------------------
# `make check` is the whole suite: unit and BPF tests in the plain and the
# sanitizer build, then the end-to-end tests against the real kernel.
# Each target here, like `demo`, can be the first command on a fresh
# machine: `deps` installs the libraries first, and the build is a second
# make, which reads their pkg-config flags (this one read them before they
# were installed).  check-unit and check-bpf run both builds, check-e2e the
# plain one; `make check-e2e TESTS="export cli_errors"` runs those scripts
# (tests/e2e/test_NAME.sh) only.
check check-unit check-bpf: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)$(MAKE) --no-print-directory SAN=1 tests
	$(if $(filter check,$@),$(Q)$(MAKE) --no-print-directory fuzz-build bench-build)
	$(Q)tests/run.sh --build $(BUILD) $(if $(filter-out check,$@),--only $(patsubst check-%,%,$@))

check-e2e: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)tests/run.sh --build $(BUILD) --only e2e $(if $(TESTS),--tests "$(TESTS)")

# The README's two commands on a fresh Debian 12 (a debootstrap minbase
# root, this kernel): scripts/check-fresh.sh.  Not part of `make check`.
check-fresh: deps
	$(Q)scripts/check-fresh.sh

# The built tree on Debian 12's kernels under qemu (scripts/check-kernels.sh;
# KERNELS=..., E2E=default|kernel|ci|all|none|names select what runs).
check-kernels: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)scripts/check-kernels.sh

# Each fuzz target for FUZZ_TIME seconds from its seeds in tests/fuzz/;
# `make check` runs a short pass of each (tests/run.sh, FUZZ_TIME=5).
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh --build $(BUILD)

# The evidence store under a running controller and 20 CLI loops for ten
# minutes (tests/e2e/test_store_soak.sh; `make check` runs it for 60 s).
soak: tests
	$(Q)SOAK_S=600 IRC_BIN=$(abspath $(BIN)) tests/e2e/test_store_soak.sh

# `make check` builds the benchmarks (it does not run them), so a change
# that breaks one fails there, not at the next `make bench`.
bench-build: $(BIN) $(BENCH_BINS)

bench: bench-build
	$(Q)scripts/bench/run.sh --build $(BUILD)

# --- install -----------------------------------------------------------
# The binary carries its BPF objects (skeletons), so it is all there is
# to install besides the man page, the unit, the policy and completion.
SBINDIR		:= $(PREFIX)/sbin
MANDIR		:= $(PREFIX)/share/man/man8
UNITDIR		?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
COMPDIR		:= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR	?= /etc

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/ircontain
	install -D -m 0644 docs/ircontain.8 $(DESTDIR)$(MANDIR)/ircontain.8
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for u in ircontain ircontain-load; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/systemd/$$u.service.in > $(DESTDIR)$(UNITDIR)/$$u.service && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	install -D -m 0644 scripts/completion/ircontain.bash $(DESTDIR)$(COMPDIR)/ircontain
	@# An edited policy is never overwritten; the shipped one goes beside it.
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/ircontain
	if [ -e $(DESTDIR)$(SYSCONFDIR)/ircontain/policy.yaml ]; then \
		install -m 0644 docs/policy.yaml $(DESTDIR)$(SYSCONFDIR)/ircontain/policy.yaml.dist; \
	else \
		install -m 0644 docs/policy.yaml $(DESTDIR)$(SYSCONFDIR)/ircontain/policy.yaml; \
	fi
	if [ -e $(DESTDIR)$(SYSCONFDIR)/ircontain/ircontain.conf ]; then \
		install -m 0644 scripts/systemd/ircontain.conf $(DESTDIR)$(SYSCONFDIR)/ircontain/ircontain.conf.dist; \
	else \
		install -m 0644 scripts/systemd/ircontain.conf $(DESTDIR)$(SYSCONFDIR)/ircontain/ircontain.conf; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ircontain $(DESTDIR)$(MANDIR)/ircontain.8 \
	      $(DESTDIR)$(UNITDIR)/ircontain.service $(DESTDIR)$(UNITDIR)/ircontain-load.service \
	      $(DESTDIR)$(COMPDIR)/ircontain \
	      $(DESTDIR)$(SYSCONFDIR)/ircontain/policy.yaml.dist \
	      $(DESTDIR)$(SYSCONFDIR)/ircontain/ircontain.conf.dist
	@# The policy stays if it was edited: it is the operator's.
	if [ -e $(DESTDIR)$(SYSCONFDIR)/ircontain/policy.yaml ] && \
	   cmp -s docs/policy.yaml $(DESTDIR)$(SYSCONFDIR)/ircontain/policy.yaml; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/ircontain/policy.yaml; \
	fi
	if [ -e $(DESTDIR)$(SYSCONFDIR)/ircontain/ircontain.conf ] && \
	   cmp -s scripts/systemd/ircontain.conf $(DESTDIR)$(SYSCONFDIR)/ircontain/ircontain.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/ircontain/ircontain.conf; \
	fi
	-rmdir $(DESTDIR)$(SYSCONFDIR)/ircontain 2>/dev/null

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- e2e test helpers ----------------------------------------------------
# Small programs the end-to-end scripts run (tests/e2e/helpers/*.c), built
# by `make tests` into $(OUT)/tests/helpers/.
E2E_HELPER_SRCS	:= $(wildcard tests/e2e/helpers/*.c)
E2E_HELPER_BINS	:= $(patsubst tests/e2e/helpers/%.c,$(OUT)/tests/helpers/%,$(E2E_HELPER_SRCS))

tests: $(E2E_HELPER_BINS) $(OUT)/tests/helpers/ircontain-fault

# The CLI with a test-only fault injection in the loader (IRCONTAIN_TEST_REJECT
# names programs the verifier is made to refuse), for the fail-closed tests.
# Never installed; the production binary has no such code.
$(OUT)/obj/kernel/loader-fault.o: userspace/kernel/loader.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -DIRC_FAULT_INJECT -MMD -MP -c $< -o $@

$(OUT)/tests/helpers/ircontain-fault: $(MAIN_OBJ) $(filter-out $(OUT)/obj/kernel/loader.o,$(LIB_OBJS)) $(OUT)/obj/kernel/loader-fault.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

$(OUT)/tests/helpers/%: tests/e2e/helpers/%.c
	$(call msg,HELPER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP $< $(ALL_LDFLAGS) -o $@

# --- demo ------------------------------------------------------------------
# `sudo make demo`: the whole story (detection, containment, isolation,
# evidence) in a lab of network namespaces, in under two minutes; see
# scripts/demo.sh.  IRC_BIN=path runs another ircontain binary.
.PHONY: demo
IRC_BIN		?= $(BIN)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)IRC_BIN=$(abspath $(IRC_BIN)) scripts/demo.sh
