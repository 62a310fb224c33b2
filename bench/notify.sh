#!/usr/bin/env bash
# Notifications at a million accounts: the demo of ACCOUNTS accounts (kept in
# BENCH_DIR between runs) with a registered resident on every third account,
# all keeping the default messages on, and every ninth with a verified
# phone and "new invoice" and "payment received" by SMS too (the `log`
# transport: each SMS is a file in the data folder). Each run makes a new period out of
# the demo's newest one (its invoices copied a month on, as an import leaves
# them) and reports:
#   - `kabinet notify` producing its "new invoice" events and e-mail
#     deliveries (target: 60 s at a million accounts), then run again (a
#     repeated import: nothing new);
#   - a server with the quiet hours on (nothing sent): GET /healthz and GET
#     /cabinet of the demo resident under wrk — the reference;
#   - the same server with the quiet hours off, sending at RATE e-mails and
#     RATE SMS a second into the data folder's files: GET /cabinet under wrk
#     during the drain, and how many of each went meanwhile.
# SQLite by default, PostgreSQL with DATABASE_URL=postgres://… (an empty
# database the script fills once).
#
#   bench/notify.sh                    # 1 000 000 accounts
#   ACCOUNTS=100000 bench/notify.sh    # a smaller run
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000000}"
DURATION="${DURATION:-15}"
RATE="${RATE:-200}"
ENGINE=sqlite; [ -n "${DATABASE_URL:-}" ] && ENGINE=postgres
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-notify-$ENGINE-$ACCOUNTS}"
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
"$K" migrate >/dev/null 2>&1 || true
DEFAULTS="new_invoice,payment_received,readings_reminder,meter_verification,request_updates,announcements"
if [ ! -f "$WORK/residents.done" ]; then
    echo "== registering a resident on every third account (once)"
    sql "INSERT INTO users (account_id, email, password_hash, password_generated, created_at, password_changed_at, notifications)
         SELECT a.id, 'resident' || a.id || '@example.ru', u.password_hash, u.password_generated, u.created_at, u.password_changed_at, '$DEFAULTS'
         FROM accounts a, (SELECT * FROM users ORDER BY id LIMIT 1) u
         WHERE a.id % 3 = 0 AND NOT EXISTS (SELECT 1 FROM users x WHERE x.account_id = a.id)"
    sql "INSERT INTO user_accounts (user_id, account_id, linked_at)
         SELECT u.id, u.account_id, u.created_at FROM users u
         WHERE NOT EXISTS (SELECT 1 FROM user_accounts ua WHERE ua.user_id = u.id AND ua.account_id = u.account_id)"
    [ "$ENGINE" = postgres ] && sql "ANALYZE"
    touch "$WORK/residents.done"
fi
if [ ! -f "$WORK/sms.done" ]; then
    echo "== a verified phone and SMS on every ninth account (once)"
    PHONE="'+79' || substr('000000000' || CAST(account_id AS TEXT), length('000000000' || CAST(account_id AS TEXT)) - 8)"
    sql "UPDATE users SET phone = $PHONE, phone_verified = $PHONE, sms_notifications = 'new_invoice,payment_received'
         WHERE account_id % 9 = 0"
    touch "$WORK/sms.done"
fi
# A fresh start: no notifications yet, the demo's own months announced, and
# a new period — the newest one's invoices a month on.
sql "DELETE FROM outbox WHERE event_id IS NOT NULL"
sql "DELETE FROM notify_events"
sql "DELETE FROM notify_marks WHERE name = 'verification_day'"
sql "DELETE FROM jobs WHERE kind LIKE 'notify_%'"
sql "DELETE FROM invoices WHERE period > (SELECT MIN(period) FROM billing_periods)"
sql "DELETE FROM billing_periods WHERE period > (SELECT MIN(period) FROM billing_periods)"
BASE_PERIOD=$(sql "SELECT MAX(period) FROM invoices")
NEXT=$(( BASE_PERIOD % 100 == 12 ? (BASE_PERIOD / 100 + 1) * 100 + 1 : BASE_PERIOD + 1 ))
sql "UPDATE notify_marks SET value = $BASE_PERIOD WHERE name = 'invoice_period'"
sql "UPDATE notify_marks SET value = (SELECT COALESCE(MAX(id), 0) FROM payments) WHERE name = 'payment_id'"
sql "INSERT INTO billing_periods (period, issued_on, due_date) SELECT $NEXT, issued_on, due_date FROM billing_periods WHERE period = $BASE_PERIOD"
sql "INSERT INTO invoices (account_id, period, number, opening_balance, charged, paid, penalties, total_due, due_date)
     SELECT account_id, $NEXT, number || '-n', opening_balance, charged, paid, penalties, total_due, due_date FROM invoices WHERE period = $BASE_PERIOD"
[ "$ENGINE" = postgres ] && sql "ANALYZE invoices"
echo "== $ENGINE: $(sql "SELECT count(*) FROM accounts") accounts, $(sql "SELECT count(*) FROM users") residents, period $NEXT with $(sql "SELECT count(*) FROM invoices WHERE period = $NEXT") invoices, $(nproc) cores"
echo "-- kabinet notify (the new period)"
"$K" notify
echo "-- kabinet notify (again: a repeated import)"
"$K" notify

serve() {
    "$K" serve 2>"$WORK/serve.log" &
    SERVER=$!
    for _ in $(seq 300); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.2; done
}
stop() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }
trap 'stop' EXIT
sent() { sql "SELECT count(*) FROM outbox WHERE event_id IS NOT NULL AND status = 'sent' AND channel = '$1'"; }

# The reference: quiet hours all day long, nothing is sent.
export KABINET_QUIET_HOURS="00:00-23:59" KABINET_NOTIFY_EMAIL_PER_SECOND="$RATE" KABINET_NOTIFY_SMS_PER_SECOND="$RATE"
serve
read -r ACCOUNT _ SESSION < <(python3 bench/resident.py "$BASE" "$WORK/data" "${DATABASE_URL:-}")
echo "-- GET /healthz (reference, nothing being sent)"
wrk -t2 -c8 -d"${DURATION}s" --latency "$BASE/healthz" | grep -E "Requests/sec|  (50|99)%"
echo "-- GET /cabinet of resident $ACCOUNT (reference, nothing being sent)"
wrk -t2 -c8 -d"${DURATION}s" --latency -H "Cookie: kabinet_session=$SESSION" "$BASE/cabinet" | grep -E "Requests/sec|  (50|99)%|Non-2xx"
echo "   sent so far: $(sent email) e-mails, $(sent sms) SMS"
stop

# The drain: no quiet hours.
export KABINET_QUIET_HOURS=""
serve
sleep 12
BEFORE=$(sent email)
BEFORE_SMS=$(sent sms)
START=$(date +%s.%N)
echo "-- GET /cabinet during the drain at $RATE e-mails and $RATE SMS a second"
wrk -t2 -c8 -d"${DURATION}s" --latency -H "Cookie: kabinet_session=$SESSION" "$BASE/cabinet" | grep -E "Requests/sec|  (50|99)%|Non-2xx"
AFTER=$(sent email)
AFTER_SMS=$(sent sms)
END=$(date +%s.%N)
echo "   sent meanwhile: $((AFTER - BEFORE)) e-mails and $((AFTER_SMS - BEFORE_SMS)) SMS in $(python3 -c "print(round($END - $START, 1))") s; still waiting: $(sql "SELECT channel, count(*) FROM outbox WHERE event_id IS NOT NULL AND status = 'pending' GROUP BY channel")"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
