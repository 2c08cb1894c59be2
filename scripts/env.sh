#!/usr/bin/env bash
# Shared set-up for the run and test commands: PostgreSQL, the Odoo source
# tree and the project's virtualenv. Sourced, not executed.
set -euo pipefail

FIH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo-18.0}
ODOO_GIT_URL=${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}
FIH_HOME=${FIH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/finance-integration-hub}
FIH_VENV=${FIH_VENV:-$FIH_HOME/venv}
# One addons folder per checkout: a second clone never re-points another's module.
FIH_ADDONS=$FIH_HOME/addons-$(printf '%s' "$FIH_ROOT" | sha256sum | cut -c1-12)
PY=$FIH_VENV/bin/python
export FIH_ROOT ODOO_SRC FIH_HOME FIH_VENV FIH_ADDONS PY

log() { printf '[fih] %s\n' "$*" >&2; }
die() { printf '[fih] ERROR: %s\n' "$*" >&2; exit 2; }

# Every Debian package the project needs, installed before any cluster
# starts: an upgrade of postgresql-15 under a running server breaks it
# ("could not load library plpgsql.so").
FIH_DEBIAN_PACKAGES=(postgresql libpq-dev libldap2-dev libsasl2-dev chromium nginx)

ensure_debian_packages() {
    local missing=() pkg
    for pkg in "${FIH_DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    local before after
    before=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
    apt-get install -y -qq "${missing[@]}" >/dev/null
    after=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
    if [ -n "$before" ] && [ "$before" != "$after" ] && pg_lsclusters -h | grep -q online; then
        log "postgresql-15 changed ($before -> $after): restarting the clusters"
        pg_lsclusters -h | awk '$4 == "online" {print $1" "$2}' | while read -r ver name; do
            pg_ctlcluster "$ver" "$name" restart
        done
    fi
}

ensure_postgres() {
    ensure_debian_packages
    # the tests talk to the cluster on the default socket port; other clusters
    # on this machine (scripts/cluster.sh makes two) are never the one to start
    local port="${PGPORT:-5432}" ver name status
    read -r ver name status < <(pg_lsclusters -h | awk -v p="$port" '$3 == p {print $1, $2, $4; exit}')
    [ -n "$name" ] || die "no PostgreSQL cluster on port $port (see pg_lsclusters); create one with: pg_createcluster 15 main --start"
    if [ "$status" != "online" ]; then
        log "starting PostgreSQL cluster $ver $name (port $port)"
        pg_ctlcluster "$ver" "$name" start
    fi
    local me
    me=$(id -un)
    if ! su postgres -c "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1; then
        su postgres -c "createuser -p $port -s '$me'"
    fi
}

ensure_chromium() {
    # the browser tours (HttpCase) drive Debian's headless Chromium
    ensure_debian_packages
}

ensure_odoo_src() {
    if [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
        log "no Odoo source at $ODOO_SRC, trying a shallow clone of Odoo 18.0"
        if ! git clone -q --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$ODOO_SRC" 2>/dev/null; then
            die "Odoo 18.0 source not found. Put an Odoo 18.0 source tree (odoo/, addons/, setup.py) at /opt/odoo-18.0 or set ODOO_SRC=/path/to/odoo-18.0 and run again."
        fi
    fi
    grep -q "^version_info = (18, 0" "$ODOO_SRC/odoo/release.py" \
        || die "$ODOO_SRC is not Odoo 18.0 (see odoo/release.py); set ODOO_SRC to an Odoo 18.0 tree."
}

ensure_venv() {
    ensure_odoo_src
    local stamp want
    want=$(cat "$ODOO_SRC/requirements.txt" "$FIH_ROOT/requirements.txt" "$FIH_ROOT/requirements-dev.txt" \
        "$FIH_ROOT/scripts/constraints.txt" | sha256sum | cut -c1-16)-$ODOO_SRC
    stamp=$FIH_VENV/.fih-stamp
    if [ ! -x "$PY" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "building the virtualenv at $FIH_VENV (first run takes a few minutes)"
        ensure_debian_packages
        mkdir -p "$FIH_HOME"
        python3 -m venv "$FIH_VENV"
        # PIP_CONSTRAINT (unlike -c) also reaches isolated build environments.
        local constraints=$FIH_ROOT/scripts/constraints.txt
        [ -f /etc/xdg/pip/constraints.txt ] && constraints="$constraints /etc/xdg/pip/constraints.txt"
        local pip=(env PIP_CONSTRAINT="$constraints" "$PY" -m pip install -q)
        "${pip[@]}" "setuptools<70" wheel
        "${pip[@]}" -r "$ODOO_SRC/requirements.txt"
        "${pip[@]}" --no-build-isolation --config-settings editable_mode=compat -e "$ODOO_SRC"
        "${pip[@]}" -r "$FIH_ROOT/requirements.txt" -r "$FIH_ROOT/requirements-dev.txt"
        echo "$want" > "$stamp"
    fi
    # Odoo needs a folder named after the module; the repository root is the module.
    mkdir -p "$FIH_ADDONS"
    ln -sfn "$FIH_ROOT" "$FIH_ADDONS/finance_integration_hub"
    QUEUE_JOB_ADDONS=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/odoo/addons
    [ -f "$QUEUE_JOB_ADDONS/queue_job/__manifest__.py" ] || die "queue_job is not installed in $FIH_VENV"
    ADDONS_PATH="$ODOO_SRC/odoo/addons,$ODOO_SRC/addons,$QUEUE_JOB_ADDONS,$FIH_ADDONS"
    export ADDONS_PATH
}

ensure_master_key() {
    # the key that seals the backends' secrets: every node of one database
    # must use the same one
    local key_file=$FIH_HOME/master.key
    mkdir -p "$FIH_HOME"
    [ -s "$key_file" ] || (umask 077 && "$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$key_file")
    cat "$key_file"
}

# render_proxy_conf OUT RUN_DIR INTERFACE PORT HTTP_PORT... : nginx.conf.template
# filled in for one or more Odoo nodes (node N's gevent port is its HTTP port + 3)
render_proxy_conf() {
    local out=$1 run_dir=$2 interface=$3 port=$4 user_line="" http_servers="" gevent_servers="" p
    shift 4
    for p in "$@"; do
        http_servers+="${http_servers:+\\n        }server 127.0.0.1:$p\\1;"
        gevent_servers+="${gevent_servers:+\\n        }server 127.0.0.1:$((p + 3))\\1;"
    done
    # as root, nginx's workers would otherwise switch to 'nobody'
    [ "$(id -u)" = 0 ] && user_line="user root;"
    sed -e "s|@USER_LINE@|$user_line|" \
        -e "s|@RUN_DIR@|$run_dir|g" \
        -e "s|server 127.0.0.1:@ODOO_PORT@\\(.*\\);|$http_servers|" \
        -e "s|server 127.0.0.1:@GEVENT_PORT@\\(.*\\);|$gevent_servers|" \
        -e "s|@PROXY_INTERFACE@|$interface|g" \
        -e "s|@PROXY_PORT@|$port|g" \
        "$FIH_ROOT/scripts/nginx.conf.template" > "$out"
}
