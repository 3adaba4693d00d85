#!/usr/bin/env bash
# Molecule `dependency` step of the airgap scenario: (re)creates the podman network the
# target hosts sit on with --internal, so that they have no route out of it.
set -euo pipefail
net=onprem-molecule-airgap
if podman network exists "$net"; then
  if [ "$(podman network inspect "$net" --format '{{.Internal}}')" = "true" ]; then
    echo "ok: $net is internal"; exit 0
  fi
  podman ps -aq --filter "network=$net" | xargs -r podman rm -f >/dev/null
  podman network rm "$net" >/dev/null
fi
podman network create --internal "$net" >/dev/null
echo "created internal network $net"
