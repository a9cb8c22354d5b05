# membound: the two README commands and a few developer conveniences.
#   make demo   set up, build, convert a generated sample bag, print the result
#   make test   set up, build, run every test, end with "N passed, N failed"
#               (under CI=true, or MB_FULL_TESTS=1, also the leaks and
#               ASan+UBSan passes: scripts/test-all)
BUILD ?= build
MESON_ARGS ?=

.PHONY: all deps build demo test test-asan test-leaks test-valgrind test-full clean

all: build

deps:
	sh scripts/setup-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true $(MESON_ARGS)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

demo: build
	sh scripts/demo $(BUILD)

test: build
	sh scripts/test-all $(BUILD)

test-leaks: build
	sh scripts/run-tests $(BUILD) --setup leaks

# memcheck over the compiled tests (scripts/c-tests); the Python-driven ones
# are covered by test-asan and test-leaks
test-valgrind: build
	sh scripts/run-tests $(BUILD) --setup valgrind $$(/usr/bin/python3 scripts/c-tests $(BUILD))

test-asan: deps
	[ -f build-asan/build.ninja ] || meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false $(MESON_ARGS)
	meson compile -C build-asan
	sh scripts/run-tests build-asan --setup asan

# All three passes (normal, leaks, ASan+UBSan), as CI runs them.
test-full: build
	MB_FULL_TESTS=1 sh scripts/test-all $(BUILD)

clean:
	rm -rf $(BUILD) build-asan
