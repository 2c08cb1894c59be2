#!/usr/bin/env bash
# The run command: PostgreSQL, the virtualenv, a demo database with the
# module, the external-system simulator, Odoo with the queue_job runner, and
# in front of Odoo a buffering reverse proxy (nginx) whose address is the
# one to use. FIH_PROXY=0 runs Odoo alone, without proxy_mode.
source "$(dirname "$0")/env.sh"

DB=${FIH_DB:-fih_demo}
HTTP_PORT=${FIH_HTTP_PORT:-8069}
SIM_PORT=${FIH_SIM_PORT:-8071}
PROXY_PORT=${FIH_PROXY_PORT:-8080}
PROXY_INTERFACE=${FIH_PROXY_INTERFACE:-127.0.0.1}
USE_PROXY=${FIH_PROXY:-1}
WORKERS=${FIH_WORKERS:-2}
NGINX=${FIH_NGINX:-/usr/sbin/nginx}

ensure_postgres
ensure_venv
mkdir -p "$FIH_HOME"
umask 077

master_key=$(ensure_master_key)
conf=$FIH_HOME/odoo-$DB.conf
cat > "$conf" <<CONF
[options]
addons_path = $ADDONS_PATH
db_name = $DB
list_db = False
http_interface = 127.0.0.1
http_port = $HTTP_PORT
gevent_port = $((HTTP_PORT + 3))
workers = $WORKERS
max_cron_threads = 1
limit_time_cpu = 600
limit_time_real = 1200
server_wide_modules = web,queue_job
fih_master_key = $master_key
logfile = $FIH_HOME/odoo-$DB.log
log_level = info
proxy_mode = $([ "$USE_PROXY" = 1 ] && echo True || echo False)

[queue_job]
channels = root:$WORKERS
CONF

if ! psql -lqt | cut -d'|' -f1 | grep -qw "$DB"; then
    log "creating database $DB with demo data (about a minute)"
    "$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$DB" -i finance_integration_hub \
        --stop-after-init --logfile= --log-level=warn >/dev/null
else
    log "updating finance_integration_hub in $DB"
    "$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$DB" -u finance_integration_hub \
        --stop-after-init --logfile= --log-level=warn >/dev/null
fi

secret_file=$FIH_HOME/demo-webhook-secret
[ -s "$secret_file" ] || "$PY" -c "import sys; sys.path.insert(0, '$FIH_ROOT'); from lib.standard_webhooks import generate_secret; print(generate_secret())" > "$secret_file"
FIH_DEMO_SECRET=$(cat "$secret_file") "$PY" "$ODOO_SRC/odoo-bin" shell -c "$conf" -d "$DB" \
    --logfile= --log-level=warn --no-http >/dev/null <<'PYSHELL'
import os
secret = os.environ["FIH_DEMO_SECRET"]
for xmlid in ("demo_backend_procurement", "demo_backend_procurement_v2", "demo_backend_ap"):
    backend = env.ref(f"finance_integration_hub.{xmlid}", raise_if_not_found=False)
    if backend and secret not in backend._webhook_verification_secrets():
        backend.webhook_secret = secret
env.cr.commit()
PYSHELL

# -- the buffering reverse proxy ------------------------------------------------
proxy_dir=$FIH_HOME/nginx-$DB
proxy_conf=$proxy_dir/nginx.conf
stop_proxy() {
    if [ -s "$proxy_dir/nginx.pid" ] && kill -0 "$(cat "$proxy_dir/nginx.pid")" 2>/dev/null; then
        kill -QUIT "$(cat "$proxy_dir/nginx.pid")" 2>/dev/null || true
    fi
}
start_proxy() {
    [ -x "$NGINX" ] || die "nginx is not installed ($NGINX); run again to install it with the other Debian packages, or set FIH_PROXY=0"
    mkdir -p "$proxy_dir"
    stop_proxy  # one left by an earlier run of this database
    render_proxy_conf "$proxy_conf" "$proxy_dir" "$PROXY_INTERFACE" "$PROXY_PORT" "$HTTP_PORT"
    "$NGINX" -q -t -c "$proxy_conf" -p "$proxy_dir" -e "$proxy_dir/nginx-error.log" \
        || die "the proxy configuration $proxy_conf is not valid"
    "$NGINX" -c "$proxy_conf" -p "$proxy_dir" -e "$proxy_dir/nginx-error.log"
    log "proxy started on $PROXY_INTERFACE:$PROXY_PORT (pid $(cat "$proxy_dir/nginx.pid"))"
}

cd "$FIH_ROOT"
"$PY" -m simulator serve --port "$SIM_PORT" --quiet &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; stop_proxy' EXIT INT TERM

if [ "$USE_PROXY" = 1 ]; then
    start_proxy
    public_url="http://$PROXY_INTERFACE:$PROXY_PORT"
    proxy_note="Proxy:           nginx buffers every request before Odoo (127.0.0.1:$HTTP_PORT) sees it; config $proxy_conf"
else
    public_url="http://127.0.0.1:$HTTP_PORT"
    proxy_note="Proxy:           none (FIH_PROXY=0): put a buffering reverse proxy in front of Odoo before exposing it"
fi
webhook_url="$public_url/finance_hub/webhook/demo-procurement"
cat <<INFO

  Finance Integration Hub is starting
  -----------------------------------
  Odoo:            $public_url   (login: admin, password: admin)
  $proxy_note
  Database:        $DB   (log: $FIH_HOME/odoo-$DB.log)
  Simulator:       http://127.0.0.1:$SIM_PORT   (receives outbound calls)
  Demo webhook:    $webhook_url
  Webhook secret:  $(cat "$secret_file")

  Procurement v2:  ${webhook_url}-v2   (same secret; its own JSON shape, mapped)

  Send demo suppliers from the simulator:
    cd $FIH_ROOT && $PY -m simulator demo --url $webhook_url --secret $(cat "$secret_file")
    cd $FIH_ROOT && $PY -m simulator send --shape procurement-v2 --count 5 --url ${webhook_url}-v2 --secret $(cat "$secret_file")

  Play a procure-to-pay cycle (supplier, order, receipt, bill, payment):
    cd $FIH_ROOT && $PY -m simulator p2p --number 20 --url $webhook_url --ap-url $public_url/finance_hub/webhook/demo-ap --secret $(cat "$secret_file")

  BI publications send to the simulator's data warehouse:
    Integration > Operations > Publications > Publish Now

INFO
"$PY" "$ODOO_SRC/odoo-bin" -c "$conf"
