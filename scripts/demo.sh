#!/usr/bin/env bash
# The main job on the embedded local stack: start it, push an image, sign, verify, show what is
# attached, and show verification failing for a tampered artifact and for the wrong key.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin/cosign-like}
work=$(mktemp -d)
dev="$work/dev"
cleanup() { "$BIN" dev down --dir "$dev" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }
fails() {
  step "$*"
  if "$@"; then echo "demo: expected this to fail" >&2; exit 1; fi
  echo "(failed, as it must)"
}

step 'eval "$(cosign-like dev up --detach)"'
eval "$("$BIN" dev up --detach --dir "$dev")"
echo "registry at $COSIGN_LIKE_REGISTRY"

step "cosign-like dev push-sample $COSIGN_LIKE_REGISTRY/demo/app:v1"
IMAGE=$("$BIN" dev push-sample "$COSIGN_LIKE_REGISTRY/demo/app:v1")
echo "$IMAGE"

cd "$work"
export COSIGN_PASSWORD=demo-password
run "$BIN" generate-key-pair
run "$BIN" sign --key cosign.key --tlog-upload=false -a release=v1 "$IMAGE"
run "$BIN" verify --key cosign.pub --insecure-ignore-tlog -a release=v1 -o text "$IMAGE"
run "$BIN" sign --key cosign.key --tlog-upload=false --new-bundle-format=false "$IMAGE"
run "$BIN" tree "$IMAGE"

mkdir other && (cd other && "$BIN" generate-key-pair >/dev/null 2>&1)
fails "$BIN" verify --key other/cosign.pub --insecure-ignore-tlog "$IMAGE"

echo "release notes for v1" > notes.txt
run "$BIN" sign-blob --key cosign.key --tlog-upload=false --bundle notes.sigstore.json notes.txt
run "$BIN" verify-blob --key cosign.pub --insecure-ignore-tlog --bundle notes.sigstore.json notes.txt
echo "release notes for v1, edited" > notes.txt
fails "$BIN" verify-blob --key cosign.pub --insecure-ignore-tlog --bundle notes.sigstore.json notes.txt

printf '\ndemo: done\n'
