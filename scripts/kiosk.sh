#!/usr/bin/env bash
# The booth kiosk: one offline page (Voila, no code shown) where visitors touch a
# fractal and the cluster draws that spot, tile by tile. Installs what is missing first.
#   CLUSTERKIT_BACKEND     auto (default: the lab when this machine can run it, else local), lab, local or ssh
#   CLUSTERKIT_INVENTORY   the inventory (e.g. joined carriers'); default: the lab's, or the packaged one
#   CLUSTERKIT_INSTRUCTOR  1 shows the reboot, shutdown, LED and "unplug a node" buttons
#   CLUSTERKIT_BOOTH_IDLE  seconds without a touch before attract mode (default 60)
#   PORT                   the page's port (default 8866); CLUSTERKIT_IP its address (default 127.0.0.1)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh" test
if [ "$(id -u)" = 0 ]; then venv="${CLUSTERKIT_VENV:-/opt/clusterkit/venv}"; else venv="${CLUSTERKIT_VENV:-$HOME/.local/share/clusterkit/venv}"; fi
export PATH="$venv/bin:$PATH"

backend="${CLUSTERKIT_BACKEND:-auto}"
if [ "$backend" = auto ] || [ "$backend" = lab ]; then
    if python -m clusterkit.lab.check >/dev/null 2>&1; then
        # idempotent: a running lab is kept; an inventory given (joined labs, say) names its own labs
        [ -n "${CLUSTERKIT_INVENTORY:-}" ] || clusterkit lab up
        backend=lab
    elif [ "$backend" = lab ]; then
        python -m clusterkit.lab.check; exit 1
    else
        backend=local
    fi
fi
export CLUSTERKIT_BACKEND="$backend"

port="${PORT:-8866}"
ip="${CLUSTERKIT_IP:-127.0.0.1}"
read -r notebook templates template < <(python -c 'import clusterkit.kiosk as k; print(k.NOTEBOOK, k.TEMPLATE_ROOT, k.TEMPLATE)')
# The kiosk's template (Voila's lab template minus its CDN stylesheets): nothing is fetched from the internet.
export JUPYTER_PATH="$templates${JUPYTER_PATH:+:$JUPYTER_PATH}"
echo "clusterkit kiosk: the $backend backend; open http://$ip:$port/"
exec voila --no-browser --Voila.ip="$ip" --port="$port" --Voila.port_retries=0 --template="$template" \
    --VoilaConfiguration.strip_sources=True --VoilaConfiguration.show_tracebacks=False "$notebook"
