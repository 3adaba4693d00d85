# onprem.stack — developer entry points. See README.md.
#   make demo   run site.yml on the embedded default inventory (a local podman host)
#   make test   everything CI runs: lint, pytest (tests/unit, tests/functional), Molecule
#               scenarios; ends with a summary naming every skipped and failed test
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export CONTAINERS_CONF := $(CURDIR)/.config/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Longest first (the two DKMS-heavy ones, nvidia and airgap, not side by side), so that
# MOLECULE_JOBS parallel runs end close together.
# cluster (about 20 minutes) needs the Kubernetes build (scripts/build-kube.sh), which
# `make test` starts first; on a fresh host the scenarios after it start while it builds.
MOLECULE_SCENARIOS ?= nvidia default airgap cluster upgrade credentials k3s postgresql redis
export MOLECULE_JOBS ?= 2
# Where `make test` records each part for the summary (scripts/test-summary.py).
export TEST_RESULTS ?= $(CURDIR)/.test-results
SUMMARY := $(PY) scripts/test-summary.py
# MITOGEN=1: the ansible-playbook runs of `make demo` and `make benchmark` run under
# Mitogen for Ansible (PyPI mitogen, in requirements.txt): strategy mitogen_linear from
# the virtualenv. Off by default; `make molecule` refuses it (Molecule's podman driver
# hangs under Mitogen). docs/speed.md has the figures and the caveats.
ifeq ($(MITOGEN),1)
export ANSIBLE_STRATEGY_PLUGINS = $(shell $(PY) -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__) + "/plugins/strategy")')
export ANSIBLE_STRATEGY = mitogen_linear
endif

.PHONY: host venv images kube demo demo-reset test lint unit molecule benchmark clean

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

# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl (k8s.io/kubernetes
# at the k3s pin's release), etcd and kwok: first time 20-30 minutes on 2 cores, then cached.
kube:
	scripts/build-kube.sh

demo: host venv
	scripts/build-test-images.sh 13
	scripts/demo.sh

demo-reset:
	scripts/demo.sh --reset

# ansible-lint, then ansible-test sanity (validate-modules, pep8, pylint, yamllint,
# shellcheck, ...) on a copy of the collection (scripts/sanity.sh says why).
lint: venv
	ansible-lint --offline
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	scripts/sanity.sh

# The functional tests that need a Kubernetes API: `make test` runs them in the Molecule
# scenario `cluster` (molecule/cluster/tests/test_helm_functional.py), not in its pytest part.
CLUSTER_TESTS := tests/functional/test_helm_release_cluster.py tests/functional/test_platform_cluster.py
# PYTEST_ARGS: what pytest runs, e.g. PYTEST_ARGS=tests/unit or PYTEST_ARGS="tests -k helm4"
PYTEST_ARGS ?= tests
unit: venv
	pytest -q -rs $(PYTEST_ARGS)

# Each scenario: converge, idempotence, then its testinfra tests (molecule/<scenario>/tests/);
# every scenario runs (and is recorded) even when an earlier one fails. MOLECULE_JOBS
# scenarios run at a time (default 2; scripts/molecule-all.sh), longest first; each
# one's output is printed whole when it ends.
# k3s: without K3S_ARTIFACTS_DIR (a real k3s release) the scenario runs with a stand-in
# release and starts nothing; its real-start steps are then recorded as skipped by name.
# nvidia: the container toolkit needs NVIDIA_TOOLKIT_DEBS_DIR, its k3s checks also
# K3S_ARTIFACTS_DIR; without them, and always for a real GPU, recorded as skipped by name.
molecule: venv images
	@PYTHON=$(PY) scripts/molecule-all.sh $(MOLECULE_SCENARIOS)

# Each part runs even when an earlier one failed; the summary decides the exit code.
# The Kubernetes build (a no-op once cached; it needs only go and python3) starts first, in
# the background, before the host, virtualenv and images are set up, and is recorded as
# the part kube-build; molecule-all.sh starts the scenarios after `cluster` while it runs,
# then `cluster`. Lint and pytest run beside the Molecule scenarios (a scenario is mostly
# waiting on programs, containers and the network, which overlaps on 2 cores): their
# output is kept in $(TEST_RESULTS)/{lint,pytest}.log and printed once all are done.
test:
	@rm -rf $(TEST_RESULTS) && mkdir -p $(TEST_RESULTS)
	@echo ">> kube-build started in the background (log $(TEST_RESULTS)/kube-build.log)"
	@(python3 scripts/test-summary.py run kube-build --log $(TEST_RESULTS)/kube-build.log -- scripts/build-kube.sh \
	  >$(TEST_RESULTS)/kube-build.log 2>&1 &)
	@$(MAKE) --no-print-directory host venv images
	@echo ">> lint started beside the Molecule scenarios (log $(TEST_RESULTS)/lint.log)"
	@($(SUMMARY) run lint --log $(TEST_RESULTS)/lint.log -- $(MAKE) --no-print-directory lint \
	  >$(TEST_RESULTS)/lint.log 2>&1; touch $(TEST_RESULTS)/lint.done) &
	@echo ">> pytest started beside the Molecule scenarios (log $(TEST_RESULTS)/pytest.log)"
	@($(SUMMARY) run pytest --junit $(TEST_RESULTS)/pytest.xml --log $(TEST_RESULTS)/pytest.log -- \
	  $(MAKE) --no-print-directory unit PYTEST_ARGS="tests --durations=30 --junitxml=$(TEST_RESULTS)/pytest.xml $(CLUSTER_TESTS:%=--ignore=%)" \
	  >$(TEST_RESULTS)/pytest.log 2>&1; touch $(TEST_RESULTS)/pytest.done) &
	-@$(MAKE) --no-print-directory molecule
	@until [ -f $(TEST_RESULTS)/pytest.done ] && [ -f $(TEST_RESULTS)/lint.done ]; do sleep 10; done
	@echo "::: lint output :::" && cat $(TEST_RESULTS)/lint.log
	@echo "::: pytest output :::" && cat $(TEST_RESULTS)/pytest.log
	@$(SUMMARY) report

# BENCHMARK_ARGS: e.g. --profile data --compare benchmarks/results/site-<earlier>.json
benchmark: host venv images
	$(PY) benchmarks/site.py $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) .ansible .pytest_cache $(TEST_RESULTS)
