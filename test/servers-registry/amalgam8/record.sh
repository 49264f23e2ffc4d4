#!/usr/bin/env bash
# Re-records exchanges.json from Amalgam8's own registry server. Needs Go and an amalgam8/amalgam8
# checkout (any commit since the registry moved to registry/server; recorded at 0cfc04c0):
#   bash test/servers-registry/amalgam8/record.sh /path/to/amalgam8
# It builds recorder.go inside the checkout in GOPATH mode (the server packages use the
# checkout's vendor/ directory, so they cannot be imported from outside it) and runs it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "${1:?usage: record.sh <amalgam8 checkout>}" && pwd)"
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/github.com/amalgam8"
ln -s "$src" "$gopath/src/github.com/amalgam8/amalgam8"
mkdir -p "$src/cmd/weft-recorder"
cp "$here/recorder.go" "$src/cmd/weft-recorder/main.go"
commit="${A8_COMMIT:-$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
(cd "$gopath/src/github.com/amalgam8/amalgam8" &&
  GO111MODULE=off GOPATH="$gopath" go build -o "$gopath/recorder" ./cmd/weft-recorder)
rm -rf "$src/cmd/weft-recorder"
# UTC, as last_heartbeat is rendered in the server's local zone.
TZ=UTC A8_COMMIT="$commit" "$gopath/recorder" "$src/registry/messages" "$here/requests.json" "$here/exchanges.json"
echo "wrote $here/exchanges.json"
