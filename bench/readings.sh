#!/usr/bin/env bash
# Readings under load: RESIDENTS (default 500) residents spread over the demo
# hand in readings for all their meters at once, over as many connections,
# for DURATION seconds (default 60) — the end of a readings window — back to
# back (THINK_MS=0, the default: the server's ceiling) or each waiting a
# random 0–2×THINK_MS ms between submissions like a person at a form. With
# GET /healthz in the same run as the reference. Afterwards every resident's
# readings are counted in the database: none lost, none doubled (one row per
# meter, zone and period), and the audit lines against wrk's answers.
# A release server on a demo of ACCOUNTS accounts (default 1 000; 1 000 000 for
# the big one), SQLite by default or PostgreSQL with DATABASE_URL=postgres://….
# The window is set to the whole month so the run does not depend on the day.
# The demo is kept in BENCH_DIR between runs (see bench/pages.sh).
#
#   bench/readings.sh
#   ACCOUNTS=1000000 bench/readings.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1/kabinet_bench ACCOUNTS=1000000 bench/readings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000}"
RESIDENTS="${RESIDENTS:-500}"
DURATION="${DURATION:-60}"
export KABINET_READINGS_FROM_DAY=1 KABINET_READINGS_TO_DAY=31
# The pace limit is a guard against one resident, not what is measured.
export KABINET_READINGS_PER_MINUTE=1000000
. bench/server.sh
# Makes sure the demo resident exists (its user row is the residents' template).
python3 bench/resident.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" >/dev/null
[ "$RESIDENTS" -le "$ACCOUNTS" ] || RESIDENTS=$ACCOUNTS
python3 bench/readings_load.py prepare "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" "$RESIDENTS" "$ACCOUNTS" "$WORK/readings"
BEFORE=$(python3 bench/readings_load.py audit "$WORK/data" "${DATABASE_URL:-}")
echo "== $ENGINE, $ACCOUNTS accounts, $RESIDENTS residents on as many connections, ${DURATION}s, think time ${THINK_MS:-0} ms (mean), $(nproc) cores"
echo "-- GET /healthz (reference, 64 connections, 10s)"
wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$PORT/healthz" | grep -E "Requests/sec|  (50|99)%|Non-2xx|Socket errors"
echo "-- POST /api/v1/accounts/{number}/readings"
OUT=$(BENCH_ITEMS="$WORK/readings/items.tsv" THINK_MS="${THINK_MS:-0}" wrk -t2 -c"$RESIDENTS" -d"${DURATION}s" --timeout 10s --latency \
    -s bench/readings.lua "http://127.0.0.1:$PORT/")
echo "$OUT" | grep -E "requests in|Requests/sec|  (50|75|90|99)%|Non-2xx|Socket errors"
AFTER=$(python3 bench/readings_load.py audit "$WORK/data" "${DATABASE_URL:-}")
ANSWERED=$(echo "$OUT" | awk '/requests in/ {print $1}')
FAILED=$(echo "$OUT" | awk '/Non-2xx/ {print $NF}'); FAILED=${FAILED:-0}
echo "== accepted answers (wrk): $((ANSWERED - FAILED)); audit lines written: $((AFTER - BEFORE)) (wrk does not count answers still in flight when it stops)"
python3 bench/readings_load.py verify "$WORK/data" "${DATABASE_URL:-}" "$WORK/readings"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
