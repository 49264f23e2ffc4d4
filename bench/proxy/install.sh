#!/usr/bin/env bash
# Installs what `npm run bench:proxy` compares against: nginx and HAProxy as reverse proxies, and
# wrk as the load generator (Debian packages), and Caddy built from Go modules into the servers'
# cache (~/.cache/weft-servers/bin, as Consul and kube-apiserver). Idempotent; needs root (or sudo).
set -euo pipefail
CADDY_VERSION=v2.11.9
caddy_bin="${HOME}/.cache/weft-servers/bin/caddy"
if [ ! -x "$caddy_bin" ]; then
  echo "building Caddy ${CADDY_VERSION} from Go modules (a few minutes on 2 cores)"
  mkdir -p "$(dirname "$caddy_bin")"
  GOBIN="$(dirname "$caddy_bin")" go install "github.com/caddyserver/caddy/v2/cmd/caddy@${CADDY_VERSION}"
fi
need=()
for bin in nginx haproxy wrk; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then need+=("$bin"); fi
done
if [ "${#need[@]}" -eq 0 ]; then
  echo "nginx, haproxy and wrk are installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
# The packages start system services; the benchmark runs its own instances.
for svc in nginx haproxy; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
echo "installed: ${need[*]}"
