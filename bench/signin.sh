#!/usr/bin/env bash
# Sign-in load: a release server on a demo organization (SQLite by default,
# PostgreSQL with DATABASE_URL=postgres://…), one registered resident, then wrk
# posts its account number and password to /api/v1/auth/token for DURATION
# seconds with CONNECTIONS connections. Every request is one Argon2id
# verification (19 MiB, t=2) plus a session insert: the figure is how many
# sign-ins a second the machine sustains, bounded by the hashing pool (one
# hash per core at a time). Failed sign-ins cost the same Argon2id time by
# design, so the figure holds for them too.
#
#   bench/signin.sh
#   DURATION=30 CONNECTIONS=32 bench/signin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-16}"
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-signin}"
cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
rm -rf "$WORK" && mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn KABINET_DATA_DIR="$WORK/data"
export KABINET_LISTEN="127.0.0.1:$PORT" KABINET_AUTH_REQUESTS_PER_MINUTE=100000000
if [ -n "${DATABASE_URL:-}" ]; then export KABINET_DATABASE_URL="$DATABASE_URL"; "$K" migrate >/dev/null 2>&1; fi
"$K" demo --accounts 1000 --months 2 --no-serve 2>&1 | grep -E "created|already" || true
"$K" serve 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# Register account 1 through the API and set an own password.
read -r ACCOUNT AMOUNT < <(python3 - "$WORK/data/kabinet.db" "${DATABASE_URL:-}" <<'PY'
import sys
if sys.argv[2]:
    import subprocess
    out = subprocess.check_output(["psql", sys.argv[2], "-Atc",
        "SELECT a.number, i.total_due FROM accounts a JOIN invoices i ON i.account_id = a.id WHERE a.id = 1 ORDER BY i.period DESC LIMIT 1"]).decode().strip()
    n, k = out.split("|"); k = int(k)
else:
    import sqlite3
    n, k = sqlite3.connect(sys.argv[1]).execute(
        "SELECT a.number, i.total_due FROM accounts a JOIN invoices i ON i.account_id = a.id WHERE a.id = 1 ORDER BY i.period DESC LIMIT 1").fetchone()
print(n, ("-" if k < 0 else "") + f"{abs(k)//100},{abs(k)%100:02}")
PY
)
curl -fs -o /dev/null -H 'content-type: application/json' "http://127.0.0.1:$PORT/api/v1/auth/register" \
  -d "{\"account\":\"$ACCOUNT\",\"email\":\"bench@example.ru\",\"check\":\"$AMOUNT\",\"accept_rules\":true,\"accept_personal_data\":true,\"consent\":true}"
for _ in $(seq 50); do ls "$WORK/data/mail/"*.eml >/dev/null 2>&1 && break; sleep 0.2; done
ONE_TIME=$(python3 - "$WORK/data/mail" <<'PY'
import email, glob, re, sys
from email import policy
m = email.message_from_bytes(open(glob.glob(sys.argv[1] + "/*.eml")[0], "rb").read(), policy=policy.default)
print(re.search(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b", m.get_body(preferencelist=("plain",)).get_content()).group(0))
PY
)
TOKEN=$(curl -fs -H 'content-type: application/json' "http://127.0.0.1:$PORT/api/v1/auth/token" \
  -d "{\"account\":\"$ACCOUNT\",\"password\":\"$ONE_TIME\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -fs -o /dev/null -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/auth/password" \
  -d '{"password":"bench password 2026","password_again":"bench password 2026"}'

cat > "$WORK/signin.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"account":"$ACCOUNT","password":"bench password 2026"}'
LUA
echo "== successful sign-ins, $CONNECTIONS connections, ${DURATION}s, $(nproc) cores"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/signin.lua" "http://127.0.0.1:$PORT/api/v1/auth/token" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
