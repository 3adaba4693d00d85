#!/usr/bin/env bash
# Build (once, cached) the Debian systemd host images the local inventory and
# Molecule scenarios boot as podman containers.
#
# Usage: scripts/build-test-images.sh [--dkms] [12|13 ...]     (default: 12 13)
# Cache: ${ONPREM_CACHE_DIR:-$HOME/.cache/onprem-stack}/debian<N>-rootfs.tar
# Image: localhost/onprem-debian<N>-systemd:latest, labelled onprem.image=<revision>: the
# tarball imported (localhost/onprem-debian<N>-rootfs) plus one layer of test-host settings:
#   /etc/dpkg/dpkg.cfg.d/onprem-test-unsafe-io  dpkg runs with force-unsafe-io (no fsync per
#       unpacked file, as in Debian's build chroots; dpkg(1)): the hosts are throw-away
#       containers, and package installs, the largest part of a converge, get much faster
#       on a busy disk. Nothing the roles do depends on it.
# A change to that layer bumps `revision`; the image is then rebuilt from the cached
# tarball in seconds (podman build with COPY only: no container is started).
# DKMS image (with --dkms): localhost/onprem-debian<N>-dkms:latest, labelled onprem.dkms-image, for the
# hosts on which the nvidia role builds the driver's kernel module (scenarios nvidia and
# airgap): the systemd image plus Debian's ccache and three settings, so that a DKMS build
# of the same driver for the same kernel headers compiles only what changed since the last
# test run (the named podman volume onprem-test-ccache, mounted by those scenarios at
# /var/cache/onprem-ccache, keeps the cache between runs; `podman volume rm onprem-test-ccache` empties it):
#   /usr/local/bin/<compiler>  ccache's masquerade links for the compiler names the kernel
#       headers and dkms(8) call (gcc, cc, gcc-<V>, x86_64-linux-gnu-gcc[-<V>]); ccache runs
#       the real compiler from /usr/bin, so the module is built by the same gcc;
#   /etc/apt/apt.conf.d/99onprem-test-ccache  DPkg::Path with /usr/local/bin first: apt runs
#       dpkg's maintainer scripts (the DKMS build in nvidia-kernel-dkms' postinst) with
#       DPkg::Path, whose default leaves /usr/local/bin out;
#   /etc/ccache.conf  the cache directory and its size limit.
# Nothing else changes: the bundle still resolves packages against the systemd image (a
# package ccache pulls in never hides one missing from the bundle), and ccache never caches
# a failed compile (the open flavour's DKMS failure stays a real failure). Building it needs
# Debian's archive (one apt-get install inside `podman build`).
set -euo pipefail
revision=r2
dkms_revision=d1

cache_dir="${ONPREM_CACHE_DIR:-${HOME}/.cache/onprem-stack}"
mirror="${ONPREM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
include="python3,python3-apt,systemd,systemd-sysv,systemd-timesyncd,dbus,sudo,openssh-server,iproute2,ca-certificates,procps,gnupg"
dkms=0
if [[ "${1:-}" == --dkms ]]; then dkms=1; shift; fi
mkdir -p "${cache_dir}"

declare -A suite=([12]=bookworm [13]=trixie)
declare -A gcc_version=([12]=12 [13]=14)

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
    [[ "${dkms}" == 1 ]] || continue
    dkms_image="localhost/onprem-debian${v}-dkms:latest"
    # Rebuilt when its revision or the systemd image under it changed.
    want="${dkms_revision}-$(podman image inspect --format '{{.Id}}' "${image}" | cut -c1-12)"
    if [[ "$(podman image inspect --format '{{ index .Labels "onprem.dkms-image" }}' "${dkms_image}" 2>/dev/null)" != "${want}" ]]; then
      echo ">> podman build ${dkms_image} (${image} + ccache for DKMS builds, ${want})"
      ctx="$(mktemp -d)"
      printf '# onprem.stack test host (scripts/build-test-images.sh): maintainer scripts find ccache first\nDPkg::Path "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";\n' \
        >"${ctx}/99onprem-test-ccache"
      printf '# onprem.stack test host (scripts/build-test-images.sh): DKMS builds cached between test runs\ncache_dir = /var/cache/onprem-ccache\nmax_size = 3G\nsloppiness = include_file_mtime,include_file_ctime,time_macros\n' \
        >"${ctx}/ccache.conf"
      {
        echo "FROM ${image}"
        echo "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ccache >/dev/null \\"
        echo "    && apt-get clean && rm -rf /var/lib/apt/lists/* \\"
        echo "    && for c in gcc cc gcc-${gcc_version[$v]} x86_64-linux-gnu-gcc x86_64-linux-gnu-gcc-${gcc_version[$v]}; do ln -s /usr/bin/ccache /usr/local/bin/\$c; done"
        echo "COPY 99onprem-test-ccache /etc/apt/apt.conf.d/99onprem-test-ccache"
        echo "COPY ccache.conf /etc/ccache.conf"
        echo "LABEL onprem.dkms-image=${want}"
      } >"${ctx}/Containerfile"
      podman build --quiet --pull=never -t "${dkms_image}" -f "${ctx}/Containerfile" "${ctx}" >/dev/null
      rm -rf "${ctx}"
    fi
    echo "ok: ${dkms_image}"
  done
done
