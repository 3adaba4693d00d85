#!/bin/sh
# ProxyCommand of the podman hosts that Ansible reaches over SSH, the Molecule scenarios'
# and the demo's onprem-local (ssh_config written by scripts/podman-ssh.sh): ssh talks to
# an sshd started for this one connection inside the podman container named $1 (`sshd -i`,
# inetd mode, on the pipe of `podman exec -i`), so Ansible reaches the host over SSH with
# pipelining and a ControlPersist master: one process start per task instead of the three
# to four `podman exec` of the podman connection (docs/speed.md has the figures). No port,
# address or running ssh service is needed, and a host on an --internal network is reached
# the same way. The client's public key ($2, a file on the control node) is accepted
# through AuthorizedKeysCommand (/bin/echo prints it): nothing is written on the host.
# Usage (ssh_config): ProxyCommand scripts/ssh-proxy.sh %h <public key file>
set -eu
host=$1
key=$(cat "$2")
exec podman exec -i "$host" /bin/sh -c \
  'mkdir -p -m 0755 /run/sshd && exec /usr/sbin/sshd -i -o LogLevel=ERROR -o PermitRootLogin=prohibit-password -o "AuthorizedKeysCommand /bin/echo $1" -o AuthorizedKeysCommandUser=nobody' \
  sh "$key"
