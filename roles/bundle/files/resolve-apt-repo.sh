#!/bin/sh
# Runs inside a container of a target OS (Debian/Ubuntu): downloads the given packages
# with every dependency the target lacks, into /out, and makes /out a flat apt
# repository (Packages, Packages.gz, Release) with apt-ftparchive.
# Usage: [ONPREM_APT_COMPONENTS="contrib non-free"] resolve-apt-repo.sh PACKAGE...
# ONPREM_APT_COMPONENTS: archive components to enable beside main (GPU driver packages
# live in Debian's contrib/non-free/non-free-firmware), added to the container's own
# sources (sources.list lines and deb822 .sources files alike).
set -eu
export DEBIAN_FRONTEND=noninteractive
[ "$#" -gt 0 ] || { echo "resolve-apt-repo.sh: no packages given" >&2; exit 2; }
if [ -n "${ONPREM_APT_COMPONENTS:-}" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -i -E "s/^(deb(-src)? .*) main\b.*$/\1 main ${ONPREM_APT_COMPONENTS}/" "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed -i -E "s/^Components:.*$/Components: main ${ONPREM_APT_COMPONENTS}/" "$f"
  done
fi
apt-get update -qq
rm -f /var/cache/apt/archives/*.deb
apt-get install -y -qq --download-only --no-install-recommends "$@"
rm -f /out/*.deb /out/Packages /out/Packages.gz /out/Release
cp /var/cache/apt/archives/*.deb /out/
# apt-utils (apt-ftparchive) is needed here only, not on the targets.
apt-get install -y -qq --no-install-recommends apt-utils >/dev/null
cd /out
apt-ftparchive packages . > Packages
gzip -9n < Packages > Packages.gz
apt-ftparchive -o APT::FTPArchive::Release::Origin=onprem.stack \
  -o APT::FTPArchive::Release::Label=onprem-bundle release . > /tmp/Release
mv /tmp/Release Release
find . -maxdepth 1 -name '*.deb' | wc -l
