#!/usr/bin/env bash
# Starts a scaled-out set of servers on loopback, each behind its own haproxy:
#   N `log serve` front-ends on one aws:// storage (a MariaDB database and a versitygw bucket),
#   N `tsa serve` replicas of one TSA directory, and, with ISSUER set (an OIDC issuer URL the CA
#   trusts, e.g. dev up's COSIGN_LIKE_OIDC_ISSUER), N `ct serve` front-ends of one CT log on its
#   own aws:// storage (database and bucket ctlog, on the same MariaDB and versitygw) and N
#   `ca serve` replicas of one CA directory submitting to them.
# Usage: scripts/replicas.sh [N]   (default 3; Ctrl-C stops everything)
# Needs bin/cosign-like (make build), mariadb-server and haproxy (scripts/test-deps.sh), and
# versitygw (scripts/peers.sh). State lives in $WORK (default: a new temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3}
BIN=${BIN:-$PWD/bin/cosign-like}
peers=${COSIGN_LIKE_PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/cosign-like/peers}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
BASE=${BASE_PORT:-7100} # front doors: log BASE, TSA BASE+1, CA BASE+2, CT log BASE+3; servers above
[ -x "$BIN" ] || { echo "missing $BIN: run make build" >&2; exit 1; }
[ -x "$peers/versitygw" ] || { echo "missing $peers/versitygw: run scripts/peers.sh" >&2; exit 1; }
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { echo "haproxy is not installed: scripts/test-deps.sh" >&2; exit 1; }
PATH=$PATH:/usr/sbin
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; echo "stopped; state in $WORK"; }
trap cleanup EXIT INT TERM
started() { pids+=("$!"); }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }
# balance PORT NAME PORT...: haproxy on PORT round-robin over the servers, checked on /healthz.
balance() {
  local port=$1 name=$2 cfg="$WORK/haproxy-$2.cfg" i=0; shift 2
  printf 'global\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 90s\n  timeout server 90s\n  retries 3\n  option redispatch\n  retry-on conn-failure\nfrontend %s\n  bind 127.0.0.1:%s\n  default_backend servers\nbackend servers\n  balance roundrobin\n  option httpchk GET /healthz\n' "$name" "$port" > "$cfg"
  for p in "$@"; do i=$((i + 1)); echo "  server s$i 127.0.0.1:$p check inter 250ms fall 2 rise 2" >> "$cfg"; done
  haproxy -db -f "$cfg" > "$WORK/haproxy-$name.log" 2>&1 & started
  wait_port "$port"
}

# MariaDB and the object store.
db=$((BASE + 50)) s3=$((BASE + 51))
mariadb-install-db --no-defaults --datadir="$WORK/mariadb" --auth-root-authentication-method=normal --skip-test-db \
  $([ "$(id -u)" -eq 0 ] && echo --user=root) > "$WORK/mariadb-install.log" 2>&1
mariadbd --no-defaults --datadir="$WORK/mariadb" --socket="$WORK/mysqld.sock" --port=$db --bind-address=127.0.0.1 \
  --skip-grant-tables --max-connections=1000 --log-error="$WORK/mariadb.log" $([ "$(id -u)" -eq 0 ] && echo --user=root) & started
wait_port $db
mariadb --no-defaults -h 127.0.0.1 -P $db -u root -e 'CREATE DATABASE IF NOT EXISTS tlog; CREATE DATABASE IF NOT EXISTS tlog_v1; CREATE DATABASE IF NOT EXISTS ctlog'
export AWS_ACCESS_KEY_ID=replicas AWS_SECRET_ACCESS_KEY=replicas-secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
mkdir -p "$WORK/s3/tlog" "$WORK/s3/ctlog" # versitygw's POSIX backend: a bucket is a directory
"$peers/versitygw" --port 127.0.0.1:$s3 --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" posix "$WORK/s3" > "$WORK/versitygw.log" 2>&1 & started
wait_port $s3
# aws_storage DB BUCKET: the aws:// storage spec of a database and a bucket on these two servers.
aws_storage() { echo "aws://?db=root%40tcp%28127.0.0.1%3A$db%29%2F$1&bucket=$2&endpoint=http%3A%2F%2F127.0.0.1%3A$s3&region=us-east-1&path-style=true"; }
storage=$(aws_storage tlog tlog)

# serve_set NAME FRONT OFFSET copy|shared DIR ARGS...: N `$BIN NAME serve` processes on ports
# BASE+OFFSET+i, on DIR (shared) or each on its own copy DIR-i (copy: keys and config, as each
# machine would have), with ARGS, behind haproxy on FRONT.
serve_set() {
  local name=$1 front=$2 offset=$3 mode=$4 dir=$5 ports=() i p d
  shift 5
  for i in $(seq "$N"); do
    p=$((BASE + offset + i)); ports+=("$p"); d=$dir
    if [ "$mode" = copy ]; then d="$dir-$i"; [ -d "$d" ] || cp -r "$dir" "$d"; fi
    "$BIN" "$name" serve --dir "$d" --addr "127.0.0.1:$p" "$@" > "$WORK/$name-$i.log" 2>&1 & started
  done
  for p in "${ports[@]}"; do wait_port "$p"; done
  balance "$front" "$name" "${ports[@]}"
}

# Log front-ends.
[ -d "$WORK/log" ] || "$BIN" log init --dir "$WORK/log" --url "http://127.0.0.1:$BASE" >/dev/null
serve_set log "$BASE" 10 copy "$WORK/log" --storage "$storage"

# TSA replicas.
[ -d "$WORK/tsa" ] || "$BIN" tsa init --dir "$WORK/tsa" --url "http://127.0.0.1:$((BASE + 1))" >/dev/null
serve_set tsa $((BASE + 1)) 20 shared "$WORK/tsa"

# CT log front-ends and CA replicas.
if [ -n "${ISSUER:-}" ]; then
  [ -d "$WORK/ct" ] || "$BIN" ct init --dir "$WORK/ct" --url "http://127.0.0.1:$((BASE + 3))" >/dev/null
  ct_storage=$(aws_storage ctlog ctlog)
  serve_set ct $((BASE + 3)) 40 copy "$WORK/ct" --storage "$ct_storage"
  [ -d "$WORK/ca" ] || "$BIN" ca init --dir "$WORK/ca" --url "http://127.0.0.1:$((BASE + 2))" >/dev/null
  serve_set ca $((BASE + 2)) 30 shared "$WORK/ca" --ct-url "http://127.0.0.1:$((BASE + 3))" \
    --ct-public-key "$WORK/ct/ct_pub.pem" --issuer "$ISSUER"
fi

echo "log (Rekor v2 API): http://127.0.0.1:$BASE   ($N front-ends, storage $storage)"
echo "TSA:                http://127.0.0.1:$((BASE + 1))   ($N replicas of $WORK/tsa)"
if [ -n "${ISSUER:-}" ]; then
  echo "CA:                 http://127.0.0.1:$((BASE + 2))   ($N replicas of $WORK/ca)"
  echo "CT log:             http://127.0.0.1:$((BASE + 3))   ($N front-ends, storage $ct_storage)"
fi
echo "state and logs in $WORK; Ctrl-C stops"
wait
