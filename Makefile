# onprem.stack — developer entry points. See README.md.
#   make demo   run site.yml on the embedded default inventory (a local podman host)
#   make test   everything CI runs: lint, unit tests, Molecule scenarios
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export CONTAINERS_CONF := $(CURDIR)/.config/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
MOLECULE_SCENARIOS ?= postgresql redis default airgap

.PHONY: host venv images demo demo-reset test lint unit molecule benchmark clean

host:
	scripts/setup-host.sh

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed
	scripts/install-helm.sh

images: host
	scripts/build-test-images.sh 12 13

demo: host venv
	scripts/build-test-images.sh 13
	scripts/demo.sh

demo-reset:
	scripts/demo.sh --reset

lint: venv
	ansible-lint --offline

unit: venv
	pytest -q tests

# Each scenario: converge, idempotence, then its testinfra tests (molecule/<scenario>/tests/).
molecule: venv images
	set -e; for s in $(MOLECULE_SCENARIOS); do molecule test -s $$s; done

test: host venv images lint unit molecule

benchmark: host venv images
	$(PY) benchmarks/data_layer.py

clean:
	rm -rf $(VENV) .ansible .pytest_cache
