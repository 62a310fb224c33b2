# Sourced by the benchmarks: a release build (unless SKIP_BUILD=1), a demo of
# ACCOUNTS accounts kept in BENCH_DIR between runs (SQLite, or PostgreSQL with
# DATABASE_URL), and `kabinet serve` on a free port until the script exits.
# Sets ENGINE, WORK, K (the binary, also exported as BENCH_KABINET), PORT and
# SERVER (its pid). Settings the
# benchmark needs are exported before sourcing (KABINET_…).
ENGINE=sqlite; [ -n "${DATABASE_URL:-}" ] && ENGINE=postgres
WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/kabinet-bench-pages-$ENGINE-$ACCOUNTS}"
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
# The load scripts seed their residents through it (`kabinet demo-accounts`).
export BENCH_KABINET="$K"
mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export KABINET_CONFIG="$WORK/none.toml" KABINET_LOG=warn KABINET_DATA_DIR="$WORK/data"
export KABINET_LISTEN="127.0.0.1:$PORT" KABINET_AUTH_REQUESTS_PER_MINUTE=100000000
if [ -n "${DATABASE_URL:-}" ]; then
    export KABINET_DATABASE_URL="$DATABASE_URL"
    "$K" migrate >/dev/null 2>&1
fi
"$K" demo --accounts "$ACCOUNTS" --months "${MONTHS:-12}" --no-serve 2>&1 | grep -E "created|already" || true
"$K" serve 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
