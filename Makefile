# winstate — build, test and demo.
#
#   make          build build/winstate
#   make check    install missing packages, build, run every test, then again under ASan+UBSan,
#                 then each fuzzer for 10 s
#   make unit     build, fixtures, run the unit binaries
#   make check-quick  build, check-deps, fixtures, unit binaries and every integration script but the boots
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make demo     install missing packages, build, make a sample Windows disk and show it
#   make deps     install the Debian packages the project needs (only those missing)
#   make image    the boot image in build/image/: vmlinuz, initrd.img, ISO, USB stick, PXE
#
# Every module is a folder with one public header; its .c files become a static
# library, so adding a file never needs a Makefile edit.  BUILD selects the output
# folder (several builds can live side by side: build/, build/asan/, ...).

BUILD    ?= build
CC       ?= cc
PKGS     := libntfs-3g blkid libxml-2.0 libzstd hivex libsodium
# The version lives in one place, the VERSION file.
VERSION  := $(shell cat VERSION)
CPPFLAGS += -I. -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DWINSTATE_VERSION='"$(VERSION)"'
# CFLAGS/LDFLAGS are the caller's (optimisation, sanitizers); the project's own
# flags are always added, even when CFLAGS is given on the command line.
CFLAGS   ?= -O2 -g
WS_CFLAGS = -std=c11 -Wall -Wextra -Werror -fno-common $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Link order, and the house's rule (make check-deps): a module may use only
# the modules to its right.
MODULES  := agent restore capture windows store rules registry ntfs formats
LIBS     := $(foreach m,$(MODULES),$(BUILD)/lib/libws_$(m).a)

# Debian packages: build, tests (fixtures are made with mkntfs, the ntfs-3g FUSE
# driver, setfattr and hivex's own tools), and what later issues boot and bench.
DEB_PACKAGES := build-essential pkg-config ntfs-3g ntfs-3g-dev libblkid-dev libxml2-dev \
	libzstd-dev zstd libhivex-dev libhivex-bin libwin-hivex-perl libsodium-dev \
	libcriterion-dev attr fuse3 dosfstools gdisk fdisk xz-utils bzip2 python3 util-linux \
	qemu-utils bc clang libclang-rt-14-dev wimtools e2fsprogs apt \
	busybox-static qemu-system-x86 ovmf xorriso grub-efi-amd64-bin grub-common mtools cpio \
	isolinux syslinux syslinux-common kmod samba nfs-ganesha nfs-ganesha-vfs chntpw strace valgrind

