#!/usr/bin/env bash
# The wheel test: builds the addon's wheel, checks it carries no development
# tooling, installs it into a fresh virtualenv beside Odoo and installs the
# module into a fresh database from the wheel alone (the repository is not on
# the addons path). Exits non-zero on any failure.
source "$(dirname "$0")/env.sh"
ensure_postgres
ensure_venv
work=$(mktemp -d)
db=fih_wheel_$(date +%s)_$$
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"' EXIT
fail() { printf '[fih] wheel test FAILED: %s\n' "$*" >&2; exit 1; }

wheel=$("$FIH_ROOT/scripts/build_wheel.sh" "$work/dist")
log "built $(basename "$wheel")"
"$PY" - "$wheel" <<'PY' || fail "the wheel's content or metadata"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
root = "odoo/addons/finance_integration_hub/"
assert root + "__manifest__.py" in names, "no manifest in the wheel"
tooling = [n for n in names if n.startswith(tuple(
    root + d for d in ("bench/", "simulator/", "scripts/", "tests/")))]
assert not tooling, "development tooling in the wheel: %s" % tooling[:5]
meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
text = zipfile.ZipFile(sys.argv[1]).read(meta).decode()
for need in ("Name: odoo-addon-finance_integration_hub", "Version: 18.0.",
             "Requires-Dist: odoo-addon-queue_job", "Requires-Dist: jsonschema",
             "Requires-Dist: standardwebhooks", "Requires-Dist: prometheus_client"):
    assert need in text, "METADATA lacks %r" % need
PY

# A fresh virtualenv that sees Odoo and the other dependencies of the
# project's virtualenv (no network here), and gets the addon from its wheel.
python3 -m venv "$work/venv"
main_site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
fresh_site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "import site; site.addsitedir('$main_site')" > "$fresh_site/fih_runtime.pth"
"$work/venv/bin/python" -m pip install -q --no-index "$wheel" || fail "pip install of the wheel"
origin=$("$work/venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("odoo.addons.finance_integration_hub").origin)')
case $origin in
    "$fresh_site"/*) log "the module comes from the wheel: $origin" ;;
    *) fail "the module is imported from $origin, not from the wheel" ;;
esac

export FIH_MASTER_KEY=${FIH_MASTER_KEY:-$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')}
"$work/venv/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/odoo/addons,$ODOO_SRC/addons" \
    -d "$db" -i finance_integration_hub --without-demo=all --stop-after-init \
    --http-port=0 --log-level=warn > "$work/odoo.log" 2>&1 || { tail -n 40 "$work/odoo.log"; fail "Odoo could not install the module"; }
state=$(psql -d "$db" -Atc "SELECT state FROM ir_module_module WHERE name = 'finance_integration_hub'")
models=$(psql -d "$db" -Atc "SELECT count(*) FROM ir_model WHERE model LIKE 'fih.%'")
[ "$state" = installed ] || fail "module state is '$state' after installing from the wheel"
[ "$models" -gt 20 ] || fail "only $models fih.* models registered"
echo "wheel test: $(basename "$wheel") installed from the wheel alone ($models models)"
