#!/usr/bin/env bash
# Several servers over PostgreSQL with a streaming replica, behind haproxy,
# with one server killed and brought back under load (README "Several
# servers"). Everything runs on 127.0.0.1 from Debian's packages:
#
# - a PostgreSQL primary (port PG_PORT, default 5440) made with initdb, and a
#   replica (PG_PORT+1) made from it with pg_basebackup, streaming;
# - SERVERS `kabinet serve` processes (default 3) sharing the primary and one
#   server key, each running its job runner, the read-only pages reading the
#   replica (database_replica_url);
# - haproxy in front, checking /readyz every 500 ms, retrying a refused
#   connection on another server;
# - wrk on the start page, and bench/cluster_load.py's scripted residents
#   (sign-ins, card payments in the sandbox, readings, requests with photos,
#   a browser session), for SECONDS_RUN (default 40).
#
# After SECONDS_RUN/4 the first server gets SIGKILL; that long later it is started
# again; at 3/4 the replica is restarted (pages step around it to the primary
# meanwhile; it must stream again). Then
# cluster_load.py checks the database: every acknowledged write there exactly
# once, sessions held, the 31st sign-in a minute from one address refused, no
# job queued twice; and the error rate per second is printed.
#
#   bench/cluster.sh                       # release build, 3 servers, 40 s
#   CLUSTER_BIN=target/debug/kabinet SERVERS=2 SECONDS_RUN=20 bench/cluster.sh   # CI
#
# ACCOUNTS (default 2000) demo accounts, 2 months. Exit status 0 only if every
# check passed. Needs root (the PostgreSQL clusters run as `postgres`).
set -euo pipefail
cd "$(dirname "$0")/.."
SERVERS="${SERVERS:-3}"
SECONDS_RUN="${SECONDS_RUN:-40}"
ACCOUNTS="${ACCOUNTS:-2000}"
RESIDENTS="${RESIDENTS:-12}"
PG_PORT="${PG_PORT:-5440}"
REPLICA_PORT=$((PG_PORT + 1))
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
if [ -z "${CLUSTER_BIN:-}" ]; then
    cargo build --profile "${PROFILE:-release}" -p kabinet --quiet
    CLUSTER_BIN="$PWD/target/${PROFILE:-release}/kabinet"
fi
K="$(realpath "$CLUSTER_BIN")"
export BENCH_KABINET="$K"
W="$(mktemp -d /tmp/kabinet-cluster.XXXXXX)"
chmod 755 "$W"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for d in replica primary; do
        [ -d "$W/$d" ] && su postgres -c "$PGBIN/pg_ctl -D $W/$d -m immediate stop" >/dev/null 2>&1 || true
    done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { su postgres -c "$*"; }

echo "== PostgreSQL primary :$PG_PORT and streaming replica :$REPLICA_PORT"
install -d -o postgres -g postgres "$W/pg" "$W/primary" "$W/replica"
chmod 700 "$W/primary" "$W/replica"
as_pg "$PGBIN/initdb -D $W/primary -A trust -U postgres --no-sync" >/dev/null
cat >> "$W/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$W/pg'
wal_level = replica
max_wal_senders = 5
fsync = on
synchronous_commit = on
CONF
echo "host replication all 127.0.0.1/32 trust" >> "$W/primary/pg_hba.conf"
as_pg "$PGBIN/pg_ctl -D $W/primary -l $W/pg/primary.log -w start" >/dev/null
as_pg "$PGBIN/pg_basebackup -h 127.0.0.1 -p $PG_PORT -U postgres -D $W/replica -R -X stream" >/dev/null
sed -i "s/^port = $PG_PORT/port = $REPLICA_PORT/" "$W/replica/postgresql.conf"
as_pg "$PGBIN/pg_ctl -D $W/replica -l $W/pg/replica.log -w start" >/dev/null
PRIMARY="postgres://postgres@127.0.0.1:$PG_PORT/kabinet"
REPLICA="postgres://postgres@127.0.0.1:$REPLICA_PORT/kabinet"
psql -q "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -c "CREATE DATABASE kabinet"

