# mite: common tasks. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export CARGO_TARGET_DIR ?= $(HOME)/.cache/mite-target
export PYO3_PYTHON := $(abspath $(PY))

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.7,<2" pytest msgpack ruff brotli pyzmq

.PHONY: venv
venv: $(PY) ## create the virtualenv with the build and test tools

.PHONY: dev
dev: $(PY) ## build the extension (debug) into the virtualenv
	$(VENV)/bin/maturin develop -q

.PHONY: install
install: $(PY) ## build the release wheel and install it (as `pip install .` does)
	$(PY) -m pip install -q .

DEMO_PORT ?= 8765

.PHONY: demo
demo: install ## install, start a local target, run the HTTP example (about 15 s) with the report
	cd examples && { ../$(PY) target_server.py $(DEMO_PORT) & TARGET=$$!; trap "kill $$TARGET" EXIT; \
		sleep 0.5; MITE_CONF_target=http://127.0.0.1:$(DEMO_PORT) \
		../$(VENV)/bin/mite scenario test http_example:scenario --report; }

# The reference mite 2.11.0 in its own virtualenv: the distributed-mode suite runs components of both
# side by side (tests/distributed). Its acurl builds against the libcurl headers; promtool and
# prometheus check the exporter's text and scrape it for real; nginx is the HTTP suite's HTTP/2
# server (tests/http).
MITE_REF_VENV ?= $(HOME)/.cache/mite-ref-venv
export MITE_REF_VENV

.PHONY: ref-venv
ref-venv: ## install mite 2.11.0 (once) into MITE_REF_VENV, default ~/.cache/mite-ref-venv
	@missing=(); \
	[ -e /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -e /usr/include/curl/curl.h ] || missing+=(libcurl4-openssl-dev); \
	command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus); \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx); \
	if [ $${#missing[@]} -gt 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}"; \
	fi
	@if [ ! -x "$(MITE_REF_VENV)/bin/mite" ]; then \
		$(PYTHON) -m venv "$(MITE_REF_VENV)" && \
		"$(MITE_REF_VENV)/bin/pip" install -q mite==2.11.0; \
	fi

.PHONY: test
test: dev ref-venv ## build, then run the Rust and Python tests
	cargo test -q
	$(PY) -m pytest -q
	# The HTTP suite again on the loop-thread engine design, so both designs stay correct.
	MITE_HTTP_ENGINE=loop $(PY) -m pytest -q tests/http

.PHONY: lint
lint: $(PY) ## rustfmt, clippy and ruff
	cargo fmt --check
	cargo clippy --all-targets -q -- -D warnings
	$(VENV)/bin/ruff check python tests

.PHONY: faults
faults: install ref-venv ## the fault campaign (a few minutes, needs root for tmpfs): ours beside mite 2.11.0
	$(PY) faults/run.py | tee faults/latest.md

.PHONY: bench
bench: install ## journeys per second and idle-journey cost, ours beside mite 2.11.0
	benchmarks/run.sh
