#!/usr/bin/env bash
# Requests under load: RESIDENTS (default 200) residents file requests with a
# photo (a 1600×1200 JPEG with EXIF GPS, checked and re-encoded by the server),
# each waiting a random 0–2×THINK_S s (default 10) between them,
# while DISPATCHERS (default 5) staff members, signed in with TOTP, work the
# queue — open it, take a request, reply, complete it — for DURATION seconds
# (default 60). GET /healthz under wrk in the same run is the reference.
# Afterwards the requests are counted in the database: every 201 answer has
# its row and its photo, nothing else was added; errors fail the run.
# A release server on a demo of ACCOUNTS accounts (default 1 000; 1 000 000 for
# the big one), SQLite by default or PostgreSQL with DATABASE_URL=postgres://….
# The demo is kept in BENCH_DIR between runs (see bench/pages.sh). Needs
# Pillow (pip install pillow) for the photo.
#
#   bench/requests.sh
#   ACCOUNTS=1000000 bench/requests.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1/kabinet_bench ACCOUNTS=1000000 bench/requests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000}"
RESIDENTS="${RESIDENTS:-200}"
DISPATCHERS="${DISPATCHERS:-5}"
DURATION="${DURATION:-60}"
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
python3 bench/resident.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" >/dev/null
[ "$RESIDENTS" -le $((ACCOUNTS - 100)) ] || RESIDENTS=$((ACCOUNTS - 100))
echo "== $ENGINE, $ACCOUNTS accounts, $(nproc) cores"
echo "-- GET /healthz (reference, 64 connections, 10s)"
wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$PORT/healthz" | grep -E "Requests/sec|  (50|99)%|Non-2xx|Socket errors"
python3 bench/requests_load.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" \
    "$RESIDENTS" "$DISPATCHERS" "$DURATION" "$ACCOUNTS" "$K"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