echo "== Demo: $ACCOUNTS accounts"
KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
cat > "$W/kabinet.toml" <<CONF
database_url = "$PRIMARY"
database_replica_url = "$REPLICA"
secret_key = "$KEY"
trusted_proxies = ["127.0.0.1"]
payment_starts_per_hour = 100000
readings_per_minute = 100000
requests_per_minute = 1000
readings_from_day = 1
readings_to_day = 28
log_format = "json"
CONF
export KABINET_CONFIG="$W/kabinet.toml" KABINET_DATA_DIR="$W/data" KABINET_LOG=warn
"$K" migrate >/dev/null
"$K" demo --accounts "$ACCOUNTS" --months 2 --no-serve 2>&1 | grep -E "created|already" || true

PORTS=()
start_server() {
    local i=$1
    KABINET_LISTEN="127.0.0.1:${PORTS[$i]}" KABINET_DATA_DIR="$W/data$i" \
        "$K" serve >>"$W/server$i.log" 2>&1 &
    SERVER_PID[$i]=$!
    PIDS+=("$!")
}
declare -a SERVER_PID
for i in $(seq 1 "$SERVERS"); do PORTS[$i]=$(free_port); start_server "$i"; done
for i in $(seq 1 "$SERVERS"); do
    for _ in $(seq 200); do curl -fs "http://127.0.0.1:${PORTS[$i]}/readyz" >/dev/null && break; sleep 0.1; done
done

LB=$(free_port)
. bench/haproxy.sh
start_haproxy "$W" "$LB" "${PORTS[@]}"
echo "== $SERVERS servers behind haproxy :$LB; load for ${SECONDS_RUN}s"

wrk -t1 -c8 -d"${SECONDS_RUN}s" --timeout 10s "http://127.0.0.1:$LB/" >"$W/wrk.txt" 2>&1 &
WRK=$!
python3 bench/cluster_load.py "http://127.0.0.1:$LB" "$PRIMARY" "$SECONDS_RUN" "$RESIDENTS" "$W/report.json" \
    >"$W/load.txt" 2>&1 &
LOAD=$!
QUARTER=$(python3 -c "print($SECONDS_RUN / 4)")
sleep "$QUARTER"
echo "== $(date +%T) SIGKILL to server 1 (pid ${SERVER_PID[1]})"
kill -9 "${SERVER_PID[1]}"
sleep "$QUARTER"
echo "== $(date +%T) server 1 started again"
start_server 1
if [ "$SERVERS" -ge 3 ]; then
    sleep "$QUARTER"
    echo "== $(date +%T) replica restarted"
    as_pg "$PGBIN/pg_ctl -D $W/replica -m fast -w restart -l $W/pg/replica.log" >/dev/null
fi
wait "$WRK" || true
STATUS=0
wait "$LOAD" || STATUS=$?
cat "$W/load.txt"
echo "== wrk on / through haproxy"
grep -E "Requests/sec|Non-2xx|Socket errors|Latency" "$W/wrk.txt" || true
python3 - "$W/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok, bad = r["ok_per_second"], r["failed_per_second"]
print("second: ok/failed  " + "  ".join(f"{i}:{o}/{b}" for i, (o, b) in enumerate(zip(ok, bad)) if b or i % 5 == 0))
total = sum(ok) + sum(bad)
print(f"scripted requests: {total + r['refused']}, failed (no answer or 5xx): {sum(bad)} "
      f"({100 * sum(bad) / max(total, 1):.2f} %), refused by a rule (4xx): {r['refused']}")
PY
LAG=$(psql -Atq "postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
    -c "SELECT COUNT(*) FROM pg_stat_replication WHERE state = 'streaming'")
echo "== replica streaming again: $LAG; its copy of card_payments: $(psql -Atq "$REPLICA" -c 'SELECT COUNT(*) FROM card_payments' 2>/dev/null || echo '?')"
[ "$LAG" = 1 ] || { echo "the replica is not streaming"; STATUS=1; }
for i in $(seq 1 "$SERVERS"); do
    if grep -q '"level":"ERROR"' "$W/server$i.log"; then
        echo "== server $i logged errors:"; grep '"level":"ERROR"' "$W/server$i.log" | head -5
    fi
done
if [ "$STATUS" = 0 ]; then echo "== cluster: every check passed"; else echo "== cluster: a check FAILED"; fi
exit "$STATUS"
