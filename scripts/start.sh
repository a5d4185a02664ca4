#!/usr/bin/env bash
# Start the workbook: install what is missing, make sure a cluster is ready on
# the default backend, then JupyterLab on notebooks/, printing the URL.
#   CLUSTERKIT_BACKEND  auto (default), lab, local or ssh
#   PORT                JupyterLab's port (default 8888); CLUSTERKIT_IP the address (127.0.0.1)
#   CLUSTERKIT_TOKEN    the token in the URL (default: a fresh random one)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh" test
if [ "$(id -u)" = 0 ]; then venv="${CLUSTERKIT_VENV:-/opt/clusterkit/venv}"; else venv="${CLUSTERKIT_VENV:-$HOME/.local/share/clusterkit/venv}"; fi
export PATH="$venv/bin:$PATH"

backend="${CLUSTERKIT_BACKEND:-auto}"
if [ "$backend" = auto ] || [ "$backend" = lab ]; then
    if python -m clusterkit.lab.check >/dev/null 2>&1; then
        clusterkit lab up          # idempotent: a running lab is kept
        backend=lab
    elif python -c 'import sys, clusterkit.lab as L; lab = L.find(); sys.exit(0 if lab and lab.running else 1)'; then
        backend=lab                # a lab that root brought up (`sudo clusterkit lab up`), used as a normal user
    elif [ "$backend" = lab ]; then
        python -m clusterkit.lab.check; exit 1
    else
        backend=local
    fi
fi
export CLUSTERKIT_BACKEND="$backend"

port="${PORT:-8888}"
ip="${CLUSTERKIT_IP:-127.0.0.1}"
token="${CLUSTERKIT_TOKEN:-$(python -c 'import secrets; print(secrets.token_hex(24))')}"
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-root)
# No news pop-up and no update checks: the workbook runs offline.
settings="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/lab/settings"
mkdir -p "$settings"
[ -f "$settings/overrides.json" ] || echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > "$settings/overrides.json"

echo "clusterkit: the $backend backend; open http://$ip:$port/lab?token=$token"
exec jupyter lab --no-browser "${root_flag[@]}" --ip "$ip" --port "$port" --port-retries 0 \
    --ServerApp.root_dir="$here/notebooks" --IdentityProvider.token="$token"
