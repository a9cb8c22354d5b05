# membound: the two README commands and a few developer conveniences.
#   make demo   set up, build, convert a generated sample bag, print the result
#   make test   set up, build, run every test, end with "N passed, N failed"
BUILD ?= build
MESON_ARGS ?=

.PHONY: all deps build demo test test-asan test-leaks test-valgrind test-ci-extra clean

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
	sh scripts/run-tests $(BUILD)

test-leaks: build
	sh scripts/run-tests $(BUILD) --setup leaks

test-valgrind: build
	sh scripts/run-tests $(BUILD) --setup valgrind

test-asan: deps
	[ -f build-asan/build.ninja ] || meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false $(MESON_ARGS)
	meson compile -C build-asan
	sh scripts/run-tests build-asan --setup asan

# CI's second pass (issue 9): the suite again with GST_TRACERS=leaks, then in
# an ASan+UBSan build (see docs/reliability.md for the measured durations).
# Both run even when the first fails.
test-ci-extra:
	rc=0; $(MAKE) test-leaks || rc=1; $(MAKE) test-asan || rc=1; exit $$rc

clean:
	rm -rf $(BUILD) build-asan
