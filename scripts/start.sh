#!/usr/bin/env bash
# Start the workbook: install what is missing, make sure a cluster is ready on
# the default backend, then JupyterLab on notebooks/, printing the URL.
#   CLUSTERKIT_BACKEND  auto (default), lab, local or ssh
#   PORT                JupyterLab's port (default: 8888, or the next free one when it is busy;
#                       a PORT given that is busy is refused); CLUSTERKIT_IP the address (127.0.0.1)
#   CLUSTERKIT_TOKEN    the token in the URL (default: a fresh random one)
#   CLUSTERKIT_INVENTORY the inventory (default: the lab's, or the packaged one); a lab's own names that lab
# Stop it with Ctrl-C in this terminal, or `jupyter server stop PORT` from another.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ip="${CLUSTERKIT_IP:-127.0.0.1}"

port_free() {   # can JupyterLab listen on $ip:$1?
    python3 - "$ip" "$1" <<'PY'
import socket, sys
with socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as JupyterLab binds
    try:
        s.bind((sys.argv[1], int(sys.argv[2])))
    except OSError:
        sys.exit(1)
PY
}
choose_port() {  # sets $port: PORT when free, else the first free one from 8888
    if [ -n "${PORT:-}" ]; then
        port_free "$PORT" || { echo "clusterkit: port $PORT on $ip is busy (another JupyterLab?); choose a free one with PORT=" >&2; exit 1; }
        port="$PORT"
        return
    fi
    port=8888
    until port_free "$port"; do
        port=$((port + 1))
        [ "$port" -le 8988 ] || { echo "clusterkit: no free port in 8888-8988 on $ip; choose one with PORT=" >&2; exit 1; }
    done
}
choose_port     # before anything is installed or started: a busy PORT fails at once
bash "$here/scripts/setup.sh" test
if [ "$(id -u)" = 0 ]; then venv="${CLUSTERKIT_VENV:-/opt/clusterkit/venv}"; else venv="${CLUSTERKIT_VENV:-$HOME/.local/share/clusterkit/venv}"; fi
export PATH="$venv/bin:$PATH"

backend="${CLUSTERKIT_BACKEND:-auto}"
user_flag=()
[ "$(id -u)" = 0 ] || user_flag=(--user)   # a normal user's own lab, no sudo (clusterkit/lab/userlab.py)
kernel_flags=()
if [ "$backend" = auto ] || [ "$backend" = lab ]; then
    if python -m clusterkit.lab.check "${user_flag[@]}" >/dev/null 2>&1; then
        # idempotent: a running lab is kept; an inventory given (a lab of another name) names its own lab
        [ -n "${CLUSTERKIT_INVENTORY:-}" ] || clusterkit lab up
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
if [ "$backend" = lab ] && [ "$(id -u)" != 0 ] && [ -z "${CLUSTERKIT_INVENTORY:-}" ] && \
   python -c 'import sys, clusterkit.lab as L, clusterkit.lab.userlab as U; lab = L.find(); sys.exit(0 if lab and U.is_user_lab(lab.dir) else 1)'; then
    # The user's own lab has no host side: the notebooks' kernel runs on the lab's network (`clusterkit lab
    # enter`, through the lab's python3 kernelspec) and talks to JupyterLab over Unix sockets (ipc transport).
    export JUPYTER_PATH="$(clusterkit lab kernel)${JUPYTER_PATH:+:$JUPYTER_PATH}"
    kernel_flags=(--KernelManager.transport=ipc)
fi

port_free "$port" || choose_port      # taken while the cluster came up
[ -n "${PORT:-}" ] || [ "$port" = 8888 ] || echo "clusterkit: port 8888 is busy; using $port (PORT= chooses one)"
token="${CLUSTERKIT_TOKEN:-$(python -c 'import secrets; print(secrets.token_hex(24))')}"
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-root)
# No news pop-up and no update checks: the workbook runs offline.
settings="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/lab/settings"
mkdir -p "$settings"
[ -f "$settings/overrides.json" ] || echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > "$settings/overrides.json"

# The URL is printed once JupyterLab listens (it takes a few seconds to start): a URL opened earlier
# shows the browser's "connection refused". The waiter runs beside it; JupyterLab keeps this terminal
# (its Ctrl-C question reads the keyboard).
(
    if python3 - "$ip" "$port" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
end = time.monotonic() + 180
while time.monotonic() < end:
    try:
        socket.create_connection((host, port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
PY
    then
        echo "clusterkit: the $backend backend; open http://$ip:$port/lab?token=$token"
        echo "clusterkit: stop it with Ctrl-C here, or: jupyter server stop $port"
    else
        echo "clusterkit: JupyterLab did not listen on $ip:$port within 3 minutes (see its messages above)" >&2
    fi
) &
exec jupyter lab --no-browser "${root_flag[@]}" --ip "$ip" --port "$port" --port-retries 0 \
    --ServerApp.root_dir="$here/notebooks" --IdentityProvider.token="$token" "${kernel_flags[@]}"
