#!/usr/bin/env bash
# Screenshots for the README (static/description/): the integration
# dashboard, the exception inbox and a held bill, taken with headless
# Chromium from the running demo. Starts the demo with scripts/run.sh (no
# proxy) when nothing answers on its port, and stops it afterwards.
#
#   scripts/screenshots.sh            # pictures of the demo as it is
#   scripts/screenshots.sh --feed     # send simulator traffic first
#
# Same variables as run.sh: FIH_DB, FIH_HTTP_PORT, FIH_SIM_PORT.
source "$(dirname "$0")/env.sh"

DB=${FIH_DB:-fih_demo}
HTTP_PORT=${FIH_HTTP_PORT:-8069}
URL="http://127.0.0.1:$HTTP_PORT"
secret_file=$FIH_HOME/demo-webhook-secret

ensure_venv
answers() { curl -fsS -o /dev/null "$URL/web/login?db=$DB" 2>/dev/null; }

demo_pid=""
stop_demo() {
    if [ -n "$demo_pid" ]; then
        log "stopping the demo started for the screenshots"
        kill -- "-$demo_pid" 2>/dev/null || true
        wait "$demo_pid" 2>/dev/null || true
    fi
}
trap stop_demo EXIT INT TERM

if ! answers; then
    mkdir -p "$FIH_HOME"
    run_log=$FIH_HOME/screenshots-run-$DB.log
    log "starting the demo on $URL (log: $run_log)"
    # its own process group, so that Odoo and the simulator stop with it
    FIH_PROXY=0 setsid "$FIH_ROOT/scripts/run.sh" >"$run_log" 2>&1 &
    demo_pid=$!
    for _ in $(seq 1 600); do
        answers && break
        kill -0 "$demo_pid" 2>/dev/null || die "the demo did not start; see $run_log"
        sleep 1
    done
    answers || die "the demo did not answer on $URL within 10 minutes"
fi

FIH_DEMO_SECRET=$(cat "$secret_file" 2>/dev/null || true) \
    "$PY" "$FIH_ROOT/scripts/screenshots.py" --url "$URL" --db "$DB" "$@"
