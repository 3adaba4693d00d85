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
MOLECULE_SCENARIOS ?= postgresql redis default airgap credentials k3s nvidia upgrade
# Where `make test` records each part for the summary (scripts/test-summary.py).
export TEST_RESULTS ?= $(CURDIR)/.test-results
SUMMARY := $(PY) scripts/test-summary.py

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

# ansible-lint, then ansible-test sanity (validate-modules, pep8, pylint, yamllint,
# shellcheck, ...) on a copy of the collection (scripts/sanity.sh says why).
lint: venv
	ansible-lint --offline
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	scripts/sanity.sh

# PYTEST_ARGS: what pytest runs, e.g. PYTEST_ARGS=tests/unit or PYTEST_ARGS="tests -k helm4"
PYTEST_ARGS ?= tests
unit: venv
	pytest -q -rs $(PYTEST_ARGS)

# Each scenario: converge, idempotence, then its testinfra tests (molecule/<scenario>/tests/);
# every scenario runs (and is recorded) even when an earlier one fails.
# k3s: without K3S_ARTIFACTS_DIR (a real k3s release) the scenario runs with a stand-in
# release and starts nothing; its real-start steps are then recorded as skipped by name.
# nvidia: the container toolkit needs NVIDIA_TOOLKIT_DEBS_DIR, its k3s checks also
# K3S_ARTIFACTS_DIR; without them, and always for a real GPU, recorded as skipped by name.
molecule: venv images
	@rc=0; for s in $(MOLECULE_SCENARIOS); do \
	  $(SUMMARY) run molecule:$$s -- molecule test -s $$s || rc=1; \
	  if [ "$$s" = k3s ] && [ -z "$$K3S_ARTIFACTS_DIR" ]; then \
	    $(SUMMARY) skip molecule:k3s:real-start "not provided: k3s release (K3S_ARTIFACTS_DIR; nodes Ready, pull through the mirror, reset)"; fi; \
	  if [ "$$s" = k3s ] && [ -z "$$K3S_UPGRADE_ARTIFACTS_DIR" ]; then \
	    $(SUMMARY) skip molecule:k3s:upgrade "not provided: second k3s release (K3S_UPGRADE_ARTIFACTS_DIR)"; fi; \
	  if [ "$$s" = nvidia ] && [ -z "$$NVIDIA_TOOLKIT_DEBS_DIR" ]; then \
	    $(SUMMARY) skip molecule:nvidia:container-toolkit "not provided: nvidia-container-toolkit .deb files (NVIDIA_TOOLKIT_DEBS_DIR; in no registry reachable from CI)"; fi; \
	  if [ "$$s" = nvidia ] && { [ -z "$$NVIDIA_TOOLKIT_DEBS_DIR" ] || [ -z "$$K3S_ARTIFACTS_DIR" ]; }; then \
	    $(SUMMARY) skip molecule:nvidia:k3s-runtime "not provided: toolkit and a k3s release (NVIDIA_TOOLKIT_DEBS_DIR and K3S_ARTIFACTS_DIR; k3s restart, nvidia runtime in k3s' containerd config, RuntimeClass, node label and taint)"; fi; \
	  if [ "$$s" = nvidia ]; then \
	    $(SUMMARY) skip molecule:nvidia:real-gpu "not provided: a GPU (no GPU on the CI host; module load, nouveau unload, reboot path)"; fi; \
	done; exit $$rc

# Each part runs even when an earlier one failed; the summary decides the exit code.
test: host venv images
	@rm -rf $(TEST_RESULTS)
	-@$(SUMMARY) run lint -- $(MAKE) --no-print-directory lint
	-@$(SUMMARY) run pytest --junit $(TEST_RESULTS)/pytest.xml -- \
	  $(MAKE) --no-print-directory unit PYTEST_ARGS="tests --junitxml=$(TEST_RESULTS)/pytest.xml"
	-@$(MAKE) --no-print-directory molecule
	@$(SUMMARY) report

benchmark: host venv images
	$(PY) benchmarks/data_layer.py

clean:
	rm -rf $(VENV) .ansible .pytest_cache $(TEST_RESULTS)
