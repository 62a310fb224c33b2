#!/usr/bin/env bash
# Receipt benchmark: renders every receipt of a 10 000-account demo (SQLite) with
# `kabinet receipts` on all cores, runs it again to show that finished receipts
# are skipped, then measures single-threaded render time and memory over
# RENDERS renders without a database.
#
#   bench/receipts.sh
#   ACCOUNTS=2000 RENDERS=2000 bench/receipts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-10000}"
RENDERS="${RENDERS:-10000}"
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-receipts}"
cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
rm -rf "$WORK" && mkdir -p "$WORK"
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn KABINET_DATA_DIR="$WORK/data"
PERIOD="$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)"

echo "== demo: $ACCOUNTS accounts"
"$K" demo --accounts "$ACCOUNTS" --months 2 --no-serve 2>&1 | grep created
echo "== bulk render, period $PERIOD, $(nproc) cores"
/usr/bin/time -f "peak RSS %M KiB, wall %e s" "$K" receipts --period "$PERIOD" --out "$WORK/out" 2>&1 | grep -E "Receipts|peak"
echo "== again (finished receipts are skipped), with --zip"
"$K" receipts --period "$PERIOD" --out "$WORK/out" --zip 2>&1 | grep -E "Receipts|Archive"
du -sh "$WORK/out" | sed 's/^/   /'
echo "== single-threaded renders"
RENDERS="$RENDERS" cargo bench -p kabinet-receipt --bench render --quiet 2>/dev/null | tail -4
