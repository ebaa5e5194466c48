#!/usr/bin/env bash
# The main job on the embedded local stack: start it, push an image, sign it keyless as an OIDC
# identity, verify it by identity, show what is attached, and show verification failing for the
# wrong identity; then the same with a key pair, and a tampered blob failing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin/cosign-like}
work=$(mktemp -d)
dev="$work/dev"
cleanup() { "$BIN" dev down --dir "$dev" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
# run prints the command (with the token shortened to $TOKEN) and runs it.
run() { local shown="$*"; [ -n "${TOKEN:-}" ] && shown=${shown//$TOKEN/\$TOKEN}; step "$shown"; "$@"; }
fails() {
  local shown="$*"; [ -n "${TOKEN:-}" ] && shown=${shown//$TOKEN/\$TOKEN}
  step "$shown"
  if "$@"; then echo "demo: expected this to fail" >&2; exit 1; fi
  echo "(failed, as it must)"
}

step 'eval "$(cosign-like dev up --detach)"'
eval "$("$BIN" dev up --detach --dir "$dev")"
echo "registry $COSIGN_LIKE_REGISTRY, OIDC issuer $COSIGN_LIKE_OIDC_ISSUER"
echo "trusted root $COSIGN_LIKE_TRUSTED_ROOT, signing config $COSIGN_LIKE_SIGNING_CONFIG"

step "cosign-like dev push-sample $COSIGN_LIKE_REGISTRY/demo/app:v1"
IMAGE=$("$BIN" dev push-sample "$COSIGN_LIKE_REGISTRY/demo/app:v1")
echo "$IMAGE"

step 'TOKEN=$(cosign-like dev token --email alice@example.com)'
TOKEN=$("$BIN" dev token --email alice@example.com)
echo "${TOKEN:0:40}..."

run "$BIN" sign -y --identity-token "$TOKEN" "$IMAGE"
run "$BIN" verify --certificate-identity alice@example.com --certificate-oidc-issuer "$COSIGN_LIKE_OIDC_ISSUER" "$IMAGE"
run "$BIN" tree "$IMAGE"
fails "$BIN" verify --certificate-identity bob@example.com --certificate-oidc-issuer "$COSIGN_LIKE_OIDC_ISSUER" "$IMAGE"

cd "$work"
export COSIGN_PASSWORD=demo-password
run "$BIN" generate-key-pair
run "$BIN" sign --key cosign.key -a release=v1 "$IMAGE"
run "$BIN" verify --key cosign.pub -a release=v1 -o text "$IMAGE"

echo "release notes for v1" > notes.txt
run "$BIN" sign-blob -y --identity-token "$TOKEN" --bundle notes.sigstore.json notes.txt
run "$BIN" verify-blob --certificate-identity alice@example.com --certificate-oidc-issuer "$COSIGN_LIKE_OIDC_ISSUER" --bundle notes.sigstore.json notes.txt
echo "release notes for v1, edited" > notes.txt
fails "$BIN" verify-blob --certificate-identity alice@example.com --certificate-oidc-issuer "$COSIGN_LIKE_OIDC_ISSUER" --bundle notes.sigstore.json notes.txt

step "cosign-like dev down"
"$BIN" dev down --dir "$dev"
printf '\ndemo: done\n'
