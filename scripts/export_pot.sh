#!/usr/bin/env bash
# Regenerate i18n/finance_integration_hub.pot from the code (OCA convention):
# installs the module in a scratch database and exports its terms.
source "$(dirname "$0")/env.sh"
ensure_postgres
ensure_venv
cd "$FIH_ROOT"
db=fih_pot_$(date +%s)_$$
export FIH_MASTER_KEY=${FIH_MASTER_KEY:-$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')}
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
odoo=("$PY" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" -d "$db" --stop-after-init --log-level=warn)
"${odoo[@]}" -i finance_integration_hub --without-demo=all >/dev/null
mkdir -p i18n
"${odoo[@]}" --i18n-export=i18n/finance_integration_hub.pot --modules=finance_integration_hub >/dev/null
# the header names the server the way upstream Odoo does, with no dates
# (a stable file: it changes only when the terms change)
sed -i -E -e '1s/.*/# Translation of Odoo Server./' \
    -e 's/^"Project-Id-Version: .*/"Project-Id-Version: Odoo Server 18.0\\n"/' \
    -e '/^"(POT-Creation-Date|PO-Revision-Date): /d' i18n/finance_integration_hub.pot
log "wrote i18n/finance_integration_hub.pot"
