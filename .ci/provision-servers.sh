#!/usr/bin/env bash
# Provision the real servers used by Weft's registry-adapter integration tests.
#
#   etcd            Debian's etcd-server (3.4, serves the v2 API with
#                   --enable-v2=true) -> /usr/bin/etcd
#   etcd35          etcd >= 3.5 (3.6.x) built from go.etcd.io/etcd/server/v3
#                   (kube-apiserver 1.34 refuses etcd 3.4)
#   consul          Consul 1.16.3 (last MPL-2.0 release the module proxy serves)
#   kube-apiserver  kube-apiserver 1.34.x built from k8s.io/kubernetes
#   pyeureka        py_eureka_client from PyPI in a venv (the Eureka API's
#                   real client), pinned by test/servers-registry/eureka-client
#   javaeureka      Netflix's eureka-client (Maven Central), compiled with a
#                   small driver from test/servers-registry/eureka-client-java
#
# Go-built binaries land in ${WEFT_SERVERS_CACHE:-$HOME/.cache/weft-servers}/bin
# (outside git). A binary is rebuilt only when the sha256 of its wrapper
# module (go.mod, go.sum, main.go), the Go version and the link flags differ
# from the stamp written by the last successful build, so a second run is a
# few hash computations.
#
# Usage: .ci/provision-servers.sh [etcd|etcd35|consul|kube|pyeureka|javaeureka ...]   (default: all)
# Env:   WEFT_SERVERS_CACHE  cache dir (default ~/.cache/weft-servers)
#        WEFT_SERVERS_FORCE=1  rebuild even when the stamp matches
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test/servers"
CACHE="${WEFT_SERVERS_CACHE:-$HOME/.cache/weft-servers}"
BIN="$CACHE/bin"
STAMPS="$CACHE/stamps"
mkdir -p "$BIN" "$STAMPS"

TIMINGS=()
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[provision-servers] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt-get update only when the package lists do not know package $1 yet.
# (output captured first: grep -q closing the pipe early would SIGPIPE
# apt-cache and, under pipefail, look like "not found")
apt_lists_know() {
  local policy_out
  policy_out="$(apt-cache policy "$1" 2>/dev/null || true)"
  if ! grep -qE 'Candidate: [0-9]' <<<"$policy_out"; then
    log "apt lists lack $1: running apt-get update"
    apt-get update -qq
  fi
}

# run_step NAME FUNC [ARGS...]: runs FUNC, records and prints its wall time.
run_step() {
  local name="$1"; shift
  local t0; t0="$(now)"
  log "==> $name"
  "$@"
  local dt; dt="$(elapsed "$t0")"
  TIMINGS+=("$(printf '%-28s %8ss' "$name" "$dt")")
  log "<== $name done in ${dt}s"
}

# --------------------------------------------------------------------------
# Debian etcd 3.4 (v2 API capable)
# --------------------------------------------------------------------------
provision_etcd_debian() {
  if command -v etcd >/dev/null 2>&1; then
    log "etcd already present: $(command -v etcd) ($(etcd --version 2>/dev/null | head -1))"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "installing etcd-server needs root (apt-get install -y etcd-server)"
  export DEBIAN_FRONTEND=noninteractive
  apt_lists_know etcd-server
  # The package's maintainer scripts would start an etcd daemon on :2379;
  # the tests start their own instances, so keep service starts off during
  # the install (policy-rc.d is honoured by invoke-rc.d / deb-systemd-invoke).
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
  fi
  local rc=0
  apt-get install -y -qq --no-install-recommends etcd-server >/dev/null || rc=$?
  if [[ "$created_policy" == 1 ]]; then rm -f "$policy"; fi
  [[ "$rc" == 0 ]] || die "apt-get install -y etcd-server failed (exit $rc)"
  command -v etcd >/dev/null 2>&1 || die "etcd-server installed but no 'etcd' on PATH"
  log "installed $(etcd --version | head -1)"
}

# --------------------------------------------------------------------------
# Go-built servers
# --------------------------------------------------------------------------
require_go() {
  command -v go >/dev/null 2>&1 ||
    die "Go toolchain not found (need Go >= 1.24 on PATH to build consul/kube-apiserver/etcd35)"
}

