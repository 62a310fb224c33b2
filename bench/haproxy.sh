# Sourced by bench/cluster.sh and bench/peak.sh: `haproxy_config LB PORT…`
# prints the configuration of haproxy on 127.0.0.1:LB in front of servers on
# 127.0.0.1:PORT…, round robin, each checked on /readyz every 500 ms (out
# after two failures), a refused connection retried on another server.
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
