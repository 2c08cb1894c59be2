#!/usr/bin/env bash
# Benchmarks on one running Odoo (fresh database, prefork workers and the
# queue_job runner), all traffic on 127.0.0.1.
# Usage: scripts/bench.sh [all|intake|outbound|bi|bi-sinks|bills|worker-kill|history] [args passed to the bench]
# (worker-kill is a fault test, not part of "all": it kills Odoo's workers;
# history builds a large exchange log once in a database of its own, reuses
# it while the size is the same, and times the cockpit's reads in-process:
# scripts/bench.sh history --messages 20000000)
source "$(dirname "$0")/env.sh"

WHICH=${1:-all}
[ $# -gt 0 ] && shift

DB=${FIH_BENCH_DB:-fih_bench}
[ "$WHICH" = history ] && DB=${FIH_BENCH_DB:-fih_bench_history}
PORT=${FIH_BENCH_PORT:-8269}
WORKERS=${FIH_BENCH_WORKERS:-4}
[ "$WHICH" = worker-kill ] && WORKERS=${FIH_BENCH_WORKERS:-2}

ensure_postgres
ensure_venv
mkdir -p "$FIH_HOME"
key=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
conf=$FIH_HOME/odoo-$DB.conf
cat > "$conf" <<CONF
[options]
addons_path = $ADDONS_PATH
db_name = $DB
http_interface = 127.0.0.1
http_port = $PORT
gevent_port = $((PORT + 3))
workers = $WORKERS
max_cron_threads = 1
limit_time_cpu = 600
limit_time_real = 1200
limit_request = 100000
server_wide_modules = web,queue_job
fih_master_key = $key
fih_bi_parquet_root = $FIH_HOME/parquet-$DB
logfile = $FIH_HOME/odoo-$DB.log
log_level = warn

[queue_job]
channels = root:2
CONF

if [ "$WHICH" = history ]; then
    odoo_once=("$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$DB" --stop-after-init
        --logfile= --log-level=warn)
    if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
        log "updating the module in the history database $DB (kept between runs)"
        "${odoo_once[@]}" -u finance_integration_hub >/dev/null
    else
        log "installing the module in a new history database $DB"
        "${odoo_once[@]}" -i finance_integration_hub --without-demo=all >/dev/null
    fi
    cd "$FIH_ROOT"
    mkdir -p bench/results
    exec "$PY" bench/bench_history.py --conf "$conf" --db "$DB" \
        --output bench/results/history.json "$@"
fi

dropdb --if-exists "$DB"
log "installing the module in a fresh database $DB"
"$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$DB" -i finance_integration_hub,base_automation \
    --without-demo=all --stop-after-init --logfile= --log-level=warn >/dev/null

: > "$FIH_HOME/odoo-$DB.log"
"$PY" "$ODOO_SRC/odoo-bin" -c "$conf" &
odoo_pid=$!
trap 'kill $odoo_pid 2>/dev/null || true; wait $odoo_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/web/login" && break
    sleep 0.5
done
cd "$FIH_ROOT"
mkdir -p bench/results
if [ "$WHICH" = all ] || [ "$WHICH" = intake ]; then
    "$PY" bench/bench_supplier_intake.py --url "http://127.0.0.1:$PORT" --db "$DB" \
        --output bench/results/supplier_intake.json "$@"
fi
if [ "$WHICH" = all ] || [ "$WHICH" = outbound ]; then
    "$PY" bench/bench_outbound.py --url "http://127.0.0.1:$PORT" --db "$DB" \
        --output bench/results/outbound.json "$@"
fi
if [ "$WHICH" = all ] || [ "$WHICH" = bi ]; then
    "$PY" bench/bench_bi_publication.py --url "http://127.0.0.1:$PORT" --db "$DB" \
        --odoo-conf "$conf" --output bench/results/bi_publication.json "$@"
fi
if [ "$WHICH" = bi-sinks ]; then
    rm -rf "$FIH_HOME/parquet-$DB" && mkdir -p "$FIH_HOME/parquet-$DB"
    "$PY" bench/bench_bi_sinks.py --url "http://127.0.0.1:$PORT" --db "$DB" \
        --odoo-conf "$conf" --output bench/results/bi_sinks.json "$@"
fi
if [ "$WHICH" = all ] || [ "$WHICH" = bills ]; then
    "$PY" bench/bench_p2p_bills.py --url "http://127.0.0.1:$PORT" --db "$DB" \
        --output bench/results/p2p_bills.json "$@"
fi
if [ "$WHICH" = worker-kill ]; then
    "$PY" bench/fault_worker_kill.py --url "http://127.0.0.1:$PORT" --db "$DB" \
        --odoo-pid "$odoo_pid" --output bench/results/worker_kill.json "$@"
fi
