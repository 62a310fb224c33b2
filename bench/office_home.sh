#!/usr/bin/env bash
# The office's home page at a million accounts: a demo of ACCOUNTS
# accounts (kept in BENCH_DIR between runs) where READ percent of the active
# meters have a reading handed in for the period being taken, and the demo
# administrator signed in. Reports, from one server run:
#   - GET /healthz under wrk (the reference: no database work);
#   - the first GET /staff, which counts the period's readings and the
#     accounts with meters (the figure is then kept a minute);
#   - GET /staff under wrk with the figure kept (the other counts run on
#     every view, as before);
#   - the two counts alone, timed in the database (sqlite3 module or psql).
# SQLite by default, PostgreSQL with DATABASE_URL=postgres://… (an empty
# database the script fills once).
#
#   bench/office_home.sh                  # 1 000 000 accounts
#   ACCOUNTS=100000 bench/office_home.sh  # a smaller run
#   DATABASE_URL=postgres://postgres@127.0.0.1/kabinet_bench_office bench/office_home.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000000}"
READ="${READ:-50}"
DURATION="${DURATION:-10}"
ENGINE=sqlite; [ -n "${DATABASE_URL:-}" ] && ENGINE=postgres
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-office-$ENGINE-$ACCOUNTS}"
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn KABINET_DATA_DIR="$WORK/data"
export KABINET_LISTEN="127.0.0.1:$PORT" KABINET_PUBLIC_URL="$BASE" KABINET_AUTH_REQUESTS_PER_MINUTE=100000000
DB="$WORK/data/kabinet.db"
if [ "$ENGINE" = postgres ]; then
    export KABINET_DATABASE_URL="$DATABASE_URL"
fi
. bench/staff.sh
# The period readings handed in today count for, with the default window
# (15th–25th, late readings for the next period).
PERIOD=$(python3 -c '
import datetime
d = datetime.date.today()
y, m = (d.year + d.month // 12, d.month % 12 + 1) if d.day > 25 else (d.year, d.month)
print(y * 100 + m)')
if [ ! -f "$WORK/demo.out" ]; then
    echo "== generating $ACCOUNTS accounts (once; kept in $WORK)"
    [ "$ENGINE" = postgres ] && "$K" migrate >/dev/null 2>&1
    "$K" demo --accounts "$ACCOUNTS" --months 1 --no-serve >"$WORK/demo.out.tmp" 2>&1
    # One portal reading per active meter of READ percent of the meters,
    # dated as a billing reading of the demo (its stored formats).
    sql "INSERT INTO meter_readings (meter_id, zone, value, taken_on, source, submitted_at, period)
         SELECT m.id, 1, 1, (SELECT taken_on FROM meter_readings ORDER BY id LIMIT 1), 'portal',
                (SELECT submitted_at FROM meter_readings ORDER BY id LIMIT 1), $PERIOD
         FROM meters m WHERE m.status = 'active' AND (m.id * 37) % 100 < $READ
         ON CONFLICT DO NOTHING"
    [ "$ENGINE" = postgres ] && sql "ANALYZE"
    mv "$WORK/demo.out.tmp" "$WORK/demo.out"
fi
read -r USER PASS SECRET < <(sed -n 's/.*Administrator console at \/staff\/login: login \([^,]*\), password \([^,]*\), TOTP secret \([A-Z2-7]*\).*/\1 \2 \3/p' "$WORK/demo.out")
echo "== $ENGINE: $(sql "SELECT count(*) FROM accounts") accounts, $(sql "SELECT count(*) FROM meters") meters, $(sql "SELECT count(*) FROM meter_readings") readings, $(sql "SELECT count(*) FROM meter_readings WHERE period = $PERIOD") portal readings for $PERIOD"
"$K" serve 2>"$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 300); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.2; done
JAR="$WORK/jar"
rm -f "$JAR"
staff_sign_in "$USER" "$PASS" "$SECRET"
SESSION=$(awk '$6 == "kabinet_staff" {print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "the administrator did not sign in"; exit 1; }
echo "-- GET /healthz (reference)"
wrk -t2 -c8 -d"${DURATION}s" --latency "$BASE/healthz" | grep -E "Requests/sec|  (50|99)%"
echo "-- the first GET /staff (counts the readings figure)"
curl -s -b "$JAR" -o "$WORK/home.html" -w "  %{time_total} s\n" "$BASE/staff"
python3 - "$WORK/home.html" <<'PY'
import re, sys
m = re.search(r"<dt>(Показания[^<]*)</dt>\s*<dd><a[^>]*>([^<]*)</a>", open(sys.argv[1], encoding="utf-8").read())
print("  %s: %s" % m.groups() if m else "  (no readings figure on the page)")
PY
echo "-- GET /staff with the figure kept"
wrk -t2 -c8 -d"${DURATION}s" --latency -H "Cookie: kabinet_staff=$SESSION" "$BASE/staff" | grep -E "Requests/sec|  (50|99)%|Non-2xx"
for q in "accounts with a reading for the period|SELECT count(DISTINCT m.account_id) FROM meter_readings r JOIN meters m ON m.id = r.meter_id WHERE r.period = $PERIOD" \
         "accounts with an active meter|SELECT count(DISTINCT account_id) FROM meters WHERE status = 'active'"; do
    T0=$(date +%s.%N)
    N=$(sql "${q#*|}")
    T1=$(date +%s.%N)
    printf -- "-- %s: %s in %.0f ms (the query alone, with the client's start)\n" "${q%%|*}" "$N" "$(echo "($T1-$T0)*1000" | bc)"
done
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
