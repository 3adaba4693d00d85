#!/usr/bin/env bash
# Builds the Kubernetes control plane the `cluster` Molecule scenario runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kubectl) from the Go module
# k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3 and kwok from sigs.k8s.io/kwok,
# all with the ordinary `go` command. No prebuilt Kubernetes binary can be had on the CI
# host (../shared/TEST-HOST.md).
#
#   scripts/build-kube.sh [--print-dir]
#
# Version: the Kubernetes release k3s is built from for the k3s role's pin
# (roles/k3s/defaults/main.yml `k3s_version`, e.g. v1.37.2+k3s1 -> v1.37.2), or
# KUBE_VERSION. Output, cached: ~/.cache/onprem-stack/kube-<version>/ (KUBE_CACHE_DIR)
# with bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kubectl,etcd,kwok},
# bin/kwok-stages.yaml (the Stage objects kwok runs with) and build.json (versions, go version, seconds). A directory whose build.json exists is
# complete and is reused as it is; --print-dir prints that directory and exits non-zero
# when it is not built yet.
#
# `go install pkg@version` refuses modules with replace directives (golang/go#44840), and
# k8s.io/kubernetes replaces each k8s.io/* staging module with a directory of its own
# tree. So the build runs in a throw-away wrapper module that requires
# k8s.io/kubernetes and pins each staging module to its published v0.<minor>.<patch>
# (the pattern of kubernetes/kubernetes#79384). That list is read at build time from
# the go.mod the module proxy serves for that release (`go mod download -json`), never
# kept in this repository. The same wrapper module requires kwok (KWOK_VERSION: a tag
# built against a neighbouring Kubernetes minor) and builds etcd at the version that
# Kubernetes release requires, so that client-go, apimachinery, grpc and the rest are
# compiled once for all seven programs. Versions are stamped the way hack/lib/version.sh
# does, so the node reports kubeletVersion <version>. CGO is off: static binaries that
# run in any Debian test host. About 1.5 GB of modules and about 15 minutes on 2 cores (measured 13-14) the
# first time (GOMODCACHE and GOCACHE are Go's own caches and are kept).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KUBE_VERSION:-}" ]; then
  k3s_version="$(sed -n 's/^k3s_version: *//p' roles/k3s/defaults/main.yml | tr -d "\"'")"
  KUBE_VERSION="${k3s_version%%+*}"
