# composer: set-up, demo, tests and benchmarks. Every target installs what it needs itself.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# Debian packages composer and its tests use (fixtures, registry, NAT tools, interop peers).
APT_PACKAGES := busybox-static iproute2 iptables nftables tini docker-registry skopeo mmdebstrap uidmap openssl openssh-client git procps qemu-user

.PHONY: setup apt demo test test-fast bench bench-report clean images

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ "$$(id -u)" = 0 ] && ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -e '.[test]' --config-settings editable_mode=compat
	@touch $(STAMP)
	@# bytecode written now: with PYTHONDONTWRITEBYTECODE set, every command would compile again
	@$(PY) -m compileall -q composer

# The main job: build the example's images offline (cached), then bring the stack up and wait for it.
# The addresses printed are the ones published (WEB_PORT/API_PORT in .env or the environment).
demo: setup
	$(PY) examples/images/build.py postgres python nginx
	cd examples/postgres-api && ../../$(VENV)/bin/composer up -d --wait
	@cd examples/postgres-api && web=$$(../../$(VENV)/bin/composer port web 80) && api=$$(../../$(VENV)/bin/composer port api 8000) && \
	  echo && echo "postgres + api + nginx are up. Point your browser at:" && \
	  echo "  http://$$web/items   (nginx -> api -> postgres)     http://$$api/health   (the api itself)" && \
	  echo "  curl -X POST -H 'content-type: application/json' -d '{\"name\": \"first\"}' http://$$web/items"
	@echo "  cd examples/postgres-api && ../../$(VENV)/bin/composer ps    (logs -f api, exec db psql -U items, down, down -v)"
	@echo "  cd examples/postgres-api && ../../$(VENV)/bin/composer watch  (edit api/main.py: synced, the api restarts)"

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not root"

# The examples' base images, built offline from Debian packages (cached in /var/cache/composer-examples).
images: setup
	$(PY) examples/images/build.py

# Every bench/bench_*.py, then bench/results/report.md + report.png (matplotlib: the bench extra).
# Only some: make bench BENCH="stack config"
bench: setup
	$(PIP) install -q -e '.[test,bench]' --config-settings editable_mode=compat
	$(PY) bench/run.py $(BENCH)

# Only the report, from the results already in bench/results/.
bench-report: setup
	$(PIP) install -q -e '.[test,bench]' --config-settings editable_mode=compat
	$(PY) bench/report.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
