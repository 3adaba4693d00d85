#!/usr/bin/env bash
# The embedded default: start (or reuse) the local podman host `onprem-local`
# from the Debian 13 systemd image, run site.yml against inventories/local and
# print how to connect. Passwords are never printed; they stay in files under
# inventories/local/.credentials/ (mode 0600). Ansible reaches the host over SSH
# through scripts/ssh-proxy.sh (`podman exec -i` + `sshd -i`), with a key and an
# ssh_config written here when missing (scripts/podman-ssh.sh demo, .cache/demo-ssh/).
#
#   scripts/demo.sh           create/start the host and converge it (idempotent)
#   scripts/demo.sh --reset   remove the host, its generated credentials and its key
set -euo pipefail
cd "$(dirname "$0")/.."
name=onprem-local
image=localhost/onprem-debian13-systemd:latest
creds=inventories/local/.credentials
ssh_dir=.cache/demo-ssh  # inventories/local/hosts.yml reads its ssh_config
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/.config/containers.conf}"
[ -x .venv/bin/ansible-playbook ] && export PATH="$PWD/.venv/bin:$PATH"

if [ "${1:-}" = "--reset" ]; then
  podman rm -f "${name}" >/dev/null 2>&1 || true
  podman volume rm -f onprem-local-data >/dev/null 2>&1 || true
  rm -rf "${creds}" "${ssh_dir}"
  echo "removed ${name}, ${creds} and ${ssh_dir}"
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

# The cluster layer: a single k3s server on the same host, from K3S_ARTIFACTS_DIR (a k3s
# release's k3s, sha256sum-amd64.txt and k3s-airgap-images-amd64.tar.zst) or from the
# upstream release when this host reaches it; left out otherwise, and said so.
k3s_version="$(sed -n 's/^k3s_version: *//p' roles/k3s/defaults/main.yml)"
k3s_release="https://github.com/k3s-io/k3s/releases/download/${k3s_version/+/%2B}"
k3s_inventory=()
k3s_note=""
# DEMO_K3S=0 leaves it out without asking (tests/functional/test_demo.py does).
if [ "${DEMO_K3S:-auto}" = 0 ]; then
  k3s_note="k3s cluster layer LEFT OUT: DEMO_K3S=0."
elif [ -n "${K3S_ARTIFACTS_DIR:-}" ] || curl -fsSL -o /dev/null --max-time 10 "${k3s_release}/sha256sum-amd64.txt" 2>/dev/null; then
  k3s_file="$(mktemp --suffix=.yml)"
  trap 'rm -f "${k3s_file}"' EXIT
  {
    echo "k3s_server:"
    echo "  hosts:"
    echo "    ${name}:"
    echo "  vars:"
    [ -n "${K3S_ARTIFACTS_DIR:-}" ] && echo "    k3s_artifacts_dir: \"$(realpath "${K3S_ARTIFACTS_DIR}")\""
  } > "${k3s_file}"
  k3s_inventory=(-i "${k3s_file}")
  k3s_note="k3s ${k3s_version}: single server on ${name} (from ${K3S_ARTIFACTS_DIR:-the upstream release}); kubeconfig in ${creds}/site/k3s/kubeconfig"
else
  k3s_note="k3s cluster layer LEFT OUT: K3S_ARTIFACTS_DIR is not set and the upstream release (${k3s_release}) is not reachable from this host. Set K3S_ARTIFACTS_DIR to a directory with k3s, sha256sum-amd64.txt and k3s-airgap-images-amd64.tar.zst to add it."
fi
echo "demo.sh: ${k3s_note}"

scripts/podman-ssh.sh demo >/dev/null
ansible-playbook site.yml -i inventories/local "${k3s_inventory[@]}" "$@"

ip="$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "${name}")"
cat <<MSG

onprem-local is ready at ${ip}. Passwords are in ${creds}/${name}/<service>/<user>
(files, mode 0600); the site CA certificate is ${creds}/pki/ca.crt.

  PostgreSQL over TLS (pgvector in appdb):
    PGPASSWORD="\$(cat ${creds}/${name}/postgresql/app)" psql "host=${ip} dbname=appdb user=app sslmode=verify-full sslrootcert=${creds}/pki/ca.crt" -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'"

  Redis over TLS as the ACL user app (keys app:*):
    REDISCLI_AUTH="\$(cat ${creds}/${name}/redis/app)" redis-cli --tls --cacert ${creds}/pki/ca.crt -h ${ip} --user app SET app:hello world

  ${k3s_note}

  Remove it all: make demo-reset
MSG
