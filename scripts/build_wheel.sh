#!/usr/bin/env bash
# Builds dist/odoo_addon_finance_integration_hub-<version>-py3-none-any.whl
# with whool (the OCA build backend) from the files git tracks, leaving out
# the development tooling: the benchmarks, the simulator, the scripts and the
# tests. Usage: scripts/build_wheel.sh [OUT_DIR]   (prints the wheel's path)
source "$(dirname "$0")/env.sh"
ensure_venv
out=$(mkdir -p "${1:-$FIH_ROOT/dist}" && cd "${1:-$FIH_ROOT/dist}" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# whool packs every file of a git work tree; outside one it packs the folder
# as it is, so the wheel's content is chosen here, from what git tracks.
addon=$stage/finance_integration_hub
mkdir -p "$addon"
(cd "$FIH_ROOT" && git ls-files -z) | grep -zvE '^(bench|simulator|scripts|tests|\.ci|\.github)/|^\.|^requirements-dev\.txt$' \
    | (cd "$FIH_ROOT" && xargs -0 cp --parents -t "$addon")
rm -f "$out"/odoo_addon_finance_integration_hub-*.whl
(cd "$addon" && "$PY" -m pip wheel -q --no-deps -w "$out" .) >&2
ls "$out"/odoo_addon_finance_integration_hub-*.whl
