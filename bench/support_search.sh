#!/usr/bin/env bash
# Residents' support search at a million accounts: the demo of ACCOUNTS
# accounts (kept in BENCH_DIR between runs) with a registered resident —
# e-mail and phone — on every third account, and the demo administrator
# signed in. Reports, from one server run:
#   - GET /healthz under wrk (the reference: no database work);
#   - one search by each field (account number, e-mail, phone, address),
#     timed by curl, with how many rows it found;
#   - each search under wrk (median and 99th percentile).
# SQLite by default, PostgreSQL with DATABASE_URL=postgres://… (an empty
# database the script fills once). The demo of bench/office_home.sh can be
# reused with BENCH_DIR (residents are added once).
#
#   bench/support_search.sh                  # 1 000 000 accounts
#   ACCOUNTS=100000 bench/support_search.sh  # a smaller run
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000000}"
DURATION="${DURATION:-10}"
ENGINE=sqlite; [ -n "${DATABASE_URL:-}" ] && ENGINE=postgres
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-support-$ENGINE-$ACCOUNTS}"
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn KABINET_DATA_DIR="$WORK/data"
export KABINET_LISTEN="127.0.0.1:$PORT" KABINET_PUBLIC_URL="$BASE" KABINET_AUTH_REQUESTS_PER_MINUTE=100000000
DB="$WORK/data/kabinet.db"
[ "$ENGINE" = postgres ] && export KABINET_DATABASE_URL="$DATABASE_URL"
. bench/staff.sh
if [ ! -f "$WORK/demo.out" ]; then
    echo "== generating $ACCOUNTS accounts (once; kept in $WORK)"
    [ "$ENGINE" = postgres ] && "$K" migrate >/dev/null 2>&1
    "$K" demo --accounts "$ACCOUNTS" --months 1 --no-serve >"$WORK/demo.out.tmp" 2>&1
    mv "$WORK/demo.out.tmp" "$WORK/demo.out"
fi
# The schema of this build (the demo may be older), then the residents.
"$K" migrate >/dev/null 2>&1 || true
if [ ! -f "$WORK/residents.done" ]; then
    echo "== registering a resident on every third account (once)"
    if [ "$ENGINE" = postgres ]; then PHONE="'+79' || lpad(a.id::text, 9, '0')"; else PHONE="'+79' || printf('%09d', a.id)"; fi
    sql "INSERT INTO users (account_id, email, password_hash, password_generated, created_at, password_changed_at, phone)
         SELECT a.id, 'resident' || a.id || '@example.ru', u.password_hash, u.password_generated, u.created_at, u.password_changed_at, $PHONE
         FROM accounts a, (SELECT * FROM users ORDER BY id LIMIT 1) u
         WHERE a.id % 3 = 0 AND NOT EXISTS (SELECT 1 FROM users x WHERE x.account_id = a.id)"
    sql "INSERT INTO user_accounts (user_id, account_id, linked_at)
         SELECT u.id, u.account_id, u.created_at FROM users u
         WHERE NOT EXISTS (SELECT 1 FROM user_accounts ua WHERE ua.user_id = u.id AND ua.account_id = u.account_id)"
    [ "$ENGINE" = postgres ] && sql "ANALYZE"
    touch "$WORK/residents.done"
fi
read -r USER PASS SECRET < <(sed -n 's/.*Administrator console at \/staff\/login: login \([^,]*\), password \([^,]*\), TOTP secret \([A-Z2-7]*\).*/\1 \2 \3/p' "$WORK/demo.out")
NUMBER=$(sql "SELECT number FROM accounts WHERE id = 300003")
ADDRESS=$(sql "SELECT p.address FROM accounts a JOIN premises p ON p.id = a.premises_id WHERE a.id = 300003")
echo "== $ENGINE: $(sql "SELECT count(*) FROM accounts") accounts, $(sql "SELECT count(*) FROM users") residents"
"$K" serve 2>"$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 300); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.2; done
JAR="$WORK/jar"
rm -f "$JAR"
staff_sign_in "$USER" "$PASS" "$SECRET"
SESSION=$(awk '$6 == "kabinet_staff" {print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "the administrator did not sign in"; exit 1; }
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
echo "-- GET /healthz (reference)"
wrk -t2 -c8 -d"${DURATION}s" --latency "$BASE/healthz" | grep -E "Requests/sec|  (50|99)%"
for s in "account|${NUMBER:0:${#NUMBER}-1}" "email|resident30000" "phone|+7 900 030" "address|${ADDRESS:0:${#ADDRESS}-2}"; do
    FIELD=${s%%|*}
    URL="$BASE/staff/residents?by=$FIELD&q=$(urlencode "${s#*|}")"
    echo "-- search by $FIELD: \"${s#*|}\""
    curl -s -b "$JAR" -o "$WORK/found.html" -w "  first request %{time_total} s, status %{http_code}\n" "$URL"
    python3 - "$WORK/found.html" <<'PY'
import re, sys
m = re.search(r'<p role="status">([^<]*)</p>', open(sys.argv[1], encoding="utf-8").read())
print("  " + (m.group(1) if m else "(no result line)"))
PY
    wrk -t2 -c8 -d"${DURATION}s" --latency -H "Cookie: kabinet_staff=$SESSION" "$URL" | grep -E "Requests/sec|  (50|99)%|Non-2xx" | sed 's/^/  /'
done
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
