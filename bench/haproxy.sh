# Sourced by bench/cluster.sh and bench/peak.sh: `start_haproxy DIR LB PORT…`
# starts haproxy on 127.0.0.1:LB in front of servers on 127.0.0.1:PORT…
# (its configuration and log in DIR, its pid added to PIDS) and waits until
# it answers; `haproxy_config LB PORT…` prints that configuration: round
# robin, each server checked on /readyz every 500 ms (out after two
# failures), a refused connection retried on another server.
start_haproxy() {
    local dir=$1 lb=$2
    shift 2
    haproxy_config "$lb" "$@" > "$dir/haproxy.cfg"
    haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$lb/healthz" >/dev/null && break; sleep 0.1; done
}

haproxy_config() {
    local lb=$1 i=0 port
    shift
    cat <<CONF
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option redispatch
    retries 2
frontend portal
    bind 127.0.0.1:$lb
    option forwardfor
    default_backend kabinet
backend kabinet
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
CONF
    for port in "$@"; do
        i=$((i + 1))
        echo "    server k$i 127.0.0.1:$port check"
    done
}
