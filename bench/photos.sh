#!/usr/bin/env bash
# Photo bombs that pass the header check: COUNT (default 20) residents file a
# request each at the same moment with one 24-megapixel 8-bit RGBA PNG (the
# most expensive photo the server decodes), against a release server on a
# demo of ACCOUNTS accounts (default 1 000). Reports the answers (201 or 503
# with Retry-After once the decoding queue is full), that every 201 is stored,
# and the server's idle RSS (the reference) and peak RSS. SQLite by default,
# PostgreSQL with DATABASE_URL=postgres://…; the demo is kept in BENCH_DIR
# between runs (see bench/pages.sh). Needs Pillow (pip install pillow).
#
#   bench/photos.sh
#   COUNT=40 bench/photos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000}"
COUNT="${COUNT:-20}"
. bench/server.sh
echo "== $ENGINE, $ACCOUNTS accounts, $(nproc) cores"
python3 bench/photos_load.py "http://127.0.0.1:$PORT" "$WORK/data" "${DATABASE_URL:-}" "$COUNT" "$ACCOUNTS" "$SERVER"