# stamp_of DIR EXTRA: hash of the wrapper module + toolchain + link flags.
stamp_of() {
  local dir="$1" extra="$2"
  {
    cat "$dir/go.mod" "$dir/go.sum" "$dir/main.go"
    go env GOVERSION GOOS GOARCH
    printf '%s\n' "$extra"
  } | sha256sum | cut -d' ' -f1
}

# build_go NAME DIR LDFLAGS_EXTRA [ENV=VAL ...]
build_go() {
  local name="$1" dir="$2" ldx="$3"; shift 3
  require_go
  [[ -f "$dir/go.mod" && -f "$dir/go.sum" && -f "$dir/main.go" ]] ||
    die "wrapper module missing in $dir (go.mod, go.sum, main.go)"
  local ldflags="-s -w${ldx:+ $ldx}"
  local want; want="$(stamp_of "$dir" "$ldflags")"
  local stamp="$STAMPS/$name.sha256" out="$BIN/$name"
  if [[ "${WEFT_SERVERS_FORCE:-0}" != 1 && -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "$name is up to date ($out)"
    return 0
  fi
  rm -f "$stamp"
  local t0
  t0="$(now)"
  # GOFLAGS from the caller's environment is replaced on purpose: -mod=readonly
  # makes a stale go.sum an error instead of a silent network resolution.
  ( cd "$dir" && env "$@" GOFLAGS="-trimpath -buildvcs=false -mod=readonly" go mod download ) ||
    die "go mod download failed for $name ($dir)"
  log "$name: modules downloaded in $(elapsed "$t0")s; compiling (this takes minutes on 2 cores)"
  t0="$(now)"
  ( cd "$dir" && env "$@" CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false -mod=readonly" \
      go build -ldflags="$ldflags" -o "$out.tmp" . ) ||
    die "go build failed for $name ($dir)"
  mv -f "$out.tmp" "$out"
  printf '%s\n' "$want" > "$stamp"
  log "$name: compiled in $(elapsed "$t0")s -> $out ($(du -h "$out" | cut -f1))"
}

provision_consul() {
  # go.sum is committed, so no checksum-db look-ups are needed; these two
  # modules are absent from the checksum database the proxy mirrors (404),
  # which only matters when go.sum is regenerated (go mod tidy).
  build_go consul "$SRC/consul" "" \
    GONOSUMDB=github.com/hashicorp/consul/envoyextensions,github.com/hashicorp/hcp-sdk-go
}

provision_etcd35() {
  build_go etcd35 "$SRC/etcd35" ""
}

provision_kube() {
  require_go
  local v
  v="$(sed -nE 's/^require k8s\.io\/kubernetes (v[0-9.]+)$/\1/p; s/^\tk8s\.io\/kubernetes (v[0-9.]+)$/\1/p' "$SRC/kube/go.mod" | head -1)"
  [[ "$v" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "cannot read k8s.io/kubernetes version from $SRC/kube/go.mod"
  local major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}" x=""
  # What `make` in kubernetes stamps into the binary (hack/lib/version.sh);
  # without it /version reports v0.0.0-master.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    x+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  build_go kube-apiserver "$SRC/kube" "${x# }"
}

# --------------------------------------------------------------------------
# py_eureka_client in a venv (PyPI), for the registry's Eureka API test
# --------------------------------------------------------------------------
provision_pyeureka() {
  local req="$ROOT/test/servers-registry/eureka-client/requirements.txt"
  local venv="$CACHE/pyenv/eureka" stamp="$STAMPS/pyeureka.sha256"
  if ! command -v python3 >/dev/null 2>&1; then
    # The test skips, saying so: Python is the one thing this step cannot install by itself.
    log "WARNING: python3 not found; the Eureka client test will be skipped"
    return 0
  fi
  local want
  want="$({ cat "$req"; python3 --version 2>&1; } | sha256sum | cut -d' ' -f1)"
  if [[ "${WEFT_SERVERS_FORCE:-0}" != 1 && -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "pyeureka is up to date ($venv)"
    return 0
  fi
  rm -rf "$venv" "$stamp"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install -y python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" ||
    die "pip install -r $req failed"
  printf '%s\n' "$want" > "$stamp"
  log "pyeureka: $("$venv/bin/python" -m pip show py-eureka-client 2>/dev/null | sed -n 's/^Version: //p') in $venv"
}

# --------------------------------------------------------------------------
# Netflix's eureka-client (Maven Central) and its driver, for the same test
# --------------------------------------------------------------------------
provision_javaeureka() {
  local dir="$ROOT/test/servers-registry/eureka-client-java"
  local out="$CACHE/java-eureka" stamp="$STAMPS/javaeureka.sha256"
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    log "WARNING: java or mvn not found; the Netflix eureka-client test will be skipped"
    return 0
  fi
  # mvn's version captured whole first: `mvn -v | head -1` under pipefail fails whenever head
  # closes the pipe before mvn has written everything (SIGPIPE), which ended provisioning at random.
  local want mvn_version
  mvn_version="$(mvn -v 2>&1 || true)"
  want="$({ cat "$dir/pom.xml" "$dir"/src/main/java/weft/*.java; java -version 2>&1; printf '%s\n' "${mvn_version%%$'\n'*}"; } |
    sha256sum | cut -d' ' -f1)"
  if [[ "${WEFT_SERVERS_FORCE:-0}" != 1 && -f "$out/classpath.txt" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "javaeureka is up to date ($out)"
    return 0
  fi
  rm -rf "$out" "$stamp"
  mkdir -p "$out"
  # The build directory is the cache, so nothing is written into the work tree.
  mvn -q -B -f "$dir/pom.xml" -DbuildDir="$out/target" compile dependency:build-classpath \
    -Dmdep.outputFile="$out/classpath.txt" || die "mvn compile failed for $dir"
  printf '%s\n' "$want" > "$stamp"
  log "javaeureka: compiled into $out"
}

print_versions() {
  log "versions:"
  if command -v etcd >/dev/null 2>&1; then
    printf '  %-16s %s\n' etcd "$(etcd --version 2>/dev/null | head -1)" >&2
  fi
  [[ -x "$BIN/etcd35" ]] && printf '  %-16s %s\n' etcd35 "$("$BIN/etcd35" --version 2>/dev/null | head -1)" >&2
  [[ -x "$BIN/consul" ]] && printf '  %-16s %s\n' consul "$("$BIN/consul" version 2>/dev/null | head -1)" >&2
  [[ -x "$BIN/kube-apiserver" ]] && printf '  %-16s %s\n' kube-apiserver "$("$BIN/kube-apiserver" --version 2>/dev/null | head -1)" >&2
  return 0
}

# --------------------------------------------------------------------------
# Debian's chromium, for the browser checks (API docs; the dashboard later)
# --------------------------------------------------------------------------
provision_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    log "chromium already present: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "installing chromium needs root (apt-get install -y chromium)"
  export DEBIAN_FRONTEND=noninteractive
  apt_lists_know chromium
  apt-get install -y -qq --no-install-recommends chromium >/dev/null || die "apt-get install -y chromium failed"
  [[ -x /usr/bin/chromium ]] || die "chromium installed but no /usr/bin/chromium"
}

main() {
  local targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || targets=(etcd etcd35 consul kube pyeureka javaeureka)
  local t0; t0="$(now)"
  log "cache: $CACHE"
  for t in "${targets[@]}"; do
    case "$t" in
      etcd) run_step "etcd (debian etcd-server)" provision_etcd_debian ;;
      etcd35) run_step "etcd35 (go build)" provision_etcd35 ;;
      consul) run_step "consul (go build)" provision_consul ;;
      kube | kube-apiserver) run_step "kube-apiserver (go build)" provision_kube ;;
      pyeureka) run_step "py_eureka_client (pip)" provision_pyeureka ;;
      javaeureka) run_step "Netflix eureka-client (mvn)" provision_javaeureka ;;
      chromium) run_step "chromium (debian)" provision_chromium ;;
      *) die "unknown target '$t' (expected: etcd etcd35 consul kube pyeureka javaeureka chromium)" ;;
    esac
  done
  print_versions
  log "timings:"
  printf '  %s\n' "${TIMINGS[@]}" >&2
  log "total $(elapsed "$t0")s"
}

main "$@"
