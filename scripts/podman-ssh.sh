#!/usr/bin/env bash
# Writes (once) what Ansible needs to reach podman containers on this machine over SSH:
# a client key and an ssh_config whose ProxyCommand is scripts/ssh-proxy.sh (an sshd
# started inside the container on the pipe of `podman exec -i`), under .cache/NAME-ssh/
# of this checkout (ignored by git; the key is 0600, never leaves this machine and opens
# nothing: each host accepts it only on the pipe of `podman exec`). Prints the ssh_config
# path. Two users, each with its own key:
#   scripts/podman-ssh.sh molecule  the Molecule scenarios (.config/molecule/config.yml,
#                                   provisioner.connection_options); scripts/molecule-all.sh
#                                   runs it first; run it yourself before `molecule <command>
#                                   -s <scenario>` by hand
#   scripts/podman-ssh.sh demo      the demo host onprem-local (inventories/local/hosts.yml);
#                                   scripts/demo.sh runs it, and `--reset` removes the directory
set -euo pipefail
name=${1:?usage: scripts/podman-ssh.sh NAME (molecule or demo)}
case "$name" in *[!a-z0-9-]*) echo "podman-ssh.sh: NAME must be [a-z0-9-]: $name" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/.cache/$name-ssh
mkdir -p "$dir" && chmod 0700 "$dir"
[ -s "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "onprem-$name" -f "$dir/id_ed25519"
config=$(cat <<CONFIG
# Written by scripts/podman-ssh.sh $name: podman containers on this machine, reached by name.
Host *
  User root
  IdentityFile $dir/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ControlPath /tmp/onprem-$name-ssh-%C
  ProxyCommand $root/scripts/ssh-proxy.sh %h $dir/id_ed25519.pub
CONFIG
)
[ "$(cat "$dir/ssh_config" 2>/dev/null)" = "$config" ] || printf '%s\n' "$config" >"$dir/ssh_config"
echo "$dir/ssh_config"
