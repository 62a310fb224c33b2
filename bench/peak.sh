#!/usr/bin/env bash
# The month's peak: a PostgreSQL demo of ACCOUNTS accounts (default
# 1 000 000) with MONTHS months (default 12) served by SERVERS `kabinet
# serve` processes (default 3) behind haproxy, the read-only pages reading a
# streaming replica, loaded with the month's mix at rising connection counts.
# Everything runs on 127.0.0.1 from Debian's packages, as bench/cluster.sh.
#
# The mix (MIX, weights in per cent of requests; the default below): the
# days around the readings window and the new invoices, when residents sign
# in, look at the overview, the invoice and the charges, hand in readings
# and pay. Pages are read with a page session's cookie, writes go through
# the API with a token (as the mobile apps do):
#   sign_in       POST /api/v1/auth/token (one Argon2id verification)
#   overview      GET /cabinet
#   invoices      GET /invoices
#   charges       GET /charges (12 months, the chart)
#   meters        GET /meters
#   payments      GET /payments
#   readings      POST /api/v1/accounts/{n}/readings (every zone of every meter)
#   card_payment  POST /api/v1/payments (a sandbox card payment started)
#   new_request   POST /api/v1/requests (multipart, a 1600×1200 JPEG photo)
#
# At each connection count of LEVELS, wrk first runs GET /healthz through
# haproxy for DURATION seconds (the reference), then the mix (bench/peak.lua,
# one thread per connection, each request timed). Printed: per level the
# requests/s and p50/p99 of /healthz and of the mix; per route at the highest
# level whose mix p99 is ≤ 100 ms, its p50/p99 and answers. That level's
# requests/s is the highest rate that keeps p99 ≤ 100 ms (wrk is a closed
# loop: more connections, more requests in flight).
#
# REPLICA=0 leaves the replica out (the servers read the primary): a
# million accounts × 12 months is about 32 GB, and a second copy may not fit
# on the disk.
#
# The primary's data folder is kept in PEAK_DIR (default
# /tmp/kabinet-peak-<accounts>-<months>) between runs: generating the million
# accounts takes about 15 minutes here; the replica is made from it once.
#
#   bench/peak.sh
#   ACCOUNTS=20000 LEVELS="8 32" DURATION=10 bench/peak.sh    # a quick look
#
# Needs root (the PostgreSQL clusters run as `postgres`), haproxy and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS="${ACCOUNTS:-1000000}"
MONTHS="${MONTHS:-12}"
SERVERS="${SERVERS:-3}"
RESIDENTS="${RESIDENTS:-2000}"
LEVELS="${LEVELS:-8 16 32 64 128}"
DURATION="${DURATION:-30}"
REPLICA="${REPLICA:-1}"
MIX="${MIX:-sign_in=2,overview=30,invoices=12,charges=10,meters=12,payments=8,readings=17,card_payment=7,new_request=2}"
PG_PORT="${PG_PORT:-5450}"
REPLICA_PORT=$((PG_PORT + 1))
PEAK_DIR="${PEAK_DIR:-/tmp/kabinet-peak-$ACCOUNTS-$MONTHS}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
K="$PWD/target/${PROFILE:-release}/kabinet"
export BENCH_KABINET="$K"
W="$PEAK_DIR"
install -d -m 755 "$W"
install -d -o postgres -g postgres "$W/pg"
RUN="$W/run"
rm -rf "$RUN" && mkdir -p "$RUN/out"
PIDS=()
as_pg() { su postgres -c "$*"; }
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for d in replica primary; do
        [ -d "$W/$d" ] && as_pg "$PGBIN/pg_ctl -D $W/$d -m fast stop" >/dev/null 2>&1 || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PRIMARY="postgres://postgres@127.0.0.1:$PG_PORT/kabinet"
REPLICA_URL="postgres://postgres@127.0.0.1:$REPLICA_PORT/kabinet"
if [ ! -f "$W/key" ]; then python3 -c 'import secrets; print(secrets.token_hex(32))' > "$W/key"; fi
# The replica is named only once it exists (below): the demo and the
# migrations write to the primary.
cat > "$W/kabinet.toml" <<CONF
database_url = "$PRIMARY"
secret_key = "$(cat "$W/key")"
trusted_proxies = ["127.0.0.1"]
auth_requests_per_minute = 100000000
payment_starts_per_hour = 100000
readings_per_minute = 100000
requests_per_minute = 100000
readings_from_day = 1
readings_to_day = 28
CONF
export KABINET_CONFIG="$W/kabinet.toml" KABINET_DATA_DIR="$W/data" KABINET_LOG=warn

