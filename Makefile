# lep: the two commands a newcomer needs are `make demo` and `make test`.
# Both install the missing Debian packages first (idempotent; uses sudo when not root).

SWIFT ?= swift
# sentencepiece provides spm_train, which `lep vocab train` runs.
DEB_PACKAGES := pkg-config libzstd-dev libopenblas-dev liblapacke-dev libsentencepiece-dev libjson-c-dev sentencepiece
BENCH_PACKAGES := time python3
RELEASE_BIN := .build/release/lep

.PHONY: all deps install-packages build test test-python demo bench fuzz refenv format format-check clean

all: build

deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PACKAGES)"

install-packages:
	@missing=""; \
	for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product lep

# A hung test fails the run after TEST_TIME_LIMIT seconds instead of stalling CI.
TEST_TIME_LIMIT ?= 1800
# The build and the tests get a private TMPDIR, removed afterwards (the tests' temporary folders and the
# compiler's go there instead of piling up in /tmp).
test: deps
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/lep-test-XXXXXX"); \
	echo "$(SWIFT) build --build-tests"; TMPDIR=$$tmp $(SWIFT) build --build-tests || { rc=$$?; rm -rf "$$tmp"; exit $$rc; }; \
	TMPDIR=$$tmp timeout --kill-after=30 $(TEST_TIME_LIMIT) $(SWIFT) test --skip-build; rc=$$?; rm -rf "$$tmp"; \
	if [ $$rc -eq 124 ] || [ $$rc -eq 137 ]; then echo "make test: swift test ran past $(TEST_TIME_LIMIT) s (a hung test); stopped" >&2; fi; exit $$rc

# The toolchain's formatter (`swift format`) with .swift-format: `make format` rewrites the sources in
# place, `make format-check` fails on any difference or rule violation (a few seconds). The generated
# Unicode table and the bundled evaluation texts are data and keep their layout.
FORMAT_FILES = $(shell find Package.swift Sources Tests -name '*.swift' \
	! -path Sources/Tokenizers/CompatibilityDecompositionTable.swift ! -path Sources/Evaluation/Data/BundledData.swift | sort)
format:
	@echo "swift format format --in-place ($(words $(FORMAT_FILES)) files)"
	@$(SWIFT) format format --in-place --parallel $(FORMAT_FILES)
format-check:
	@echo "swift format lint --strict ($(words $(FORMAT_FILES)) files)"
	@$(SWIFT) format lint --strict --parallel $(FORMAT_FILES)

# Python tests of scripts/train_embeddings.py (the donor's embedding training), in a virtual environment
# made from scripts/requirements-train.txt BESIDE the project (never inside it); pip runs again when the
# requirements change. pip uses a configured --find-links (e.g. a local CPU torch wheel) when there is one.
# PYTHON_PIP_FLAGS adds pip options (e.g. `--extra-index-url https://download.pytorch.org/whl/cpu`).
PYTHON ?= python3
PYTHON_VENV ?= ../lep-venv-test
PYTHON_PIP_FLAGS ?=
test-python:
	@case "$$(realpath -m "$(PYTHON_VENV)")/" in "$$(realpath -m .)/"*) echo "PYTHON_VENV=$(PYTHON_VENV) is inside the project; choose a folder outside it" >&2; exit 2;; esac
	@if ! cmp -s scripts/requirements-train.txt $(PYTHON_VENV)/requirements-train.txt; then \
	  echo "making $(PYTHON_VENV) from scripts/requirements-train.txt"; \
	  $(PYTHON) -m venv $(PYTHON_VENV) && \
	  $(PYTHON_VENV)/bin/pip install -q --disable-pip-version-check $(PYTHON_PIP_FLAGS) -r scripts/requirements-train.txt && \
	  cp scripts/requirements-train.txt $(PYTHON_VENV)/requirements-train.txt; \
	fi
	$(PYTHON_VENV)/bin/python -m unittest discover -s scripts/tests -t scripts/tests -v

demo: build
	@$(MAKE) --no-print-directory install-packages PACKAGES="jq"
	./scripts/demo.sh $(RELEASE_BIN)

# Every benchmark row against its peer, one table, bench/results.json; ROWS="merge union" picks rows
# (scripts/bench_all.sh lists them).
ROWS ?= merge union propagate propagate-1b forward tokenizers foundation
bench: build
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BENCH_PACKAGES)"
	ROWS="$(ROWS)" ./scripts/bench_all.sh $(RELEASE_BIN)

# libFuzzer on every parser of untrusted input, FUZZ_SECONDS each (default 300), seeded from the
# fixtures (scripts/fuzz.sh); FUZZ_TARGETS picks some: header json tokenizer recipe chat-template gguf.
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= header json tokenizer recipe chat-template $(if $(wildcard Sources/lep-fuzz-gguf),gguf)
FUZZ_BUILD := $(SWIFT) build -c release --scratch-path .build/fuzz \
	-Xswiftc -sanitize=fuzzer,address -Xswiftc -DLEP_FUZZING -Xswiftc -parse-as-library
fuzz: deps
	for t in $(FUZZ_TARGETS); do $(FUZZ_BUILD) --product lep-fuzz-$$t || exit 1; done
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh $(FUZZ_TARGETS)

# The Python reference environment of the fixture generators (scripts/fixtures/requirements.txt),
# a virtual environment BESIDE the repository (never inside it): `make refenv`, then
# `. ../refenv/bin/activate`. REFENV=DIR puts it elsewhere; REFENV_PIP_FLAGS adds pip options (e.g.
# `--extra-index-url https://download.pytorch.org/whl/cpu` for the CPU build of torch). Python 3.11.
REFENV ?= $(abspath $(CURDIR)/..)/refenv
REFENV_PYTHON ?= python3
REFENV_PIP_FLAGS ?=
refenv:
	@case "$(abspath $(REFENV))/" in "$(abspath $(CURDIR))/"*) echo "REFENV=$(REFENV) is inside the repository; put it beside it (default ../refenv)"; exit 2;; esac
	@$(REFENV_PYTHON) -c "import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else 'the fixtures were made with Python 3.11 (REFENV_PYTHON=python3.11); this is %d.%d' % v)"
	$(REFENV_PYTHON) -m venv $(REFENV)
	$(REFENV)/bin/pip install --quiet --disable-pip-version-check $(REFENV_PIP_FLAGS) -r scripts/fixtures/requirements.txt
	$(REFENV)/bin/pip check
	@echo "reference environment ready: . $(REFENV)/bin/activate"

clean:
	rm -rf .build
