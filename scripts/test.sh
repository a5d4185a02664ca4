#!/usr/bin/env bash
# Run every test on a fresh machine: installs what is missing (scripts/setup.sh),
# then the unit, local, lab and browser tests, then every notebook with nbval on
# the local backend and, where this machine can run the lab, on the lab; then, where
# it can run virtual boards (QEMU), notebooks 00-06 and 09 and the VM tests on the VM lab.
# A pytest run that collects no test fails here (pytest's exit 5). The last line is
# the verdict over all the runs: "total: N passed, N failed, N skipped" (errors
# count as failed; a run that ends badly without counting one failure counts one).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh test || { echo "setup failed"; echo "total: 0 passed, 1 failed"; exit 1; }
if [ "$(id -u)" = 0 ]; then venv="${CLUSTERKIT_VENV:-/opt/clusterkit/venv}"; else venv="${CLUSTERKIT_VENV:-$HOME/.local/share/clusterkit/venv}"; fi
export CLUSTERKIT_VENV="$venv"     # tests that run setup.sh or start.sh use this same venv
export PATH="$venv/bin:$PATH"
export CLUSTERKIT_SANDBOX="${CLUSTERKIT_SANDBOX:-$(mktemp -d)/sandbox}"
mkdir -p artifacts

status=0
passed=0 failed=0 skipped=0
count() {  # add a failure that pytest's own counts do not show
    failed=$((failed + 1)); status=1
}
pytest_run() {
    local name="$1"; shift
    local xml="artifacts/junit-${name// /-}.xml"
    echo "=== $name"
    rm -f "$xml"
    python -m pytest --junitxml="$xml" "$@"
    local rc=$?
    local p=0 f=0 s=0
    if [ -f "$xml" ]; then
        read -r p f s < <(python - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
t, f, e, s = (sum(int(x.get(k, 0)) for x in suites) for k in ("tests", "failures", "errors", "skipped"))
print(t - f - e - s, f + e, s)
PY
) || { p=0 f=0 s=0; }
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    [ "$f" = 0 ] || status=1
    if [ "$rc" = 5 ]; then
        echo "$name: no tests were collected, which counts as a failure"
        count
    elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        echo "$name: pytest ended with exit status $rc, which counts as a failure"
        count
    fi
}

pytest_run "library tests" -m "not vm" tests
CLUSTERKIT_BACKEND=local pytest_run "notebooks on local" --nbval-lax -p no:cacheprovider notebooks
if why="$(python -m clusterkit.lab.check 2>&1)"; then
    # A fresh lab, as a class starts from: one left up (a run that was stopped half-way) is taken down first.
    python -m clusterkit.cli lab down >/dev/null
    if python -m clusterkit.cli lab up >/dev/null; then
        # 09 ends by shutting every node down; as a learner then does, `lab up` powers them on for 10 onwards.
        CLUSTERKIT_BACKEND=lab pytest_run "notebooks on lab" --nbval-lax -p no:cacheprovider notebooks/0[0-9]_*.ipynb
        if python -m clusterkit.cli lab up >/dev/null; then
            CLUSTERKIT_BACKEND=lab pytest_run "notebooks after the shutdown, on lab" --nbval-lax -p no:cacheprovider \
                notebooks/[1-9][0-9]_*.ipynb
        else
            echo "notebooks on lab: lab up after 09's shutdown failed"; count
        fi
        python -m clusterkit.cli lab down >/dev/null || { echo "notebooks on lab: lab down failed"; count; }
    else
        echo "notebooks on lab: the lab did not come up, which counts as a failure"
        count
    fi
else
    echo "=== notebooks on lab: not run, this machine cannot run the lab (${why%%$'\n'*})"
fi
if why="$(python -m clusterkit.lab.vm.check 2>&1)"; then
    # Virtual boards (TCG here: minutes per boot). The same notebooks on real boots, then the tests of what
    # must be real, on the boards as the notebooks left them; 09's shutdown comes before the tests' `lab up`.
    python -m clusterkit.cli lab down >/dev/null
    echo "=== the VM lab: $why"
    if python -m clusterkit.cli lab up --vm; then
        vmstate="$(mktemp -d)"
        CLUSTERKIT_STATE="$vmstate" CLUSTERKIT_BACKEND=lab pytest_run "notebooks on the VM lab" --nbval-lax \
            -p no:cacheprovider notebooks/0[0-6]_*.ipynb notebooks/09_*.ipynb
        CLUSTERKIT_STATE="$vmstate" CLUSTERKIT_VM_LAB=pc pytest_run "VM lab tests" -m vm -p no:cacheprovider \
            -s tests/vmlab
        python -m clusterkit.cli lab down >/dev/null || { echo "VM lab: lab down failed"; count; }
    else
        echo "the VM lab did not come up, which counts as a failure"
        count
    fi
else
    echo "=== the VM lab: not run (${why%%$'\n'*})"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
