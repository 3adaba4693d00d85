#!/usr/bin/env bash
# Runs Molecule scenarios with their playbooks under Mitogen for Ansible, for evaluation
# (docs/speed.md): `molecule create` and `prepare` without Mitogen (the podman driver's
# create step hangs under it), then `converge`, `idempotence` and `verify` with
# ANSIBLE_STRATEGY=mitogen_linear, each timed, then `destroy` without it.
# Not part of `make test` (CI time is budgeted). Usage, from the repository root:
#   scripts/molecule-mitogen.sh SCENARIO...
# Prints one line per scenario: converge and idempotence seconds and the outcome; the
# output of each scenario goes to $TEST_RESULTS/mitogen/<scenario>.log.
# Exit code: 0 when every scenario passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# What the Makefile exports for `make molecule`, so that a direct call behaves the same:
# the podman settings of the CI host (runc, ulimits) and the repository's ansible.cfg.
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/.config/containers.conf}
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$PWD/ansible.cfg}
python=${PYTHON:-.venv/bin/python}
# molecule and ansible-playbook from the same virtualenv as $python (PYTHON may name another).
PATH="$(cd "$(dirname "$python")" && pwd):$PATH"
export PATH
plugins=$("$python" -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__) + "/plugins/strategy")') || {
  echo "molecule-mitogen.sh: mitogen is not installed in $python (pip install -r requirements.txt)" >&2
  exit 2
}
logs=${TEST_RESULTS:-$PWD/.test-results}/mitogen
mkdir -p "$logs"
rc=0
for s in "$@"; do
  log="$logs/$s.log"
  : >"$log"
  outcome=passed
  times=()
  molecule destroy -s "$s" >>"$log" 2>&1
  if ! { molecule create -s "$s" && molecule prepare -s "$s"; } >>"$log" 2>&1; then
    outcome="failed in create/prepare (without Mitogen)"
  else
    for step in converge idempotence verify; do
      start=$(date +%s%N)
      if ! ANSIBLE_STRATEGY_PLUGINS=$plugins ANSIBLE_STRATEGY=mitogen_linear molecule "$step" -s "$s" >>"$log" 2>&1; then
        outcome="failed in $step under Mitogen"
        break
      fi
      ms=$(( ($(date +%s%N) - start) / 1000000 ))
      times+=("$step $((ms / 1000)).$((ms % 1000 / 100)) s")
    done
  fi
  molecule destroy -s "$s" >>"$log" 2>&1
  [ "$outcome" = passed ] || rc=1
  echo "molecule:$s under Mitogen: $outcome; ${times[*]:-no step timed} (log $log)"
done
exit "$rc"
