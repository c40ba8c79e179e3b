#!/bin/bash
# Writes the configuration of every Redis node, Sentinel and HAProxy of the compose topology
# into their volumes, from this repository's templates (sentinel-config/, haproxy/), with the
# ports docker-compose passes in. Runs as the one-shot service `config` before the others.
#
# Redis and Sentinel files are written only when absent: Sentinel rewrites its own file and the
# Redis nodes' (replicaof) as failovers happen, and a restart must come back to that state, not
# to the first master. HAProxy's is written every time (it keeps no state).
set -euo pipefail

templates=/templates
out=/config

# fill TEMPLATE KEY=VALUE...: the template with each ${KEY} replaced; fails on one left unfilled.
fill() {
  local text kv key
  text=$(<"$1")
  shift
  for kv in "$@"; do
    key=${kv%%=*}
    text=${text//"\${$key}"/"${kv#*=}"}
  done
  if grep -v '^[[:space:]]*#' <<<"$text" | grep -q '\${'; then
    echo "init-config: unfilled placeholder in $(grep -v '^[[:space:]]*#' <<<"$text" | grep -m1 '\${')" >&2
    exit 1
  fi
  printf '%s\n' "$text"
}

# write_once FILE: stdin into FILE unless it exists (atomically: a half-written file never stays).
write_once() {
  if [ -s "$1" ]; then
    echo "init-config: keeping $1"
    cat >/dev/null
  else
    cat >"$1.tmp" && mv "$1.tmp" "$1"
    echo "init-config: wrote $1"
  fi
}

redis_ports=("$REDIS_1_PORT" "$REDIS_2_PORT" "$REDIS_3_PORT")
sentinel_ports=("$SENTINEL_1_PORT" "$SENTINEL_2_PORT" "$SENTINEL_3_PORT")
master=${redis_ports[0]}

for i in 1 2 3; do
  port=${redis_ports[$((i - 1))]}
  replicaof="replicaof 127.0.0.1 $master"
  [ "$i" = 1 ] && replicaof=""
  # logs go to the container's output (docker-compose logs) rather than a file in the volume
  # TLS_PORT 0, SECURITY empty: no TLS listener and no ACL users (docs/deploying.md shows both)
  { fill "$templates/redis.conf.template" PORT="$port" DIR=/data MIN_REPLICAS_MAX_LAG="$MIN_REPLICAS_MAX_LAG" \
      REPLICAOF="$replicaof" TLS_PORT=0 SECURITY=; echo 'logfile ""'; } | write_once "$out/redis-$i/redis.conf"
done

for i in 1 2 3; do
  { fill "$templates/sentinel.conf.template" PORT="${sentinel_ports[$((i - 1))]}" DIR=/data MASTER_PORT="$master" \
      DOWN_AFTER_MS="$SENTINEL_DOWN_AFTER_MS" FAILOVER_TIMEOUT_MS="$SENTINEL_FAILOVER_TIMEOUT_MS" \
      TLS_PORT=0 SECURITY=
    echo 'logfile ""'; } | write_once "$out/sentinel-$i/sentinel.conf"
done

servers() { # the backend's server lines for listener $1 (RESP, LINE or HTTP)
  local i port admin agent
  for i in 1 2 3; do
    port="RELAY_${i}_${1}_PORT" admin="RELAY_${i}_ADMIN_PORT" agent="RELAY_${i}_AGENT_PORT"
    printf '    server relay-%d 127.0.0.1:%s check port %s agent-check agent-port %s\n' "$i" "${!port}" \
        "${!admin}" "${!agent}"
  done
}
redis_servers=$(for i in 1 2 3; do
  printf '    server redis-%d 127.0.0.1:%s check inter 1s\n' "$i" "${redis_ports[$((i - 1))]}"
done)
fill "$templates/haproxy.cfg.template" BIND=127.0.0.1 RESP_PORT="$HAPROXY_RESP_PORT" LINE_PORT="$HAPROXY_LINE_PORT" \
    HTTP_PORT="$HAPROXY_HTTP_PORT" STATS_PORT="$HAPROXY_STATS_PORT" PASSTHROUGH_PORT="$HAPROXY_PASSTHROUGH_PORT" \
    RUNTIME_SOCKET="ipv4@127.0.0.1:$HAPROXY_RUNTIME_PORT" RESP_SERVERS="$(servers RESP)" \
    LINE_SERVERS="$(servers LINE)" HTTP_SERVERS="$(servers HTTP)" REDIS_SERVERS="$redis_servers" \
    >"$out/haproxy/haproxy.cfg.tmp"
mv "$out/haproxy/haproxy.cfg.tmp" "$out/haproxy/haproxy.cfg"
echo "init-config: wrote $out/haproxy/haproxy.cfg"
