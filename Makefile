# composer: set-up, demo, tests and benchmarks. Every target installs what it needs itself.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# Debian packages composer and its tests use (fixtures, registry, NAT tools, interop peers).
APT_PACKAGES := busybox-static iproute2 iptables nftables docker-registry skopeo mmdebstrap uidmap

.PHONY: setup apt demo test test-fast bench clean images

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ "$$(id -u)" = 0 ] && ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -e '.[test]' --config-settings editable_mode=compat
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/composer --project-directory examples/postgres-api config

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not root"

# The examples' base images, built offline from Debian packages (cached in /var/cache/composer-examples).
images: setup
	$(PY) examples/images/build.py

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
