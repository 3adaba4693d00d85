#!/usr/bin/env bash
# Runs `molecule test -s <scenario>` for every scenario named as an argument,
# MOLECULE_JOBS of them at a time (default 2: on a 2-core host most of a scenario's
# wall time is apt downloads, dpkg and systemd waits, which overlap well). Each one is
# recorded for the summary of `make test` (scripts/test-summary.py) and runs even when
# another failed. A scenario's output goes to $TEST_RESULTS/molecule/<scenario>.log and
# is printed whole when it ends, with one line when it starts and one when it ends
# (passed/failed, seconds), so parallel runs do not interleave.
# Then the parts no scenario can run here are recorded as skipped, by name.
# Exit code: 0 when every scenario passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
jobs_max=${MOLECULE_JOBS:-2}
# Molecule's own podman driver playbooks hang under Mitogen (create's async_status
# never sees the job finish; mitogen 0.3.54, ansible-core 2.19.14): say so instead.
case ${ANSIBLE_STRATEGY:-} in
  mitogen*)
    echo "molecule-all.sh: the Molecule scenarios do not run under Mitogen (ANSIBLE_STRATEGY=$ANSIBLE_STRATEGY):" \
         "the podman driver's create step waits forever on its async job. Run them without MITOGEN=1;" \
         "docs/speed.md shows how to time converge and idempotence under Mitogen." >&2
    exit 2
    ;;
esac
# The key and ssh_config through which every scenario reaches its hosts (.config/molecule/config.yml).
scripts/podman-ssh.sh molecule >/dev/null || { echo "molecule-all.sh: scripts/podman-ssh.sh molecule failed" >&2; exit 2; }
results=${TEST_RESULTS:-$PWD/.test-results}
summary=("${PYTHON:-.venv/bin/python}" scripts/test-summary.py)
logs="$results/molecule"
mkdir -p "$logs"

# The scenario `cluster` needs the Kubernetes build (scripts/build-kube.sh): `make test`
# starts it in the background (its log is then in $results) and records it as kube-build.
# While that build runs, the scenarios after `cluster` in the list start in its place
# (on a fresh host the build takes 20-30 minutes beside the others); `cluster` starts as
# soon as the build is recorded, or when nothing else is left, after waiting for it. With
# no background build, the build runs here first.
kube_pending() { [ -f "$results/kube-build.log" ] && [ ! -f "$results/kube-build.json" ]; }
wait_kube() {
  if [ -f "$results/kube-build.log" ]; then
    if kube_pending; then
      echo ">> molecule:cluster waits for kube-build ($results/kube-build.log)"
      until [ -f "$results/kube-build.json" ]; do sleep 10; done
    fi
  else
    scripts/build-kube.sh || echo ">> scripts/build-kube.sh failed: the scenario cluster will say what is missing"
  fi
  KUBE_DIR="$(scripts/build-kube.sh --print-dir || true)"
  export KUBE_DIR
}

rc=0
declare -A running=()  # pid -> scenario
declare -A started=()  # scenario -> epoch seconds

finish_one() {
  local pid status s
  wait -n -p pid
  status=$?
  s=${running[$pid]}
  unset "running[$pid]"
  echo "::: molecule:$s output :::"
  cat "$logs/$s.log"
  if [ "$status" -eq 0 ]; then
    echo ">> molecule:$s passed ($(( $(date +%s) - started[$s] )) s)"
  else
    echo ">> molecule:$s FAILED, exit code $status ($(( $(date +%s) - started[$s] )) s; log $logs/$s.log)"
    rc=1
  fi
}

start_one() {
  local s=$1
  [ "$s" != cluster ] || wait_kube
  echo ">> molecule:$s started ($(( ${#running[@]} + 1 )) running)"
  started[$s]=$(date +%s)
  # --log only names the file for the summary's excerpt when the scenario fails; nothing reads it here.
  # shellcheck disable=SC2094
  "${summary[@]}" run "molecule:$s" --log "$logs/$s.log" -- molecule test -s "$s" >"$logs/$s.log" 2>&1 &
  running[$!]=$s
}

queue=("$@")
while [ "${#queue[@]}" -gt 0 ]; do
  while [ "${#running[@]}" -ge "$jobs_max" ]; do finish_one; done
  # the first scenario of the queue, passing over `cluster` while its build is still running
  pick=0
  if [ "${queue[0]}" = cluster ] && [ "${#queue[@]}" -gt 1 ] && kube_pending; then
    pick=1
    echo ">> molecule:cluster waits for kube-build; ${queue[1]} starts first"
  fi
  start_one "${queue[$pick]}"
  queue=("${queue[@]:0:$pick}" "${queue[@]:$((pick + 1))}")
done
while [ "${#running[@]}" -gt 0 ]; do finish_one; done

# What the scenarios leave out on this host, by name (see the Makefile's molecule target).
for s in "$@"; do
  case $s in
    k3s)
      [ -n "${K3S_ARTIFACTS_DIR:-}" ] || "${summary[@]}" skip molecule:k3s:real-start \
        "not provided: k3s release (K3S_ARTIFACTS_DIR; nodes Ready, pull through the mirror, reset; the Go module proxy serves no github.com/k3s-io/k3s to build one from)"
      [ -n "${K3S_UPGRADE_ARTIFACTS_DIR:-}" ] || "${summary[@]}" skip molecule:k3s:upgrade \
        "not provided: second k3s release (K3S_UPGRADE_ARTIFACTS_DIR)"
      ;;
    nvidia)
      [ -n "${NVIDIA_TOOLKIT_DEBS_DIR:-}" ] || "${summary[@]}" skip molecule:nvidia:container-toolkit \
        "not provided: nvidia-container-toolkit .deb files (NVIDIA_TOOLKIT_DEBS_DIR; in no registry reachable from CI)"
      { [ -n "${NVIDIA_TOOLKIT_DEBS_DIR:-}" ] && [ -n "${K3S_ARTIFACTS_DIR:-}" ]; } || "${summary[@]}" skip \
        molecule:nvidia:k3s-runtime "not provided: toolkit and a k3s release (NVIDIA_TOOLKIT_DEBS_DIR and K3S_ARTIFACTS_DIR; k3s restart, nvidia runtime in k3s' containerd config, RuntimeClass, node label and taint)"
      "${summary[@]}" skip molecule:nvidia:real-gpu \
        "not provided: a GPU (no GPU on the CI host; module load, nouveau unload, reboot path)"
      ;;
  esac
done
exit "$rc"
