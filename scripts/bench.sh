#!/usr/bin/env bash
# make bench: Go benchmarks, then end-to-end measurements of the binary, printed as figures.
# Everything runs on 127.0.0.1; every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
ROOT=$PWD
work=$(mktemp -d)
# The binary is measured as installed: a copy written with ordinary writes, as install(1), a
# package manager or a download writes it. The file the linker has just written sits in the page
# cache in large folios that the kernel maps 2 MiB at a time, which adds about 10 MiB of
# resident file pages to every start of that one file.
install -m 0755 "$ROOT/bin/cosign-like" "$work/cosign-like"
BIN=$work/cosign-like
dev="$work/dev"
cleanup() { "$BIN" dev down --dir "$dev" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
BENCHTIME=${BENCHTIME:-1s}
BLOB_MIB=${BLOB_MIB:-1024}

section() { printf '\n== %s\n' "$*"; }

# peak_rss_mib CMD...: runs CMD and prints its peak RSS in MiB (GNU time).
peak_rss_mib() { /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }; echo $(( $(cat "$work/rss") / 1024 )); }
# wall_ms CMD...: runs CMD and prints its wall time in ms.
wall_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
# p50_ms N CMD...: median wall time of N runs.
p50_ms() { local n=$1; shift; for _ in $(seq "$n"); do wall_ms "$@"; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if [ -z "${SKIP_GO_BENCH:-}" ]; then
section "Go benchmarks (benchtime $BENCHTIME)"
go test -run '^$' -bench . -skip 'BenchmarkCAReplicas' -benchtime "$BENCHTIME" -timeout 30m \
  ./pkg/oci ./pkg/verify ./pkg/signer ./pkg/tsa ./pkg/ca ./pkg/ca/ctlog ./pkg/devstack ./pkg/cosign ./pkg/admission ./pkg/witness 2>/dev/null \
  | grep -E 'ns/op|^(ok|FAIL|---)' || true
section "Rekor v1 index search over HTTP: bbolt at 10^5 entries (POSIX), the database at 2*10^4 (MariaDB)"
go test -run '^$' -bench 'BenchmarkV1Search' -benchtime "$BENCHTIME" -timeout 10m ./pkg/tlog/logserver 2>/dev/null \
  | grep -E 'ns/op|^(ok|FAIL|---)' || true
section "Witnessed appends (one client, 20 appends each: no policy, and a policy requiring our witness over HTTP)"
go test -run '^$' -bench 'WitnessedAppend' -benchtime 20x -timeout 10m ./pkg/tlog/logserver 2>/dev/null \
  | grep -E 'p50-ms|^(ok|FAIL|---)' || true
fi

if [ -z "${SKIP_SCALE_BENCH:-}" ]; then
section "Log appends through haproxy, 64 clients, 2,000 entries: one POSIX front-end; 1, 2, 3 front-ends on MariaDB + S3 (versitygw)"
go test -run '^$' -bench BenchmarkFrontEnds -benchtime 1x -timeout 20m ./pkg/tlog/logserver 2>/dev/null \
  | grep -E 'appends/s|^(ok|FAIL|---)' || true
section "CA through haproxy, 64 clients, 2,000 certificates: 1 and 3 ca serve processes of one CA directory, CT log 2 ct serve front-ends on MariaDB + S3"
go test -run '^$' -bench BenchmarkCAReplicas -benchtime 1x -timeout 10m ./pkg/ca 2>/dev/null \
  | grep -E 'certs/s|^(ok|FAIL|---)' || true
fi

section "CLI start-up"
echo "cosign-like version: peak RSS $(peak_rss_mib "$BIN" version) MiB (target <= 25 MiB)"

section "Blob signing of a ${BLOB_MIB} MiB file (keyed, no log)"
cd "$work"
export COSIGN_PASSWORD=bench
"$BIN" generate-key-pair >/dev/null 2>&1
head -c $((BLOB_MIB << 20)) /dev/urandom > blob.bin
sha=$(wall_ms sha256sum blob.bin)
sign=$(wall_ms "$BIN" sign-blob --key cosign.key --tlog-upload=false --bundle blob.json blob.bin)
verify=$(wall_ms "$BIN" verify-blob --key cosign.pub --insecure-ignore-tlog --bundle blob.json blob.bin)
echo "sha256sum:   ${sha} ms"
echo "sign-blob:   ${sign} ms ($(awk "BEGIN{printf \"%.2f\", $sign/$sha}")x sha256sum, target <= 0.6x), peak RSS $(peak_rss_mib "$BIN" sign-blob --key cosign.key --tlog-upload=false --bundle blob.json blob.bin) MiB (target <= 40)"
echo "verify-blob: ${verify} ms ($(awk "BEGIN{printf \"%.2f\", $verify/$sha}")x sha256sum, target <= 0.6x), peak RSS $(peak_rss_mib "$BIN" verify-blob --key cosign.pub --insecure-ignore-tlog --bundle blob.json blob.bin) MiB (target <= 40)"
head -c 1024 /dev/urandom > small.bin
echo "sign-blob of 1 KiB with the same key: peak RSS $(peak_rss_mib "$BIN" sign-blob --key cosign.key --tlog-upload=false --bundle small.json small.bin) MiB (the key file's scrypt, N=2^16 r=8, is computed in an 8 MiB table instead of 64 MiB)"
if command -v softhsm2-util >/dev/null 2>&1 && [ -e /usr/lib/softhsm/libsofthsm2.so ]; then
  export SOFTHSM2_CONF="$work/softhsm2.conf"
  mkdir -p "$work/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$work/tokens" > "$SOFTHSM2_CONF"
  softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 12345 >/dev/null
  uri="pkcs11:token=bench;object=blob?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234"
  "$BIN" generate-key-pair --kms "$uri" --output-key-prefix hsm >/dev/null 2>&1
  hsm=$(wall_ms "$BIN" sign-blob --key "$uri" --tlog-upload=false --bundle hsm.json blob.bin)
  echo "sign-blob with a PKCS#11 (SoftHSM) key: ${hsm} ms ($(awk "BEGIN{printf \"%.2f\", $hsm/$sha}")x sha256sum), peak RSS $(peak_rss_mib "$BIN" sign-blob --key "$uri" --tlog-upload=false --bundle hsm.json blob.bin) MiB (target <= 40)"
  unset SOFTHSM2_CONF
