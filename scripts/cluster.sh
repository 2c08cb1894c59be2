#!/usr/bin/env bash
# The hub on several machines, played on one: a PostgreSQL 15 primary and
# one streaming replica (two Debian clusters of their own, never 15/main),
# two Odoo nodes with prefork workers, nginx in front, the queue_job runner
# on both nodes (one active: PostgreSQL advisory lock) and the simulator.
#
# Usage: scripts/cluster.sh start [--update] | stop | status
#   start     starts what is not running and prints the one URL to use
#   --update  also updates the module in the cluster's database
#   stop      ends what start started, by the pids it recorded
#   status    each piece, its pid, the replication and the active runner
# Ports (environment): FIH_CLUSTER_PG_PORT (55432; the replica is +1),
# FIH_CLUSTER_HTTP_PORT (18069; node 2 is +100, gevent is +3),
# FIH_CLUSTER_PROXY_PORT (18080), FIH_CLUSTER_SIM_PORT (18071),
# FIH_CLUSTER_WORKERS (2 per node), FIH_CLUSTER_DB (fih_cluster).
source "$(dirname "$0")/env.sh"

ACTION=${1:-status}
UPDATE=0
[ "${2:-}" = --update ] && UPDATE=1

DB=${FIH_CLUSTER_DB:-fih_cluster}
PG_VERSION=15
PRIMARY=fihprimary
REPLICA=fihreplica
PG_PORT=${FIH_CLUSTER_PG_PORT:-55432}
REPLICA_PORT=$((PG_PORT + 1))
HTTP_PORT=${FIH_CLUSTER_HTTP_PORT:-18069}
NODE_PORTS=("$HTTP_PORT" "$((HTTP_PORT + 100))")
PROXY_PORT=${FIH_CLUSTER_PROXY_PORT:-18080}
SIM_PORT=${FIH_CLUSTER_SIM_PORT:-18071}
WORKERS=${FIH_CLUSTER_WORKERS:-2}
NGINX=${FIH_NGINX:-/usr/sbin/nginx}
STATE=$FIH_HOME/cluster
PG_SOCKET=/var/run/postgresql

