# tpe -- token probability encoding in output embeddings. See README.md.
#
#   make                 build ./tpe
#   make test            build and run every test (last line: "N passed, N failed")
#   make CC=clang test   the same with clang
#   make test-arm        cross-compile for aarch64, run the suite under qemu (neon and scalar)
#   make bench           GEMM GFLOPS for a GPT-2-124M forward pass, beside OpenBLAS when installed
#   make demo            the whole pipeline on the shipped default model
#   make deps            install (as root) or name the Debian packages the build needs
#   make OPENMP=1        threads through OpenMP (TPE_THREADS=n); off by default
#   make MPI=1           build with Open MPI's mpicc: `mpirun -np N ./tpe probe ...` (docs/scaling.md)
#   make test-mpi        the MPI build's probe under `mpirun -np 2` against the single process
#
# The build directory depends on the compiler and target, so gcc, clang and
# cross builds live side by side under build/.

CC ?= cc
# MPI=1: the whole build through mpicc (in build/mpicc); ref/mpi/dist_mpi.c,
# the only file that includes <mpi.h>, replaces ref/dist_serial.c.
ifeq ($(MPI),1)
CC := mpicc
endif
TARGET := $(shell $(CC) -dumpmachine 2>/dev/null)
ARCH := $(firstword $(subst -, ,$(TARGET)))
BUILD ?= build/$(notdir $(firstword $(CC)))$(if $(filter 1,$(OPENMP)),-omp)$(SANITIZE_TAG)

STB_INCLUDE ?= $(firstword $(wildcard /usr/include/stb /usr/local/include/stb) /usr/include/stb)

OPT ?= -O2
# Warnings: -Wall -Wextra -pedantic -Werror and a list in the spirit of
# xxHash's. Declarations after statements are allowed (C99 permits them and
# they keep scopes small), so -Wdeclaration-after-statement is not used.
WARN := -Wall -Wextra -Werror -pedantic -Wshadow -Wcast-align -Wstrict-prototypes -Wmissing-prototypes \
        -Wold-style-definition -Wvla -Wpointer-arith -Wwrite-strings -Wundef -Wformat=2 -Wredundant-decls \
        -Wnested-externs -Wdouble-promotion -Wfloat-conversion -Wmissing-declarations -Wswitch \
        -Wcast-qual -Wstrict-overflow=2 -Wno-format-nonliteral
# -ffp-contract=off: no silent fused multiply-adds in plain C (gcc's default
# under -std=c99, not clang's), so the scalar paths are the same everywhere;
# SIMD kernels ask for FMA explicitly.
CFLAGS_ALL := -std=c99 $(WARN) $(OPT) -g -ffp-contract=off -fno-strict-aliasing -MMD -MP \
              -Iref -isystem $(STB_INCLUDE) $(EXTRA_CFLAGS) $(CFLAGS)
LDLIBS := -lm

# quiet build lines; `make V=1` shows the commands
ifeq ($(V),1)
Q :=
else
Q := @
endif

ifeq ($(OPENMP),1)
CFLAGS_ALL += -fopenmp
LDFLAGS += -fopenmp
endif

# Float expressions must be evaluated in their own type (FLT_EVAL_METHOD 0)
# so every target rounds as IEEE does: gcc's ISO mode on s390x evaluates
# float in double unless told the hardware's native float is fine, and
# 32-bit x86 needs SSE2 instead of the x87 stack (tpe requires SSE2 there).
ifeq ($(ARCH),s390x)
CFLAGS_ALL += -fexcess-precision=fast
endif
ifneq ($(filter i386 i486 i586 i686,$(ARCH)),)
CFLAGS_ALL += -msse2 -mfpmath=sse
endif

# ISA flags only for the files that hold SIMD kernels (ref/*_avx2.c, ref/*_neon.c).
ifeq ($(ARCH),x86_64)
AVX2_FLAGS := -mavx2 -mfma
endif

