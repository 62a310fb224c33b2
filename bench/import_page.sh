#!/usr/bin/env bash
# The office's import page under a big package: a generated package of
# ACCOUNTS accounts × 1 month (~200 MB at the default) is uploaded through
# /staff/import/upload, checked in the background, confirmed and imported,
# all by one `kabinet serve` on SQLite whose peak RSS (VmHWM) is read at the
# end. For reference the same run imports the same package with
# `kabinet import --dir` into another database (time and peak RSS).
#
#   bench/import_page.sh                 # ~200 MB package, SQLite
#   ACCOUNTS=20000 bench/import_page.sh  # a smaller run
#   ENGINE=postgres bench/import_page.sh # on fresh PostgreSQL databases
#                                        # (PG_URL, default local trust auth)
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-140000}"
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-import-page}"
cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
rm -rf "$WORK" && mkdir -p "$WORK"
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn
PORT="${PORT:-38411}"
ENGINE="${ENGINE:-sqlite}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
# The database of `name`: a file in its folder, or a fresh PostgreSQL database.
db_url() {
    if [[ "$ENGINE" == postgres ]]; then
        local db="kabinet_bench_page_$1_$$"
        psql "$PG_URL/postgres" -qc "CREATE DATABASE $db" >/dev/null
        echo "$PG_URL/$db"
    else
        echo "sqlite://$WORK/$1/kabinet.db"
    fi
}
cleanup_pg() {
    [[ "$ENGINE" == postgres ]] || return 0
    for n in cli web; do psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS kabinet_bench_page_${n}_$$ WITH (FORCE)" >/dev/null 2>&1 || true; done
}
BASE="http://127.0.0.1:$PORT"

echo "== package: $ACCOUNTS accounts, 1 month"
"$K" demo --accounts "$ACCOUNTS" --months 1 --export-dir "$WORK/pkg" >/dev/null 2>&1
du -cb "$WORK"/pkg/*.csv | tail -1 | awk '{printf "  %.1f MB in 8 files\n", $1/1048576}'

echo "== reference: kabinet import --dir (same package, its own database)"
mkdir -p "$WORK/cli" "$WORK/web"
CLI_DB=$(db_url cli)
KABINET_DATA_DIR="$WORK/cli" KABINET_DATABASE_URL="$CLI_DB" "$K" migrate >/dev/null 2>&1
KABINET_DATA_DIR="$WORK/cli" KABINET_DATABASE_URL="$CLI_DB" /usr/bin/time -f "  peak RSS: %M KiB, wall: %e s" \
    "$K" import --dir "$WORK/pkg" 2>&1 | grep -E "peak RSS" || true

echo "== the import page (kabinet serve, $ENGINE)"
export KABINET_DATA_DIR="$WORK/web" KABINET_LISTEN="127.0.0.1:$PORT" KABINET_PUBLIC_URL="$BASE"
KABINET_DATABASE_URL=$(db_url web)
export KABINET_DATABASE_URL
OUT=$("$K" demo --accounts 1 --months 1 --no-serve 2>&1)
LOGIN=$(sed -n 's/.*Administrator console at \/staff\/login: login \([^,]*\), password \([^,]*\), TOTP secret \([A-Z2-7]*\).*/\1 \2 \3/p' <<<"$OUT")
read -r USER PASS SECRET <<<"$LOGIN"
"$K" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; sleep 1; cleanup_pg' EXIT
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.2; done
JAR="$WORK/jar"
. bench/staff.sh
staff_sign_in "$USER" "$PASS" "$SECRET"
grep VmRSS "/proc/$SERVER/status" | awk '{print "  server RSS signed in, before the upload: " $2 " KiB"}'
FILES=()
for k in payees services accounts meters readings charges invoices payments; do FILES+=(-F "files=@$WORK/pkg/$k.csv"); done
T0=$(date +%s.%N)
PAGE=$(curl -s -b "$JAR" -c "$JAR" -o /dev/null -w '%{redirect_url}' -F "csrf=$(csrf /staff/import)" "${FILES[@]}" "$BASE/staff/import/upload")
T1=$(date +%s.%N)
[[ "$PAGE" == *"/staff/import/"* ]] || { echo "upload refused"; exit 1; }
wait_for() {
    for _ in $(seq 3600); do
        if curl -s -b "$JAR" "$PAGE" | grep -q "class=\"status $1\""; then return; fi
        sleep 0.5
    done
    echo "never $1"; exit 1
}
wait_for checked
T2=$(date +%s.%N)
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf=$(csrf "${PAGE#"$BASE"}")" "$PAGE/confirm"
wait_for imported
T3=$(date +%s.%N)
printf "  upload %.1f s, check %.1f s, import %.1f s\n" "$(echo "$T1-$T0" | bc)" "$(echo "$T2-$T1" | bc)" "$(echo "$T3-$T2" | bc)"
grep VmHWM "/proc/$SERVER/status" | awk '{print "  server peak RSS: " $2 " KiB"}'
curl -s -o /dev/null -w "  /healthz after: %{time_total} s\n" "$BASE/healthz"
