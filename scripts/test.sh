#!/usr/bin/env bash
# Run every test on a fresh machine: installs what is missing (scripts/setup.sh),
# then the unit, local, lab and browser tests, then every notebook with nbval on
# the local backend and, where this machine can run the lab, on the lab.
# A pytest run that collects no test fails here (pytest's exit 5).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh test || { echo "setup failed"; exit 1; }
if [ "$(id -u)" = 0 ]; then venv="${CLUSTERKIT_VENV:-/opt/clusterkit/venv}"; else venv="${CLUSTERKIT_VENV:-$HOME/.local/share/clusterkit/venv}"; fi
export PATH="$venv/bin:$PATH"
export CLUSTERKIT_SANDBOX="${CLUSTERKIT_SANDBOX:-$(mktemp -d)/sandbox}"
mkdir -p artifacts

status=0
pytest_run() {
    local name="$1"; shift
    echo "=== $name"
    python -m pytest "$@"
    local rc=$?
    if [ "$rc" = 5 ]; then
        echo "$name: no tests were collected, which counts as a failure"
        rc=1
    fi
    [ "$rc" = 0 ] || status=1
}

pytest_run "library tests" tests
CLUSTERKIT_BACKEND=local pytest_run "notebooks on the local backend" --nbval-lax -p no:cacheprovider notebooks
if python -m clusterkit.lab.check >/dev/null 2>&1; then
    python -m clusterkit.cli lab up >/dev/null && {
        CLUSTERKIT_BACKEND=lab pytest_run "notebooks on the lab" --nbval-lax -p no:cacheprovider notebooks
        python -m clusterkit.cli lab down >/dev/null
    }
fi
exit $status