LIB_SRC := $(sort $(wildcard ref/*.c))
ifeq ($(MPI),1)
LIB_SRC := $(filter-out ref/dist_serial.c,$(LIB_SRC)) ref/mpi/dist_mpi.c
MPI_INCLUDE := $(addprefix -isystem ,$(shell $(CC) --showme:incdirs 2>/dev/null))
endif
CLI_SRC := $(sort $(wildcard ref/cli/*.c))
TEST_SRC := $(filter-out tests/test_main.c,$(sort $(wildcard tests/test_*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/test_main.o

.PHONY: all deps-build test test-unit test-arm test-s390x test-i386 test-asan test-valgrind fuzz bench demo deps clean FORCE
.PHONY: test-mpi

all: tpe

# ./tpe is always the binary of the last build (gcc or clang).
tpe: $(BUILD)/tpe FORCE
	@cmp -s $< $@ || cp $< $@

$(BUILD)/libtpe.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/tpe: $(CLI_OBJ) $(BUILD)/libtpe.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libtpe.a $(LDLIBS)

# stb_ds's string arena keeps its strings in `char storage[8]` used as a
# flexible array (the pre-C99 struct hack), which UBSan's bounds check
# reports; in sanitizer builds that one third-party file skips that check.
$(BUILD)/ref/stbds.o: ref/stbds.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(if $(SANITIZE_TAG),-fno-sanitize=bounds) -c $< -o $@

$(BUILD)/ref/%_avx2.o: ref/%_avx2.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (avx2)")
	$(Q)$(CC) $(CFLAGS_ALL) $(AVX2_FLAGS) -c $< -o $@

# mpi.h is a system header here: our warning list is not its business.
$(BUILD)/ref/mpi/%.o: ref/mpi/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (mpi)")
	$(Q)$(CC) $(MPI_INCLUDE) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

# tests: the list of TEST(name) functions is generated from the sources
$(BUILD)/tests/tests_list.h: $(TEST_SRC)
	@mkdir -p $(dir $@)
	@sed -n 's/^TEST(\([A-Za-z0-9_]*\)).*/X(\1)/p' $(TEST_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/test_main.o: tests/test_main.c $(BUILD)/tests/tests_list.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -I$(BUILD)/tests -c $< -o $@

$(BUILD)/tests/test_%.o: tests/test_%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -c $< -o $@

$(BUILD)/tpe_tests: $(TEST_OBJ) $(BUILD)/libtpe.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libtpe.a $(LDLIBS)

# `make test`: the unit suite under every kernel path this machine runs,
# then the command-line tests. RUNNER (e.g. qemu) prefixes every program.
test: deps-build $(BUILD)/tpe $(BUILD)/tpe_tests
	@TPE_BIN="$(BUILD)/tpe" TPE_TESTS="$(BUILD)/tpe_tests" RUNNER="$(RUNNER)" TPE_PATHS="$(TPE_PATHS)" \
	  TPE_TEST_QUICK="$(TPE_TEST_QUICK)" sh tests/run.sh

# ---- cross-architecture runs ------------------------------------------------
test-arm:
	@$(MAKE) --no-print-directory test CC=aarch64-linux-gnu-gcc RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
	  TPE_PATHS="neon scalar" TPE_TEST_QUICK=1

# Big-endian (s390x) and 32-bit (i686) builds: every reader must byte-swap
# and no size arithmetic may overflow.
test-s390x:
	@$(MAKE) --no-print-directory test CC=s390x-linux-gnu-gcc RUNNER="qemu-s390x -L /usr/s390x-linux-gnu" \
	  TPE_PATHS="scalar" TPE_TEST_QUICK=1

test-i386:
	@$(MAKE) --no-print-directory test CC=i686-linux-gnu-gcc RUNNER="qemu-i386 -L /usr/i686-linux-gnu" \
	  TPE_PATHS="scalar" TPE_TEST_QUICK=1

# MPI (Open MPI's mpicc and mpirun: libopenmpi-dev openmpi-bin): the probe
# split over `mpirun -np 2` on this machine must equal the single process.
test-mpi:
	@$(MAKE) --no-print-directory MPI=1 build/mpicc/tpe
	@$(MAKE) --no-print-directory build/$(notdir $(firstword $(CC)))/tpe
	@TPE_MPI_BIN=build/mpicc/tpe TPE_BIN=build/$(notdir $(firstword $(CC)))/tpe sh tests/mpi.sh

# Sanitizers: AddressSanitizer + UndefinedBehaviorSanitizer (clang), and valgrind.
test-asan:
	@$(MAKE) --no-print-directory test CC=clang SANITIZE_TAG=-asan OPT="-O1" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined"

test-valgrind:
	@$(MAKE) --no-print-directory test SANITIZE_TAG=-vg OPT="-O1" \
	  RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" TPE_TEST_QUICK=1 \
	  TPE_PATHS=auto

# Fuzzing with libFuzzer (clang): `make fuzz FUZZ_SECONDS=300`.
FUZZ_SECONDS ?= 60
fuzz:
	@sh tools/fuzz.sh $(FUZZ_SECONDS)

# ---- dependencies -------------------------------------------------------------
# What the build needs beyond gcc and make: the stb_ds header (libstb-dev).
deps-build:
	@sh tools/deps.sh build "$(STB_INCLUDE)"

deps:
	@sh tools/deps.sh all "$(STB_INCLUDE)"

# ---- benchmarks and demo ------------------------------------------------------
bench: tpe
	@sh tools/bench.sh

demo: deps-build tpe
	@sh tools/demo.sh

clean:
	rm -rf build tpe out

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
