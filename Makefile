# Pullprint: the two commands for a new machine are `make run` and `make test` (see README.md).
# Meson does the building; this file only chains install, configure, build and run.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
STATE_DIR  ?= var
MESON_SETUP = meson setup --buildtype=debugoptimized

.PHONY: all deps build install run test test-unit bench clean

all: build

deps:
	./scripts/install-deps

$(BUILD)/build.ninja:
	$(MESON_SETUP) $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Installs the programs (pullprintd, pullprint) under the Meson prefix (/usr/local) and the
# CUPS backend `pullprint` into CUPS's backend directory (mode 0700). Run as root.
install: build
	meson install -C $(BUILD)

# Starts the server in the foreground on the embedded defaults (SQLite, self-signed TLS),
# state under ./var/. The first start prints the URL and the first admin password.
run: build
	./$(BUILD)/src/cmd/pullprintd --state-dir $(STATE_DIR)

# Every suite: unit tests on SQLite and PostgreSQL, the same under ASan+UBSan, end-to-end.
# Ends with one line: "N passed, N failed".
test: build
	/usr/bin/python3 scripts/run-tests --build $(BUILD) --build-asan $(BUILD_ASAN) --build-fuzz $(BUILD_FUZZ)

# Unit tests only, without the sanitizer build (quick loop while developing).
test-unit: build
	/usr/bin/python3 scripts/run-tests --build $(BUILD) --only unit

bench: build
	/usr/bin/python3 bench/run --build $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
