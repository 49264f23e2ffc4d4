#!/usr/bin/env bash
# Installs what `npm run bench:proxy` compares against: nginx and HAProxy as reverse proxies, and
# wrk as the load generator (Debian packages). Idempotent; needs root (or sudo).
set -euo pipefail
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