as_postgres() { su postgres -c "$*"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
cluster_pid() { head -1 "/var/lib/postgresql/$PG_VERSION/$1/postmaster.pid" 2>/dev/null || true; }
cluster_exists() { pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$PG_VERSION/$1"; }
cluster_online() { pg_lsclusters -h | awk '$4 ~ /^online/ {print $1"/"$2}' | grep -qx "$PG_VERSION/$1"; }

# -- PostgreSQL: primary and streaming replica ---------------------------------

start_primary() {
    if ! cluster_exists "$PRIMARY"; then
        log "creating the PostgreSQL primary $PG_VERSION/$PRIMARY on port $PG_PORT"
        pg_createcluster -q "$PG_VERSION" "$PRIMARY" -p "$PG_PORT" \
            -o wal_level=replica -o max_wal_senders=5 -o wal_keep_size=256MB \
            -o max_connections=200 >/dev/null
    fi
    cluster_online "$PRIMARY" || pg_ctlcluster "$PG_VERSION" "$PRIMARY" start
    cluster_pid "$PRIMARY" > "$STATE/pg-primary.pid"
    local me
    me=$(id -un)
    as_postgres "psql -p $PG_PORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1 \
        || as_postgres "createuser -p $PG_PORT -s '$me'"
}

start_replica() {
    if ! cluster_exists "$REPLICA"; then
        log "creating the streaming replica $PG_VERSION/$REPLICA on port $REPLICA_PORT (pg_basebackup)"
        # hot_standby_feedback: a long read on the replica (a BI period in one
        # snapshot) is not cancelled by the primary's clean-up of old rows
        pg_createcluster -q "$PG_VERSION" "$REPLICA" -p "$REPLICA_PORT" \
            -o hot_standby=on -o hot_standby_feedback=on \
            -o max_standby_streaming_delay=60s -o max_connections=200 >/dev/null
        local data=/var/lib/postgresql/$PG_VERSION/$REPLICA
        rm -rf "${data:?}"/*
        # -R writes standby.signal and primary_conninfo (local replication is
        # allowed to the postgres user by Debian's pg_hba.conf)
        as_postgres "pg_basebackup -h $PG_SOCKET -p $PG_PORT -D $data -R -X stream -c fast"
    fi
    cluster_online "$REPLICA" || pg_ctlcluster "$PG_VERSION" "$REPLICA" start
    cluster_pid "$REPLICA" > "$STATE/pg-replica.pid"
}

# -- Odoo nodes ----------------------------------------------------------------

node_conf() {
    local n=$1 port=${NODE_PORTS[$1 - 1]}
    cat > "$STATE/node$n.conf" <<CONF
[options]
addons_path = $ADDONS_PATH
db_name = $DB
dbfilter = ^$DB\$
list_db = False
db_host = $PG_SOCKET
db_port = $PG_PORT
db_replica_host = $PG_SOCKET
db_replica_port = $REPLICA_PORT
db_maxconn = 32
http_interface = 127.0.0.1
http_port = $port
gevent_port = $((port + 3))
workers = $WORKERS
max_cron_threads = 1
limit_time_cpu = 600
limit_time_real = 1200
limit_request = 100000
proxy_mode = True
server_wide_modules = web,queue_job
fih_master_key = $MASTER_KEY
fih_metrics_token = $(cat "$STATE/metrics-token")
data_dir = $STATE/filestore
logfile = $STATE/node$n.log
pidfile = $STATE/node$n.pid
log_level = info

[queue_job]
channels = root:$WORKERS
# both nodes run a runner; the one holding queue_job's advisory lock is
# active, the other retries every 5 s. Jobs are sent through the proxy, so
# either node's workers run them and a dead node's share goes to the other.
host = 127.0.0.1
port = $PROXY_PORT
CONF
}

odoo_once() {
    "$PY" "$ODOO_SRC/odoo-bin" -c "$STATE/node1.conf" -d "$DB" --stop-after-init \
        --logfile= --log-level=warn --no-http "$@" >/dev/null
}

prepare_database() {
    if ! psql -h "$PG_SOCKET" -p "$PG_PORT" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
        log "creating database $DB with demo data on the primary (about a minute)"
        odoo_once -i finance_integration_hub
    elif [ "$UPDATE" = 1 ]; then
        log "updating finance_integration_hub in $DB"
        odoo_once -u finance_integration_hub
    fi
    local secret_file=$STATE/demo-webhook-secret
    [ -s "$secret_file" ] || "$PY" -c "import sys; sys.path.insert(0, '$FIH_ROOT'); from lib.standard_webhooks import generate_secret; print(generate_secret())" > "$secret_file"
    FIH_DEMO_SECRET=$(cat "$secret_file") "$PY" "$ODOO_SRC/odoo-bin" shell -c "$STATE/node1.conf" \
        -d "$DB" --logfile= --log-level=warn --no-http >/dev/null <<'PYSHELL'
import os
secret = os.environ["FIH_DEMO_SECRET"]
backend = env.ref("finance_integration_hub.demo_backend_procurement", False)
if backend and secret not in backend._webhook_verification_secrets():
    backend.webhook_secret = secret
env.cr.commit()
PYSHELL
}

start_node() {
    local n=$1
    alive "$STATE/node$n.pid" && return 0
    : > "$STATE/node$n.log"
    ODOO_PGAPPNAME="fih-node$n-{pid}" setsid "$PY" "$ODOO_SRC/odoo-bin" -c "$STATE/node$n.conf" >/dev/null 2>&1 < /dev/null &
    echo $! > "$STATE/node$n.pid"
}

wait_http() {
    local url=$1 i
    for i in $(seq 1 120); do
        curl -s -o /dev/null "$url" && return 0
        sleep 0.5
    done
    die "nothing answers at $url (see the logs in $STATE)"
}

# -- proxy and simulator -------------------------------------------------------

start_proxy() {
    [ -x "$NGINX" ] || die "nginx is not installed ($NGINX)"
    local dir=$STATE/nginx
    mkdir -p "$dir"
    alive "$dir/nginx.pid" && kill -QUIT "$(cat "$dir/nginx.pid")" && sleep 0.5
    render_proxy_conf "$dir/nginx.conf" "$dir" 127.0.0.1 "$PROXY_PORT" "${NODE_PORTS[@]}"
    "$NGINX" -q -t -c "$dir/nginx.conf" -p "$dir" -e "$dir/nginx-error.log" \
        || die "the proxy configuration $dir/nginx.conf is not valid"
    "$NGINX" -c "$dir/nginx.conf" -p "$dir" -e "$dir/nginx-error.log"
}

start_simulator() {
    alive "$STATE/simulator.pid" && return 0
    (cd "$FIH_ROOT" && exec setsid "$PY" -m simulator serve --port "$SIM_PORT" --quiet \
        >"$STATE/simulator.log" 2>&1 < /dev/null) &
    echo $! > "$STATE/simulator.pid"
}

# -- actions -------------------------------------------------------------------

do_start() {
    command -v pg_createcluster >/dev/null || die "postgresql-common is missing (apt-get install postgresql)"
    ensure_venv
    mkdir -p "$STATE"
    chmod 700 "$STATE"
    MASTER_KEY=$(ensure_master_key)
    [ -s "$STATE/metrics-token" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' > "$STATE/metrics-token"
    start_primary
    node_conf 1
    node_conf 2
    prepare_database
    start_replica
    start_simulator
    start_node 1
    start_node 2
    start_proxy
    wait_http "http://127.0.0.1:${NODE_PORTS[0]}/web/login"
    wait_http "http://127.0.0.1:${NODE_PORTS[1]}/web/login"
    wait_http "http://127.0.0.1:$PROXY_PORT/web/login"
    cat <<INFO

  Finance Integration Hub cluster is running
  ------------------------------------------
  Use:             http://127.0.0.1:$PROXY_PORT   (login: admin, password: admin)
  Demo webhook:    http://127.0.0.1:$PROXY_PORT/finance_hub/webhook/demo-procurement
  Webhook secret:  $(cat "$STATE/demo-webhook-secret")
  Behind it:       nginx -> Odoo node 1 (127.0.0.1:${NODE_PORTS[0]}) and node 2 (127.0.0.1:${NODE_PORTS[1]}),
                   $WORKERS workers each; queue_job runner on both (one active)
  PostgreSQL:      primary $PG_VERSION/$PRIMARY on port $PG_PORT, replica $PG_VERSION/$REPLICA on port $REPLICA_PORT
  Simulator:       http://127.0.0.1:$SIM_PORT
  Metrics:         http://127.0.0.1:$PROXY_PORT/finance_hub/metrics   (Bearer token in $STATE/metrics-token)
  State and logs:  $STATE
  Stop:            $0 stop

INFO
}

stop_pid_file() {
    local file=$1 signal=${2:-TERM} pid i
    alive "$file" || { rm -f "$file"; return 0; }
    pid=$(cat "$file")
    kill "-$signal" "$pid" 2>/dev/null || true
    for i in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    rm -f "$file"
}

do_stop() {
    stop_pid_file "$STATE/nginx/nginx.pid" QUIT
    stop_pid_file "$STATE/node1.pid"
    stop_pid_file "$STATE/node2.pid"
    stop_pid_file "$STATE/simulator.pid"
    # PostgreSQL's own stop acts on the postmaster pid of each cluster
    cluster_online "$REPLICA" && pg_ctlcluster "$PG_VERSION" "$REPLICA" stop -m fast
    cluster_online "$PRIMARY" && pg_ctlcluster "$PG_VERSION" "$PRIMARY" stop -m fast
    rm -f "$STATE/pg-primary.pid" "$STATE/pg-replica.pid"
    log "cluster stopped"
}

do_status() {
    local name file
    for name in node1 node2 simulator nginx/nginx; do
        file=$STATE/$name.pid
        if alive "$file"; then
            printf '%-10s running (pid %s)\n' "${name%/*}" "$(cat "$file")"
        else
            printf '%-10s stopped\n' "${name%/*}"
        fi
    done
    for name in "$PRIMARY" "$REPLICA"; do
        if cluster_online "$name"; then
            printf '%-10s running (pid %s)\n' "$name" "$(cluster_pid "$name")"
        else
            printf '%-10s stopped\n' "$name"
        fi
    done
    if cluster_online "$PRIMARY"; then
        psql -h "$PG_SOCKET" -p "$PG_PORT" -d postgres -tAc \
            "SELECT 'replication: ' || application_name || ' ' || state || ', replay lag '
                    || coalesce(replay_lag::text, '0') FROM pg_stat_replication" || true
        psql -h "$PG_SOCKET" -p "$PG_PORT" -d postgres -tAc \
            "SELECT 'active queue_job runner: ' || a.application_name FROM pg_locks l
               JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.locktype = 'advisory' AND l.granted
                AND (l.classid::bigint << 32 | l.objid::bigint) = 2293787760715711918" || true
    fi
}

case $ACTION in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) die "usage: $0 start [--update] | stop | status" ;;
esac
