#!/usr/bin/env bash
# The office's home page at a million accounts, SQLite: a demo of ACCOUNTS
# accounts (kept in BENCH_DIR between runs) where READ percent of the active
# meters have a reading handed in for the period being taken, and the demo
# administrator signed in. Reports, from one server run:
#   - GET /healthz under wrk (the reference: no database work);
#   - the first GET /staff, which counts the period's readings and the
#     accounts with meters (the figure is then kept a minute);
#   - GET /staff under wrk with the figure kept (the other counts run on
#     every view, as before);
#   - the two counts alone, timed in the database (sqlite3 module).
#
#   bench/office_home.sh                  # 1 000 000 accounts
#   ACCOUNTS=100000 bench/office_home.sh  # a smaller run
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000000}"
READ="${READ:-50}"
DURATION="${DURATION:-10}"
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-office-$ACCOUNTS}"
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --release -p kabinet --quiet
K="$PWD/target/release/kabinet"
mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn KABINET_DATA_DIR="$WORK/data"
export KABINET_LISTEN="127.0.0.1:$PORT" KABINET_PUBLIC_URL="$BASE" KABINET_AUTH_REQUESTS_PER_MINUTE=100000000
DB="$WORK/data/kabinet.db"
# The period readings handed in today count for, with the default window
# (15th–25th, late readings for the next period).
PERIOD=$(python3 -c '
import datetime
d = datetime.date.today()
y, m = (d.year + d.month // 12, d.month % 12 + 1) if d.day > 25 else (d.year, d.month)
print(y * 100 + m)')
if [ ! -f "$WORK/demo.out" ]; then
    echo "== generating $ACCOUNTS accounts (once; kept in $WORK)"
    "$K" demo --accounts "$ACCOUNTS" --months 1 --no-serve >"$WORK/demo.out.tmp" 2>&1
    python3 - "$DB" "$READ" "$PERIOD" <<'PY'
import sqlite3, sys
db, read, period = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(db)
# One portal reading per active meter of READ percent of the meters, dated a
# day after a billing reading of the demo (the stored formats are its own).
c.execute("""
INSERT OR IGNORE INTO meter_readings (meter_id, zone, value, taken_on, source, submitted_at, period)
SELECT m.id, 1, 1, (SELECT taken_on FROM meter_readings ORDER BY id LIMIT 1), 'portal',
       (SELECT submitted_at FROM meter_readings ORDER BY id LIMIT 1), ?
FROM meters m WHERE m.status = 'active' AND (m.id * 37) % 100 < ?""", (period, read))
c.commit()
PY
    mv "$WORK/demo.out.tmp" "$WORK/demo.out"
fi
read -r USER PASS SECRET < <(sed -n 's/.*Administrator console at \/staff\/login: login \([^,]*\), password \([^,]*\), TOTP secret \([A-Z2-7]*\).*/\1 \2 \3/p' "$WORK/demo.out")
python3 - "$DB" "$PERIOD" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
print("== %d accounts, %d meters, %d readings, %d portal readings for %s" % (
    c.execute("SELECT count(*) FROM accounts").fetchone()[0],
    c.execute("SELECT count(*) FROM meters").fetchone()[0],
    c.execute("SELECT count(*) FROM meter_readings").fetchone()[0],
    c.execute("SELECT count(*) FROM meter_readings WHERE period = ?", (sys.argv[2],)).fetchone()[0],
    sys.argv[2]))
PY
"$K" serve 2>"$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 300); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.2; done
JAR="$WORK/jar"
rm -f "$JAR"
. bench/staff.sh
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
python3 - "$DB" "$PERIOD" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
for name, sql, args in [
    ("accounts with a reading for the period", "SELECT count(DISTINCT m.account_id) FROM meter_readings r JOIN meters m ON m.id = r.meter_id WHERE r.period = ?", (sys.argv[2],)),
    ("accounts with an active meter", "SELECT count(DISTINCT account_id) FROM meters WHERE status = 'active'", ()),
]:
    t = time.perf_counter()
    n = c.execute(sql, args).fetchone()[0]
    print("-- %s: %d in %.0f ms (the query alone)" % (name, n, (time.perf_counter() - t) * 1000))
PY
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
