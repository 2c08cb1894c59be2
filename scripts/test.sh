#!/usr/bin/env bash
# The test command: linters, unit tests without a database, then every Odoo
# test on a fresh database (real Odoo 18 + PostgreSQL). Ends with
# "N passed, N failed" and exits non-zero on any failure.
source "$(dirname "$0")/env.sh"
ensure_postgres
ensure_venv
ensure_chromium
cd "$FIH_ROOT"

failed_steps=()
log "lint: ruff"
"$FIH_VENV/bin/ruff" check . || failed_steps+=(ruff)
"$FIH_VENV/bin/ruff" format --check . || failed_steps+=(ruff-format)
"$PY" scripts/render_readme.py --check || failed_steps+=(readme)
log "lint: pylint-odoo"
"$PY" -m pylint --rcfile=.pylintrc "$FIH_ADDONS/finance_integration_hub" \
    --ignore=simulator,bench,scripts,unit || failed_steps+=(pylint-odoo)

log "unit tests (plain Python, no database)"
unit_log=$(mktemp)
# rootdir keeps pytest from importing the addon package above tests/unit
set +e
"$PY" -m pytest -q -p no:cacheprovider --rootdir=tests/unit \
    tests/unit > "$unit_log" 2>&1
unit_rc=$?
set -e
tail -n 15 "$unit_log"
unit_passed=$(grep -Eo '[0-9]+ passed' "$unit_log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
unit_failed=$(tail -1 "$unit_log" | { grep -Eo '[0-9]+ (failed|errors?)' || true; } | awk '{s+=$1} END {print s+0}')
if [ "$unit_rc" -ne 0 ] && [ "$unit_failed" -eq 0 ]; then unit_failed=1; fi

log "wheel: built with whool, installed from the wheel alone"
"$FIH_ROOT/scripts/test_wheel.sh" || failed_steps+=(wheel)

log "Odoo tests on a fresh database"
db=fih_test_$(date +%s)_$$
odoo_log=$(mktemp)
export FIH_MASTER_KEY=${FIH_MASTER_KEY:-$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')}
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
set +e
"$PY" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" -d "$db" \
    -i finance_integration_hub,account_edi_ubl_cii --without-demo=all --test-enable \
    --test-tags=/finance_integration_hub --stop-after-init \
    --http-interface=127.0.0.1 --http-port="$port" --log-level=test \
    > "$odoo_log" 2>&1
odoo_rc=$?
set -e
grep -E "(ERROR|CRITICAL|FAIL:|odoo.tests.result|Ran [0-9]+ tests|finance_integration_hub.tests)" "$odoo_log" \
    | grep -v "docutils" | tail -n 200 || true
dropdb --if-exists "$db" >/dev/null 2>&1 || true

summary=$(grep -E "odoo.tests.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$odoo_log" | tail -1)
if [ -z "$summary" ]; then
    echo "No Odoo test summary found; the last lines of the log:"
    tail -n 60 "$odoo_log"
    odoo_total=0; odoo_bad=1
else
    read -r f e t < <(echo "$summary" | sed -E 's/.*: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/')
    odoo_total=$t; odoo_bad=$((f + e))
fi
# errors outside test cases (e.g. a failing install) must fail the run too
load_errors=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$odoo_log" || true)
if [ "$odoo_bad" -eq 0 ] && [ "$load_errors" -gt 0 ]; then
    odoo_bad=$load_errors
fi
if [ "$odoo_rc" -ne 0 ] && [ "$odoo_bad" -eq 0 ]; then odoo_bad=1; fi

passed=$((unit_passed + odoo_total - (odoo_bad > odoo_total ? odoo_total : odoo_bad)))
failed=$((unit_failed + odoo_bad))
[ ${#failed_steps[@]} -eq 0 ] || { echo "failed steps: ${failed_steps[*]}"; failed=$((failed + ${#failed_steps[@]})); }
echo "unit: $unit_passed passed, $unit_failed failed; odoo: $odoo_total run, $odoo_bad failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
