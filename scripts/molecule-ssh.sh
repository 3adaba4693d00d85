#!/usr/bin/env bash
# Writes (once) what the Molecule scenarios need to reach their podman hosts over SSH
# (.config/molecule/config.yml, provisioner.connection_options): a client key and an
# ssh_config whose ProxyCommand is molecule/ssh-proxy.sh, under .cache/molecule-ssh/ of
# this checkout (ignored by git; the key never leaves this machine and opens nothing:
# each host accepts it only on the pipe of `podman exec`). scripts/molecule-all.sh runs it
# first; run it yourself before `molecule <command> -s <scenario>` by hand.
# Prints the ssh_config path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/.cache/molecule-ssh
mkdir -p "$dir" && chmod 0700 "$dir"
[ -s "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C onprem-molecule -f "$dir/id_ed25519"
config=$(cat <<CONFIG
# Written by scripts/molecule-ssh.sh: the Molecule scenarios' podman hosts, reached by name.
Host *
  User root
  IdentityFile $dir/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ControlPath /tmp/onprem-molecule-ssh-%C
  ProxyCommand $root/molecule/ssh-proxy.sh %h $dir/id_ed25519.pub
CONFIG
)
[ "$(cat "$dir/ssh_config" 2>/dev/null)" = "$config" ] || printf '%s\n' "$config" >"$dir/ssh_config"
echo "$dir/ssh_config"
