#!/usr/bin/env bash
# Installs, on a Debian/Ubuntu control node, the OS packages the collection's
# local demo and tests need: podman (with runc), debootstrap, skopeo and friends
# (shellcheck for ansible-test sanity).
# Idempotent; needs root (or sudo).
set -euo pipefail
pkgs=(podman runc conmon slirp4netns uidmap fuse-overlayfs containernetworking-plugins
      iptables debootstrap skopeo zstd python3-venv python3-pip git make
      docker-registry umoci busybox-static apache2-utils openssl
      postgresql-client redis-tools shellcheck)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo ">> apt-get install ${missing[*]}"
  ${sudo_cmd} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  ${sudo_cmd} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "ok: host packages present"