fi
rm -f blob.bin small.bin

section "Attestation of a 50 MiB SBOM (keyed, no log, in-process registry; peak RSS of the attest process)"
(cd "$ROOT" && go test -count=1 -run '^TestAttestLargeSBOMMemory$' -v ./cmd/cosign-like 2>&1 | grep -E 'peak RSS' | sed 's/^ *attest_test.go:[0-9]*: //') || true

section "Transparency log appends (POSIX storage, signature checks included, server in its own process)"
(cd "$ROOT" && go run ./cmd/loadgen-tlog --bin "$BIN" --clients "${LOG_CLIENTS:-1,64,256,1024}" --entries 20000 --duration 15s) 2>&1 | grep -v '^I[0-9]' || true

section "Rekor v1 API: appends and index search at ${V1_BENCH_ENTRIES:-100000} entries (POSIX storage, bbolt index)"
(cd "$ROOT" && go test -v -run '^$' -bench 'BenchmarkV1' -benchtime "$BENCHTIME" -timeout 20m ./pkg/tlog/logserver 2>&1 | grep -E 'ns/op|built a v1 tree' | sed 's/^ *v1bench_test.go:[0-9]*: //') || true

section "Keyless on the local stack (whole process, warm stack)"
eval "$("$BIN" dev up --detach --dir "$dev" 2>/dev/null)"
IMAGE=$("$BIN" dev push-sample "$COSIGN_LIKE_REGISTRY/bench/app:v1")
TOKEN=$("$BIN" dev token --email bench@example.com)
"$BIN" sign -y --identity-token "$TOKEN" "$IMAGE" >/dev/null 2>&1
echo "keyless sign:        p50 $(p50_ms 15 "$BIN" sign -y --identity-token "$TOKEN" "$IMAGE") ms (target <= 150 ms)"
IMAGE2=$("$BIN" dev push-sample "$COSIGN_LIKE_REGISTRY/bench/verify:v1")
"$BIN" sign -y --identity-token "$TOKEN" "$IMAGE2" >/dev/null 2>&1
echo "verify by identity:  p50 $(p50_ms 15 "$BIN" verify --certificate-identity bench@example.com --certificate-oidc-issuer "$COSIGN_LIKE_OIDC_ISSUER" "$IMAGE2") ms (target <= 60 ms)"
"$BIN" dev down --dir "$dev" >/dev/null 2>&1
printf '\nbench: done\n'
