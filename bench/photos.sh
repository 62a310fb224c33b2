#!/usr/bin/env bash
# Photo bombs that pass the header check: COUNT (default 20) residents file a
# request each at the same moment with one 24-megapixel 8-bit RGBA PNG (the
# most expensive photo the server decodes), against a release server on a
# demo of ACCOUNTS accounts (default 1 000). Reports the answers (201 or 503
# with Retry-After once the decoding queue is full), that every 201 is stored,
# and the server's idle RSS (the reference) and peak RSS. SQLite by default,
# PostgreSQL with DATABASE_URL=postgres://…; the demo is kept in BENCH_DIR
# between runs (see bench/pages.sh). Needs Pillow (pip install pillow).
#
#   bench/photos.sh
#   COUNT=40 bench/photos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000}"
COUNT="${COUNT:-20}"
ENGINE=sqlite; [ -n "${DATABASE_URL:-}" ] && ENGINE=postgres
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-pages-$ENGINE-$ACCOUNTS}"
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --release -p kabinet --quiet
K="$PWD/target/release/kabinet"
mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn KABINET_DATA_DIR="$WORK/data"
export KABINET_LISTEN="127.0.0.1:$PORT" KABINET_AUTH_REQUESTS_PER_MINUTE=100000000
if [ -n "${DATABASE_URL:-}" ]; then
    export KABINET_DATABASE_URL="$DATABASE_URL"
    "$K" migrate >/dev/null 2>&1
fi
"$K" demo --accounts "$ACCOUNTS" --months "${MONTHS:-12}" --no-serve 2>&1 | grep -E "created|already" || true
"$K" serve 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
echo "== $ENGINE, $ACCOUNTS accounts, $(nproc) cores"
python3 bench/photos_load.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" "$COUNT" "$ACCOUNTS" "$SERVER"
