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
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

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
# server and zstd compresses its zstd bodies (tests/http); ss (iproute2) reads the kernel's byte
# counts (tests/distributed). The HTTP suite also runs in this venv (pytest, brotli).
MITE_REF_VENV ?= $(HOME)/.cache/mite-ref-venv
export MITE_REF_VENV

.PHONY: ref-venv
ref-venv: ## install mite 2.11.0 (once) into MITE_REF_VENV, default ~/.cache/mite-ref-venv
	@scripts/ensure-debs libcurl4-openssl-dev prometheus nginx zstd iproute2
	@if [ ! -x "$(MITE_REF_VENV)/bin/mite" ]; then \
		$(PYTHON) -m venv "$(MITE_REF_VENV)" && \
		"$(MITE_REF_VENV)/bin/pip" install -q mite==2.11.0; \
	fi
	@"$(MITE_REF_VENV)/bin/pip" install -q -r tests/requirements-ref.txt

# The real peers the suite starts on loopback come from Debian (each test starts its own instance
# on free ports; nothing is left running): PostgreSQL (SQL datapools), InfluxDB 1.x, RabbitMQ
# (mite_amqp), Chromium and chromedriver (mite_selenium, mite_playwright), the thrift compiler
# (the finagle peer's service code). The Python libraries of
# every extra, and the test-only ones (moto's S3 server, protocol parsers), are pinned in
# tests/requirements.txt.
TEST_DEBS := postgresql influxdb rabbitmq-server chromium chromium-driver thrift-compiler

.PHONY: test-deps
test-deps: $(PY) ## the Debian packages and Python libraries the test suite's real peers need
	@scripts/ensure-debs $(TEST_DEBS)
	$(PY) -m pip install -q -r tests/requirements.txt

.PHONY: test
test: dev ref-venv test-deps ## build, then run the Rust and Python tests
	cargo test -q
	$(PY) -m pytest -q --durations=30
	# The HTTP suite against acurl 1.2.1 too, so its expectations stay those of the reference.
	"$(MITE_REF_VENV)/bin/python" -m pytest -q -p no:cacheprovider --rootdir=tests/http -c /dev/null tests/http

# mite 2.11.0's own test suites (test/, acurl/tests/, mite_finagle/tests/ of a sky-uk/mite checkout,
# never committed here) run unmodified on 2.11.0 and on this package, with the same third-party
# versions; prints the per-file table and what passes on 2.11.0 but not here. Not part of `test`.
UPSTREAM ?=
.PHONY: upstream-tests
upstream-tests: dev ## mite 2.11.0's own suites on 2.11.0 and on this package: UPSTREAM=<checkout of sky-uk/mite>
	@test -n "$(UPSTREAM)" || { echo "usage: make upstream-tests UPSTREAM=<path of a sky-uk/mite checkout>" >&2; exit 2; }
	$(PY) scripts/upstream_tests.py $(UPSTREAM)

.PHONY: lint
lint: $(PY) ## rustfmt, clippy, ruff, no module cycles in src/, stubs match the built extension
	cargo fmt --check
	cargo clippy --all-targets -q -- -D warnings
	$(VENV)/bin/ruff check python tests scripts
	$(PY) scripts/module_cycles.py
	$(PY) scripts/check_stubs.py

.PHONY: faults
faults: install ref-venv ## the fault campaign (a few minutes, needs root for tmpfs): ours beside mite 2.11.0
	$(PY) faults/run.py | tee faults/latest.md

.PHONY: bench
bench: install ## journeys per second and idle-journey cost, ours beside mite 2.11.0
	benchmarks/run.sh

# --- Deployment: the image, docker compose, Kubernetes (docs/DEPLOYMENT.md) ------------------------
IMAGE ?= mite:latest
BASE_IMAGE ?= python:3.11-slim
IMAGE_WHEELS := dist/image-wheels
RUNNERS ?= 2
# The services `make up` starts (default: all of docker-compose.yml).
SERVICES ?=
# docker compose v2 where it is installed, else Debian's docker-compose (v1).
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo docker-compose; fi)
export COMPOSE_PROJECT_NAME ?= mite
export MITE_IMAGE ?= $(IMAGE)

.PHONY: image-wheels
image-wheels: $(PY) ## the release wheel and its dependencies, for the image, in dist/image-wheels
	rm -rf $(IMAGE_WHEELS) && mkdir -p $(IMAGE_WHEELS)
	$(VENV)/bin/maturin build --release --strip -q -o $(IMAGE_WHEELS)
	$(PY) -m pip download -q --only-binary=:all: -d $(IMAGE_WHEELS) $$(ls $(IMAGE_WHEELS)/mite-*.whl)
	rm -f $(IMAGE_WHEELS)/mite-*.whl.metadata

.PHONY: image
image: image-wheels ## build the mite image (IMAGE=mite:latest, BASE_IMAGE=python:3.11-slim)
	docker build --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) .

.PHONY: up
up: ## start (or rerun) the compose deployment in the background, RUNNERS=2; image from `make image`
	MITE_RUNNERS=$(RUNNERS) $(COMPOSE) up -d --scale runner=$(RUNNERS) $(SERVICES)

.PHONY: scale
scale: ## change the number of runners of the running deployment: make scale RUNNERS=5
	$(COMPOSE) up -d --no-deps --no-recreate --scale runner=$(RUNNERS) runner

.PHONY: status
status: ## each service's state and the last line it logged, and Prometheus's view of the exporter
	@COMPOSE="$(COMPOSE)" deploy/status.sh

.PHONY: logs
logs: ## follow the logs of every service (the last 100 lines of each first)
	$(COMPOSE) logs --tail=100 -f

.PHONY: clean
clean: ## stop the deployment and remove its containers, network and volumes (collected data too)
	$(COMPOSE) down --volumes --remove-orphans --timeout 20

# The deployment suite builds everything offline: a debootstrapped Debian base and a Prometheus image
# (cached in ~/.cache/mite-deploy), the mite image from dist/image-wheels, then runs compose for real
# and validates the Kubernetes manifests (kubectl's kustomize, kubernetes-validate's schemas).
.PHONY: deploy-test
deploy-test: image-wheels ## the deployment suite (about 6 min after the first run): image, compose, Kubernetes
	scripts/ensure-debs docker.io docker-compose debootstrap prometheus
	command -v kubectl >/dev/null || scripts/ensure-debs kubernetes-client
	$(PY) -m pip install -q "kubernetes-validate==1.37.0" "pyyaml>=6"
	$(PY) -m pytest -q tests/deploy