if [ ! -f "$W/primary/generated" ]; then
    echo "== $(date +%T) a new primary :$PG_PORT, demo of $ACCOUNTS accounts × $MONTHS months"
    rm -rf "$W/primary" "$W/replica"
    install -d -m 700 -o postgres -g postgres "$W/primary"
    as_pg "$PGBIN/initdb -D $W/primary -A trust -U postgres" >/dev/null
    cat >> "$W/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$W/pg'
max_connections = 300
shared_buffers = 4GB
effective_cache_size = 12GB
maintenance_work_mem = 1GB
max_wal_size = 8GB
checkpoint_timeout = 15min
wal_level = replica
max_wal_senders = 5
CONF
    echo "host replication all 127.0.0.1/32 trust" >> "$W/primary/pg_hba.conf"
    as_pg "$PGBIN/pg_ctl -D $W/primary -l $W/pg/primary.log -w start" >/dev/null
    psql -q "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -c "CREATE DATABASE kabinet"
    "$K" migrate >/dev/null
    START=$(date +%s)
    /usr/bin/time -f "   peak RSS %M KiB" "$K" demo --accounts "$ACCOUNTS" --months "$MONTHS" --no-serve 2>&1 \
        | grep -E "created|already|peak RSS" || true
    psql -q "$PRIMARY" -c "VACUUM ANALYZE"
    echo "   generated in $(( $(date +%s) - START )) s; database $(psql -Atq "$PRIMARY" -c "SELECT pg_size_pretty(pg_database_size('kabinet'))")"
    touch "$W/primary/generated"
else
    as_pg "$PGBIN/pg_ctl -D $W/primary -l $W/pg/primary.log -w start" >/dev/null
fi
if [ "$REPLICA" = 1 ] && [ ! -f "$W/replica/standby.signal" ]; then
    echo "== $(date +%T) the replica :$REPLICA_PORT (pg_basebackup)"
    rm -rf "$W/replica"
    install -d -m 700 -o postgres -g postgres "$W/replica"
    psql -Atq "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -c \
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'peak_replica'" >/dev/null
    as_pg "$PGBIN/pg_basebackup -h 127.0.0.1 -p $PG_PORT -U postgres -D $W/replica -R -X stream -c fast -C -S peak_replica" >/dev/null
    sed -i "s/^port = $PG_PORT/port = $REPLICA_PORT/" "$W/replica/postgresql.conf"
fi
if [ "$REPLICA" = 1 ]; then
    as_pg "$PGBIN/pg_ctl -D $W/replica -l $W/pg/replica.log -w start" >/dev/null
    echo "database_replica_url = \"$REPLICA_URL\"" >> "$W/kabinet.toml"
fi

declare -a PORTS
for i in $(seq 1 "$SERVERS"); do
    PORTS[$i]=$(free_port)
    KABINET_LISTEN="127.0.0.1:${PORTS[$i]}" KABINET_DATA_DIR="$W/data$i" "$K" serve >>"$RUN/server$i.log" 2>&1 &
    PIDS+=("$!")
done
for i in $(seq 1 "$SERVERS"); do
    for _ in $(seq 300); do curl -fs "http://127.0.0.1:${PORTS[$i]}/readyz" >/dev/null && break; sleep 0.1; done
done
LB=$(free_port)
. bench/haproxy.sh
start_haproxy "$RUN" "$LB" "${PORTS[@]}"
BASE="http://127.0.0.1:$LB"

echo "== $(date +%T) $RESIDENTS residents signed in (a token and a page session each)"
python3 bench/peak_prepare.py "$BASE" "$RESIDENTS" "$RUN"
echo "== $(date +%T) $SERVERS servers behind haproxy; $(nproc) cores; ${DURATION}s per run; mix: $MIX"
export PEAK_RESIDENTS="$RUN/residents.tsv" PEAK_PHOTO="$RUN/photo.jpg" PEAK_MIX="$MIX" \
    PEAK_PASSWORD="demo-kabinet-2026"
for c in $LEVELS; do
    wrk -t2 -c"$c" -d"${DURATION}s" --latency --timeout 10s "$BASE/healthz" > "$RUN/healthz-$c.txt" 2>&1
    mkdir -p "$RUN/out/$c"
    PEAK_OUT="$RUN/out/$c" wrk -t"$c" -c"$c" -d"${DURATION}s" --timeout 10s -s bench/peak.lua "$BASE/" \
        > "$RUN/mix-$c.txt" 2>&1
done
python3 bench/peak_report.py "$RUN" "$DURATION" $LEVELS
for i in $(seq 1 "$SERVERS"); do
    echo "   server $i peak RSS: $(grep VmHWM /proc/"${PIDS[$((i - 1))]}"/status | awk '{print $2, $3}')"
done
