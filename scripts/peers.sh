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

# npm_peer DIR: npm ci of DIR's package.json and package-lock.json into $peers/<name of DIR>,
# again whenever the lock file changes. The tests run DIR's scripts with NODE_PATH pointing at
# that node_modules.
npm_peer() {
  local src=$1 dst
  dst="$peers/$(basename "$src")"
  if [ -d "$dst/node_modules" ] && cmp -s "$src/package-lock.json" "$dst/package-lock.json"; then
    return
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is not installed: the npm packages of $src are not installed" >&2
    return
  fi
  echo "installing the npm packages of $src into $dst"
  local tmp
  tmp=$(mktemp -d "$peers/.npm.XXXXXX")
  cp "$src/package.json" "$src/package-lock.json" "$tmp/"
  if ! (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error); then
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$dst"
  mv "$tmp" "$dst"
}

go_peer cosign github.com/sigstore/cosign/v3/cmd/cosign v3.1.3
go_peer rekor-cli github.com/sigstore/rekor/cmd/rekor-cli v1.5.4
go_peer omniwitness github.com/transparency-dev/witness/cmd/omniwitness v0.0.0-20260720115447-2e1c6971d19e
go_peer versitygw github.com/versity/versitygw/cmd/versitygw v1.8.0
go_peer rekor-tiles github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix v2.3.0
npm_peer test/sigstore-js
