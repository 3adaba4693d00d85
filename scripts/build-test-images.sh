#!/usr/bin/env bash
# Build (once, cached) the Debian systemd host images the local inventory and
# Molecule scenarios boot as podman containers.
#
# Usage: scripts/build-test-images.sh [12|13 ...]     (default: 12 13)
# Cache: ${ONPREM_CACHE_DIR:-$HOME/.cache/onprem-stack}/debian<N>-rootfs.tar
# Image: localhost/onprem-debian<N>-systemd:latest, labelled onprem.image=<revision>: the
# tarball imported (localhost/onprem-debian<N>-rootfs) plus one layer of test-host settings:
#   /etc/dpkg/dpkg.cfg.d/onprem-test-unsafe-io  dpkg runs with force-unsafe-io (no fsync per
#       unpacked file, as in Debian's build chroots; dpkg(1)): the hosts are throw-away
#       containers, and package installs, the largest part of a converge, get much faster
#       on a busy disk. Nothing the roles do depends on it.
# A change to that layer bumps `revision`; the image is then rebuilt from the cached
# tarball in seconds (podman build with COPY only: no container is started).
set -euo pipefail
revision=r2

cache_dir="${ONPREM_CACHE_DIR:-${HOME}/.cache/onprem-stack}"
mirror="${ONPREM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
include="python3,python3-apt,systemd,systemd-sysv,systemd-timesyncd,dbus,sudo,openssh-server,iproute2,ca-certificates,procps,gnupg"
mkdir -p "${cache_dir}"

declare -A suite=([12]=bookworm [13]=trixie)

for ver in "${@:-12 13}"; do
  for v in ${ver}; do
    [[ -n "${suite[$v]:-}" ]] || { echo "unsupported Debian version '${v}' (expected 12 or 13)" >&2; exit 2; }
    image="localhost/onprem-debian${v}-systemd:latest"
    tarball="${cache_dir}/debian${v}-rootfs.tar"
    if [[ ! -s "${tarball}" ]]; then
      root="$(mktemp -d "${cache_dir}/rootfs-${v}.XXXXXX")"
      echo ">> debootstrap ${suite[$v]} into ${root}"
      debootstrap --variant=minbase --include="${include}" "${suite[$v]}" "${root}" "${mirror}" >"${cache_dir}/debootstrap-${v}.log" 2>&1 \
        || { echo "debootstrap failed, see ${cache_dir}/debootstrap-${v}.log" >&2; exit 1; }
      # Container hosts: no getty, no first-boot machine-id prompt, clean apt lists.
      chroot "${root}" systemctl mask getty@tty1.service serial-getty@console.service >/dev/null 2>&1 || true
      : >"${root}/etc/machine-id"
      printf 'deb %s %s main\n' "${mirror}" "${suite[$v]}" >"${root}/etc/apt/sources.list"
      rm -f "${root}/var/cache/apt/archives/"*.deb
      tar -C "${root}" -cf "${tarball}.tmp" .
      mv "${tarball}.tmp" "${tarball}"
      rm -rf "${root}"
    fi
    base="localhost/onprem-debian${v}-rootfs:latest"
    if ! podman image exists "${base}"; then
      echo ">> podman import ${tarball} -> ${base}"
      podman import --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' "${tarball}" "${base}" >/dev/null
    fi
    if [[ "$(podman image inspect --format '{{ index .Labels "onprem.image" }}' "${image}" 2>/dev/null)" != "${revision}" ]]; then
      echo ">> podman build ${image} (${base} + test-host settings, revision ${revision})"
      ctx="$(mktemp -d)"
      printf '# onprem.stack test host (scripts/build-test-images.sh): no fsync per unpacked file\nforce-unsafe-io\n' \
        >"${ctx}/onprem-test-unsafe-io"
      printf 'FROM %s\nCOPY onprem-test-unsafe-io /etc/dpkg/dpkg.cfg.d/onprem-test-unsafe-io\nLABEL onprem.image=%s\n' \
        "${base}" "${revision}" >"${ctx}/Containerfile"
      podman build --quiet --pull=never -t "${image}" -f "${ctx}/Containerfile" "${ctx}" >/dev/null
      rm -rf "${ctx}"
    fi
    echo "ok: ${image}"
  done
done
