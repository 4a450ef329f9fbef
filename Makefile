# Ringtrail's front door. CMake + Ninja do the building; this file names the
# things people do: build, run, test, fuzz, bench.

BUILD      ?= build
TEST_BUILD ?= build-test
DB         ?= ./data/ringtrail.db
LISTEN     ?= localhost:8080
FUZZ_TIME  ?= 300
JOBS       ?= $(shell nproc)
# CI builds everything with -Werror; so does the test build everywhere.
WERROR     := $(if $(filter true,$(CI)),ON,OFF)

.PHONY: all build run deps test-deps test fuzz-smoke fuzz bench corpus check-src format tsan valgrind clean

all: build

deps:
	@scripts/install-deps build

test-deps:
	@scripts/install-deps test

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRT_WERROR=$(WERROR) >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

run: build
	@mkdir -p $(dir $(DB))
	$(BUILD)/ringtrail serve --db $(DB) --listen $(LISTEN)

# The test build: clang, ASan + UBSan, -Werror, unit + integration tests and
# the fuzz targets (their short smoke runs are CTest tests labelled "fuzz").
$(TEST_BUILD)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DCMAKE_CXX_COMPILER=clang++ \
		-DRT_WERROR=ON -DRT_SANITIZE=ON -DRT_TESTS=ON -DRT_FUZZ=ON >/dev/null

test-build: test-deps $(TEST_BUILD)/build.ninja
	@ninja -C $(TEST_BUILD) -j $(JOBS)

test: test-build check-src
	@cd $(TEST_BUILD) && ctest --output-on-failure --timeout 300 -j $(JOBS)

fuzz-smoke: test-build
	@cd $(TEST_BUILD) && ctest --output-on-failure -L fuzz -j $(JOBS)

fuzz: test-build
	@FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run-all $(TEST_BUILD)/tests/fuzz

bench: build test-deps
	@bench/http/run $(BUILD)/ringtrail
	@bench/dni/run $(BUILD)/ringtrail
	@bench/sip/run $(BUILD)/ringtrail
	@bench/flow/run $(BUILD)/ringtrail
	@$(BUILD)/bench_leases

# The evaluation corpus of conversation intelligence: the call scripts of
# tests/corpus/ checked, then spoken into 8 kHz stereo recordings under
# $(BUILD)/corpus (some minutes, so not part of `make test`).
corpus: test-deps
	@tests/corpus/check
	@tests/corpus/render $(BUILD)/corpus --jobs $(JOBS)

check-src:
	@scripts/check-src

format:
	@clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')

tsan: test-deps
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS=-fsanitize=thread \
		-DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
		-DRT_TESTS=ON >/dev/null
	@ninja -C build-tsan -j $(JOBS)
	@cd build-tsan && ctest --output-on-failure -LE fuzz

valgrind: test-deps
	@cmake -S . -B build-valgrind -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRT_TESTS=ON >/dev/null
	@ninja -C build-valgrind -j $(JOBS)
	@cd build-valgrind && RT_VALGRIND=1 ctest --output-on-failure -L unit

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-tsan build-valgrind
