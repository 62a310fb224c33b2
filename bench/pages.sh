#!/usr/bin/env bash
# Page load: a signed-in resident's portal pages under wrk — the overview, the
# invoices, the charges of the last 12 months, the payments, the invoice page
# and the charges CSV — with GET /healthz in the same run as the reference
# (what the stack serves with no database work), and the overview's weight
# with every asset. PAGES="/cabinet /charges" picks pages.
# A release server on a demo of ACCOUNTS accounts (default 1 000; 1 000 000 for
# the big one), SQLite by default or PostgreSQL with DATABASE_URL=postgres://….
# The demo is kept in BENCH_DIR between runs (generating a million accounts
# takes minutes); a fresh one is made when it is missing.
#
#   bench/pages.sh
#   ACCOUNTS=1000000 bench/pages.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1/kabinet_bench ACCOUNTS=1000000 bench/pages.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000}"
DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-64}"
. bench/server.sh
read -r ACCOUNT _ SESSION < <(python3 bench/resident.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}")
curl -fs -o /dev/null -H "Cookie: kabinet_session=$SESSION" "http://127.0.0.1:$PORT/cabinet"

PERIOD=$(curl -fs -H "Cookie: kabinet_session=$SESSION" "http://127.0.0.1:$PORT/invoices" | grep -o '/invoices/[0-9-]*' | head -1 | cut -d/ -f3)
PAGES="${PAGES:-/cabinet /invoices /charges /payments /accounts/$ACCOUNT/invoices/$PERIOD /charges.csv}"
WEIGHT=$(( $(curl -fs -H "Cookie: kabinet_session=$SESSION" "http://127.0.0.1:$PORT/cabinet" | wc -c) + $(curl -fs "http://127.0.0.1:$PORT/assets/style.css" | wc -c) ))
echo "== $ENGINE, $ACCOUNTS accounts, resident $ACCOUNT, $CONNECTIONS connections, ${DURATION}s, $(nproc) cores"
echo "== overview weight with its stylesheet (the only asset): $WEIGHT bytes uncompressed"
for path in /healthz $PAGES; do
    echo "-- GET $path"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Cookie: kabinet_session=$SESSION" \
        "http://127.0.0.1:$PORT$path" | grep -E "Requests/sec|  (50|99)%|Non-2xx|Socket errors"
done
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
