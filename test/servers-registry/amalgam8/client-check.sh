#!/usr/bin/env bash
# Runs Amalgam8's own Go registry client against Weft's registry server (client-check.go). Needs
# Go and an amalgam8/amalgam8 checkout, as record.sh:
#   bash test/servers-registry/amalgam8/client-check.sh /path/to/amalgam8
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
src="$(cd "${1:?usage: client-check.sh <amalgam8 checkout>}" && pwd)"
gopath="$(mktemp -d)"
server=""
trap 'rm -rf "$gopath"; [ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT
mkdir -p "$gopath/src/github.com/amalgam8"
ln -s "$src" "$gopath/src/github.com/amalgam8/amalgam8"
mkdir -p "$src/cmd/weft-client-check"
cp "$here/client-check.go" "$src/cmd/weft-client-check/main.go"
(cd "$gopath/src/github.com/amalgam8/amalgam8" &&
  GO111MODULE=off GOPATH="$gopath" go build -o "$gopath/client-check" ./cmd/weft-client-check)
rm -rf "$src/cmd/weft-client-check"

# A Weft registry server with its defaults, on the sources.
out="$gopath/server.out"
(cd "$root" && exec npx node --import tsx --conditions=@weft/source --input-type=module -e "
  const { createRegistryServer } = await import('./packages/servers/src/index.ts');
  const app = await createRegistryServer();
  console.log('ready ' + await app.listen({ host: '127.0.0.1', port: 0 }));
") >"$out" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q '^ready ' "$out" && break; sleep 0.1; done
url="$(sed -n 's/^ready //p' "$out")"
[ -n "$url" ] || { cat "$out"; exit 1; }
"$gopath/client-check" "$url"