fi
if ! [[ "${KUBE_VERSION}" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "build-kube: KUBE_VERSION '${KUBE_VERSION}' is not a Kubernetes release (want v1.<minor>.<patch>)" >&2
  exit 2
fi
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
out="${KUBE_CACHE_DIR:-${HOME}/.cache/onprem-stack/kube-${KUBE_VERSION}}"
# kwok: a tag whose go line the installed Go accepts and whose k8s.io/* requirements are
# within one minor of KUBE_VERSION (v0.8.0: go 1.26.0, k8s.io/* v0.36.1); it is compiled
# against the staging modules of KUBE_VERSION.
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"

# kwok_stages WRAPPER_DIR OUT_BIN: kwok (since v0.8) starts only with Stage objects given
# by --config; write the node stages (initialize, heartbeat with a lease) and pod stages
# (ready, complete, delete) that kwok's own module ships (kustomize/stage/...) into
# OUT_BIN/kwok-stages.yaml, read at build time from the module cache.
kwok_stages() {
  local dir
  dir="$(cd "$1" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  local f first=1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "${dir}/kustomize/stage/${f}" ] || { echo "build-kube: kwok ${KWOK_VERSION} ships no kustomize/stage/${f}" >&2; exit 1; }
    [ "${first}" = 1 ] || echo "---"
    first=0
    cat "${dir}/kustomize/stage/${f}"
  done >"$2/kwok-stages.yaml.tmp"
  mv "$2/kwok-stages.yaml.tmp" "$2/kwok-stages.yaml"
}

if [ "${1:-}" = "--print-dir" ]; then
  echo "${out}"
  [ -f "${out}/build.json" ]
  exit
fi
if [ -f "${out}/build.json" ]; then
  echo "ok: Kubernetes ${KUBE_VERSION}, etcd and kwok built in ${out}"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "build-kube: no go command (Go 1.26 or newer is needed to build Kubernetes ${KUBE_VERSION}; its go.mod names the minimum)" >&2
  exit 2
fi

start=$(date +%s)
step() { echo "build-kube [$(( $(date +%s) - start ))s] $*"; }
work="$(mktemp -d "${TMPDIR:-/tmp}/build-kube.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${out}.partial/bin"

step "reading k8s.io/kubernetes@${KUBE_VERSION}'s go.mod from the module proxy"
# One `go mod download -json`: the path of its go.mod and, where the proxy records it, the commit.
read -r gomod commit < <(cd "${work}" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("GoMod") or sys.exit(d.get("Error", "no GoMod")), d.get("Origin", {}).get("Hash", ""))')
[ -n "${gomod}" ] || { echo "build-kube: the module proxy gave no go.mod of k8s.io/kubernetes@${KUBE_VERSION}" >&2; exit 1; }

# The wrapper module: the same go line (so the same GODEBUG defaults), each replace
# directive of k8s.io/kubernetes with ./staging/src/<path> turned into <path> at the
# staging release, every other replace directive carried as it is.
python3 - "${gomod}" "${KUBE_VERSION}" "${staging_version}" "${KWOK_VERSION}" >"${work}/go.mod" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
kube, staging = sys.argv[2], sys.argv[3]
go_line = re.search(r"^go (\S+)$", text, re.M).group(1)
replaces = []
for block in re.findall(r"^replace \((.*?)^\)", text, re.M | re.S) + [
        m for m in re.findall(r"^replace (.+)$", text, re.M) if not m.startswith("(")]:
    for line in block.splitlines():
        line = line.split("//")[0].strip()
        if "=>" not in line:
            continue
        old, new = (s.strip() for s in line.split("=>"))
        m = re.fullmatch(r"\./staging/src/(\S+)", new)
        if m:
            new = f"{m.group(1)} {staging}"
        elif new.startswith(("./", "../")):
            sys.exit(f"build-kube: unexpected local replace in k8s.io/kubernetes go.mod: {line}")
        replaces.append(f"\t{old} => {new}")
if not replaces:
    sys.exit("build-kube: no staging replace directive found in k8s.io/kubernetes go.mod")
print("module onprem.stack/build-kube\n")
print(f"go {go_line}\n")
print(f"require (\n\tk8s.io/kubernetes {kube}\n\tsigs.k8s.io/kwok {sys.argv[4]}\n)\n")
print("replace (\n" + "\n".join(replaces) + "\n)")
PY
step "wrapper module: $(grep -c '=>' "${work}/go.mod") replace directives derived from that go.mod"

[[ "${KUBE_VERSION}" =~ ^v([0-9]+)\.([0-9]+)\. ]]
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${KUBE_VERSION} -X ${pkg}.gitMajor=${BASH_REMATCH[1]}"
  ldflags+=" -X ${pkg}.gitMinor=${BASH_REMATCH[2]} -X ${pkg}.gitCommit=${commit}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
pkgs=("${cmds[@]/#/k8s.io/kubernetes/cmd/}")
# etcd: the main package of go.etcd.io/etcd/server/v3 (server/main.go), at the version the
# wrapper module's graph selects (that of k8s.io/kubernetes' own requirement).
etcd_pkg=go.etcd.io/etcd/server/v3
kwok_pkg=sigs.k8s.io/kwok/cmd/kwok
step "downloading the modules of ${cmds[*]}, etcd and kwok (first time: about 1.5 GB)"
(cd "${work}" && GOFLAGS=-mod=mod go mod download k8s.io/kubernetes \
  && GOFLAGS=-mod=mod go list -deps "${pkgs[@]}" "${etcd_pkg}" "${kwok_pkg}" >/dev/null)
etcd_version="$(cd "${work}" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
# -dwarf=false: no debug information is compiled (the linker's -w drops it anyway).
gcflags="all=-dwarf=false"
step "compiling ${cmds[*]}, etcd ${etcd_version} and kwok ${KWOK_VERSION} (first time: about 15 minutes on 2 cores)"
(cd "${work}" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -gcflags "${gcflags}" -ldflags "${ldflags}" \
  -o "${out}.partial/bin/" "${pkgs[@]}" "${kwok_pkg}" \
  && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -gcflags "${gcflags}" -ldflags "-s -w" \
  -o "${out}.partial/bin/etcd" "${etcd_pkg}")

# Each program must print its version. The output is read whole before it is matched:
# `etcd --version | grep -q` under pipefail fails whenever grep exits at its match before
# the program has written its last line (SIGPIPE).
expect_version() {  # NAME WANT: WANT must be in what bin/NAME prints for its version
  local got
  got="$("${out}.partial/bin/$1" --version 2>/dev/null || "${out}.partial/bin/$1" version --client 2>/dev/null || true)"
  case "${got}" in *"$2"*) ;; *) echo "build-kube: $1 reports '${got}', want $2" >&2; exit 1 ;; esac
}
for c in "${cmds[@]}"; do expect_version "${c}" "${KUBE_VERSION}"; done
expect_version etcd "etcd Version: ${etcd_version#v}"
expect_version kwok "${KWOK_VERSION#v}"
kwok_stages "${work}" "${out}.partial/bin"

python3 - "${out}.partial/build.json" <<PY
import json, sys
json.dump({"kubernetes": "${KUBE_VERSION}", "staging": "${staging_version}", "commit": "${commit}",
           "etcd": "${etcd_version}", "kwok": "${KWOK_VERSION}", "go": "$(go env GOVERSION)",
           "binaries": "${cmds[*]} etcd kwok".split(), "seconds": $(( $(date +%s) - start ))},
          open(sys.argv[1], "w"), indent=1)
PY
rm -rf "${out}" && mv "${out}.partial" "${out}"
step "done: ${out}/bin ($(du -sh "${out}/bin" | cut -f1))"
