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
# The pace limit is a guard against one resident, not what is measured.
export KABINET_REQUESTS_PER_MINUTE=1000000 KABINET_STAFF_WRITES_PER_MINUTE=1000000
. bench/server.sh
python3 bench/resident.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" >/dev/null
[ "$RESIDENTS" -le $((ACCOUNTS - 100)) ] || RESIDENTS=$((ACCOUNTS - 100))
echo "== $ENGINE, $ACCOUNTS accounts, $(nproc) cores"
echo "-- GET /healthz (reference, 64 connections, 10s)"
wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$PORT/healthz" | grep -E "Requests/sec|  (50|99)%|Non-2xx|Socket errors"
python3 bench/requests_load.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" \
    "$RESIDENTS" "$DISPATCHERS" "$DURATION" "$ACCOUNTS" "$K"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
