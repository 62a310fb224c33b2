#!/usr/bin/env bash
# Import benchmark: a generated package of 100 000 accounts × ~10 services
# (about 1 000 000 charge rows) imported into SQLite and into PostgreSQL.
# Prints lines/s and peak memory of the charges import on each database.
#
#   bench/import.sh                 # both databases
#   ACCOUNTS=20000 bench/import.sh  # a smaller run
#   PG_URL=postgres://user@host     # PostgreSQL server (default: local, trust auth)
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-100000}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-import}"
cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
rm -rf "$WORK" && mkdir -p "$WORK"
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn

echo "== package: $ACCOUNTS accounts, 1 month"
"$K" demo --accounts "$ACCOUNTS" --months 1 --export-dir "$WORK/pkg" 2>&1 | grep -E "charges.csv|written"

run() {
    local name="$1"
    "$K" migrate >/dev/null 2>&1
    for kind in payees services accounts; do
        "$K" import "$kind" "$WORK/pkg/$kind.csv" 2>&1 | grep -E "loaded|NOT" | sed "s/^/  $kind:/"
    done
    /usr/bin/time -f "  peak RSS: %M KiB, wall: %e s" "$K" import charges "$WORK/pkg/charges.csv" 2>&1 \
        | grep -E "lines in|loaded|NOT|peak RSS" | sed "s/^/  /"
    echo "  re-import (replaces the period's rows):"
    "$K" import charges "$WORK/pkg/charges.csv" 2>&1 | grep -E "loaded" | sed "s/^/  /"
}

echo "== SQLite"
KABINET_DATA_DIR="$WORK/sqlite" run sqlite

echo "== PostgreSQL"
DB="kabinet_bench_import_$$"
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB"
trap 'psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
KABINET_DATABASE_URL="$PG_URL/$DB" run postgres