lib_srcs  = $(filter-out agent/main.c,$(wildcard $(1)/*.c))
lib_objs  = $(patsubst %.c,$(BUILD)/obj/%.o,$(call lib_srcs,$(1)))
UNIT_DIRS := $(patsubst tests/unit/%/,%,$(sort $(dir $(wildcard tests/unit/*/*.c))))
UNIT_BINS := $(foreach d,$(UNIT_DIRS),$(BUILD)/tests/unit-$(d))
TOOL_SRCS := $(wildcard tests/fixtures/*.c)
TOOL_BINS := $(patsubst tests/fixtures/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

.PHONY: all deps check check-plain check-asan demo fixtures clean tests bench image
all: $(BUILD)/winstate $(BUILD)/scanstate $(BUILD)/loadstate $(BUILD)/usmtutils

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WS_CFLAGS) -MMD -MP -c $< -o $@

define module_lib
$(BUILD)/lib/libws_$(1).a: $(call lib_objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_lib,$(m))))

$(BUILD)/winstate: $(BUILD)/obj/agent/main.o $(LIBS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

# The USMT spellings are names of the same program.
$(BUILD)/scanstate $(BUILD)/loadstate $(BUILD)/usmtutils: $(BUILD)/winstate
	ln -sf winstate $@

define unit_bin
$(BUILD)/tests/unit-$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/unit/$(1)/*.c)) $(LIBS)
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS) $(LDFLAGS) $$(LDFLAGS_unit_$(1)) -o $$@ $$(filter %.o,$$^) $(LIBS) $(LDLIBS) -lcriterion
endef
$(foreach d,$(UNIT_DIRS),$(eval $(call unit_bin,$(d))))
# tests/unit/fault: our own code's I/O and allocation calls go through the test's
# fault injector (tests/unit/fault/inject.c); nothing changes in the product build.
FAULT_WRAPPED := write pwrite64 ftruncate64 fsync fdatasync syncfs rename link read pread64 \
	malloc calloc realloc strdup strndup asprintf vasprintf open_memstream nv_set_security \
	nv_truncate
LDFLAGS_unit_fault := $(foreach f,$(FAULT_WRAPPED),-Wl,--wrap=$(f))

$(BUILD)/tools/%: $(BUILD)/obj/tests/fixtures/%.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

tests: all $(UNIT_BINS) $(TOOL_BINS)

# Benchmarks: bench/<name>/*.c becomes $(BUILD)/bench/<name>; `make bench` runs
# each one (they print their figures beside the peer measured in the same run).
BENCH_DIRS := $(patsubst bench/%/,%,$(sort $(dir $(wildcard bench/*/*.c))))
BENCH_BINS := $(foreach d,$(BENCH_DIRS),$(BUILD)/bench/$(d))
define bench_bin
$(BUILD)/bench/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/$(1)/*.c)) $(LIBS)
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBS) $(LDLIBS)
endef
$(foreach d,$(BENCH_DIRS),$(eval $(call bench_bin,$(d))))

bench: deps
	$(MAKE) all $(BENCH_BINS) fixtures
	@for b in $(BENCH_BINS); do echo "== $$b"; WS_SHARED=$${WS_SHARED:-$$(cd .. && pwd)/shared} \
		WS_FIXTURES=$(BUILD)/fixtures WS_BIN=$(BUILD)/winstate $$b || exit 1; done

# Fuzzing (docs/reliability.md): tests/fuzz/fuzz_*.c are libFuzzer targets, built
# with clang into build/fuzz/ and run FUZZ_SECONDS each by tests/fuzz/run.sh (seeds
# made at run time from winstate's writers, the fixtures and ../shared; crashes kept
# in tests/fuzz/regress/ are replayed first).  `make check` runs them 10 s each.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_LIBS    := $(filter-out %/libws_agent.a,$(LIBS))
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/*.h $(FUZZ_LIBS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WS_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS) $(LDLIBS)
$(BUILD)/mkseeds: tests/fuzz/mkseeds.c tests/fuzz/*.h tests/unit/pe_build.h $(FUZZ_LIBS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WS_CFLAGS) -o $@ $< $(FUZZ_LIBS) $(LDLIBS)
.PHONY: fuzz fuzz-build fuzz-targets check-fuzz
fuzz-targets: $(FUZZ_BINS) $(BUILD)/mkseeds
fuzz-build:
	$(MAKE) BUILD=build/fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" LDFLAGS= fuzz-targets
fuzz: deps
	$(MAKE) fuzz-build
	-$(MAKE) fixtures
	tests/fuzz/run.sh --build build/fuzz --fixtures build/fixtures --seconds $(FUZZ_SECONDS)
# The short round for `make check` (one result per target for tests/run.sh --summary).
check-fuzz:
	$(MAKE) fuzz-build
	tests/fuzz/run.sh --build build/fuzz --fixtures build/fixtures --seconds 10 \
		--results build/fuzz/results-fuzz

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

# The boot image (docs/boot-image.md): kernel, initrd, hybrid ISO, USB stick, PXE.
image: all
	initramfs/build-image.sh $(BUILD)

# Fixture disks are built once per build folder by our own fixture tools.
fixtures: tests
	tests/fixtures/mkfixtures.sh $(BUILD)/fixtures $(BUILD)/tools

check: deps
	$(MAKE) check-deps
	$(MAKE) check-plain
	$(MAKE) check-asan
	$(MAKE) check-fuzz
	@tests/run.sh --summary build/results-plain build/asan/results-asan build/fuzz/results-fuzz

# The fast inner loop (no packages installed, no image, no ASan, no fuzzing):
# `make unit` runs the unit binaries; `make check-quick` adds every integration
# script that does not boot the image.
.PHONY: unit check-quick
unit: tests fixtures
	tests/run.sh --run $(BUILD) $(BUILD)/fixtures $(BUILD)/results-unit \
		$(patsubst $(BUILD)/tests/%,--only %,$(UNIT_BINS))
check-quick: tests fixtures check-deps
	tests/run.sh --run $(BUILD) $(BUILD)/fixtures $(BUILD)/results-quick --no-boot

check-plain: tests fixtures image
	tests/run.sh --run $(BUILD) build/fixtures build/results-plain

check-asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g $(SANITIZE)" LDFLAGS="$(SANITIZE)" tests
	tests/run.sh --run build/asan build/fixtures build/asan/results-asan

# The house's one rule (docs/architecture.md): a module includes and calls only
# the modules to its right in MODULES, and each field library has one module.
.PHONY: check-deps
check-deps: $(LIBS)
	tests/check-deps.sh $(BUILD) $(MODULES)

# The integration scripts with winstate under valgrind (tests/valgrind-wrap.sh); long, so not in check.
.PHONY: valgrind
valgrind: tests fixtures
	tests/valgrind-wrap.sh --run $(BUILD) $(BUILD)/fixtures $(BUILD)/results-valgrind

demo: deps
	$(MAKE) all fixtures
	tests/fixtures/demo.sh $(BUILD)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
