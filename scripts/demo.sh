#!/usr/bin/env bash
# The embedded default: start (or reuse) the local podman host `onprem-local`
# from the Debian 13 systemd image, run site.yml against inventories/local and
# print how to connect. Passwords are never printed; they stay in files under
# inventories/local/.credentials/ (mode 0600).
#
#   scripts/demo.sh           create/start the host and converge it (idempotent)
#   scripts/demo.sh --reset   remove the host and its generated credentials
set -euo pipefail
cd "$(dirname "$0")/.."
name=onprem-local
image=localhost/onprem-debian13-systemd:latest
creds=inventories/local/.credentials
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/.config/containers.conf}"
[ -x .venv/bin/ansible-playbook ] && export PATH="$PWD/.venv/bin:$PATH"

if [ "${1:-}" = "--reset" ]; then
  podman rm -f "${name}" >/dev/null 2>&1 || true
  podman volume rm -f onprem-local-data >/dev/null 2>&1 || true
  rm -rf "${creds}"
  echo "removed ${name} and ${creds}"
  exit 0
fi

if ! podman container exists "${name}"; then
  podman run -d --name "${name}" --hostname "${name}" --systemd=always --privileged \
    -v onprem-local-data:/var/lib "${image}" >/dev/null
elif ! podman exec "${name}" true >/dev/null 2>&1; then
  # Stopped, or left over from a host reboot with a stale state: start it again.
  podman stop -t 0 "${name}" >/dev/null 2>&1 || true
  if ! podman start "${name}" >/dev/null; then
    echo "demo.sh: container ${name} cannot be started (see the podman error above)." >&2
    echo "Its data is kept in the volume onprem-local-data; 'make demo-reset' removes both and starts over." >&2
    exit 1
  fi
fi
for _ in $(seq 1 150); do
  state="$(podman exec "${name}" systemctl is-system-running 2>/dev/null || true)"
  case "${state}" in running|degraded) break ;; esac
  sleep 0.2
done

ansible-playbook site.yml -i inventories/local "$@"

ip="$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "${name}")"
cat <<MSG

onprem-local is ready at ${ip}. Passwords are in ${creds}/${name}/<service>/<user>
(files, mode 0600); the site CA certificate is ${creds}/pki/ca.crt.

  PostgreSQL over TLS (pgvector in appdb):
    PGPASSWORD="\$(cat ${creds}/${name}/postgresql/app)" psql "host=${ip} dbname=appdb user=app sslmode=verify-full sslrootcert=${creds}/pki/ca.crt" -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'"

  Redis as the ACL user app (keys app:*):
    REDISCLI_AUTH="\$(cat ${creds}/${name}/redis/app)" redis-cli -h ${ip} --user app SET app:hello world

  Remove it all: make demo-reset
MSG
