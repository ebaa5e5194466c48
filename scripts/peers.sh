#!/usr/bin/env bash
# Builds the peer programs the interop tests run, at pinned versions, from the Go module proxy
# and the npm registry, into a cache directory (built once per machine, reused after):
#   $COSIGN_LIKE_PEERS (default ~/.cache/cosign-like/peers)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
peers=${COSIGN_LIKE_PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/cosign-like/peers}
mkdir -p "$peers"

# go_peer NAME MODULE/CMD VERSION: go install MODULE/CMD@VERSION as $peers/NAME.
go_peer() {
  local name=$1 pkg=$2 version=$3
  if [ -x "$peers/$name" ] && [ "$(cat "$peers/$name.version" 2>/dev/null)" = "$pkg@$version" ]; then
    return
  fi
  echo "building $pkg@$version into $peers/$name"
  local tmp
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install -trimpath "$pkg@$version"
  install -m 0755 "$tmp/$(basename "$pkg")" "$peers/$name"
  echo "$pkg@$version" > "$peers/$name.version"
  rm -rf "$tmp"
}

go_peer cosign github.com/sigstore/cosign/v3/cmd/cosign v3.1.3
