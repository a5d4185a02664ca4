#!/usr/bin/env bash
# Run every test on a fresh machine: installs what is missing (scripts/setup.sh),
# then the unit, local, lab and browser tests, then every notebook with nbval on
# the local backend and, where this machine can run the lab, on the lab; and, where
# it can run virtual boards (QEMU), notebooks 00-06 and 09 and the VM tests on the VM lab.
#
# The VM lab's phases run beside the others (they wait on an emulated CPU for most of their
# time): they start first, on two boards of a lab named vb (vb0, a primary, and vb1, a worker: every
# board-to-board path, at two thirds of three boards' emulated time; the namespace lab runs four nodes),
# on the first free network, which on a fresh machine is the default one, so the namespace lab's
# notebooks (lab pc) run beside them too, and only the verdict waits for the VM lab. A pytest run that collects no test fails
# here (pytest's exit 5). Each phase prints its counts and its minutes; the last lines are
# a table of the phases, the whole run's minutes (and a line saying so when it passed 60,
# so a slow machine shows before CI's limit does), then the verdict over all the runs:
# "total: N passed, N failed, N skipped" (errors count as failed; a run that ends badly
# without counting one failure counts one).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
began=$(date +%s)
bash scripts/setup.sh test || { echo "setup failed"; echo "total: 0 passed, 1 failed"; exit 1; }
if [ "$(id -u)" = 0 ]; then venv="${CLUSTERKIT_VENV:-/opt/clusterkit/venv}"; else venv="${CLUSTERKIT_VENV:-$HOME/.local/share/clusterkit/venv}"; fi
export CLUSTERKIT_VENV="$venv"     # tests that run setup.sh or start.sh use this same venv
export PATH="$venv/bin:$PATH"
export CLUSTERKIT_SANDBOX="${CLUSTERKIT_SANDBOX:-$(mktemp -d)/sandbox}"
mkdir -p artifacts
phases="$here/artifacts/phases.tsv"   # one line a phase: name, passed, failed, skipped, seconds
: > "$phases"
echo "setup	0	0	0	$(( $(date +%s) - began ))" >> "$phases"

minutes() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }
fail_phase() {  # a failure that pytest's own counts do not show: name, why
    echo "$1: $2"
    printf '%s\t0\t1\t0\t0\n' "$1" >> "$phases"
}
pytest_run() {
    local name="$1"; shift
    local xml="artifacts/junit-${name// /-}.xml" t0 rc p=0 f=0 s=0
    echo "=== $name"
    rm -f "$xml"
    t0=$(date +%s)
    ${pytest_prefix[@]+"${pytest_prefix[@]}"} python -m pytest --junitxml="$xml" "$@"
    rc=$?
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
    local took=$(( $(date +%s) - t0 ))
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$p" "$f" "$s" "$took" >> "$phases"
    echo "=== $name: $p passed, $f failed, $s skipped in $(minutes "$took") min"
    if [ "$rc" = 5 ]; then
        fail_phase "$name" "no tests were collected, which counts as a failure"
    elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        fail_phase "$name" "pytest ended with exit status $rc, which counts as a failure"
    fi
}
timed() {  # a step that is not a pytest run: name, command…; its minutes go in the table
    local name="$1" t0; shift
    t0=$(date +%s)
    "$@"
    local rc=$?
    printf '%s\t0\t0\t0\t%s\n' "$name" "$(( $(date +%s) - t0 ))" >> "$phases"
    return $rc
}

vm_phases() {
    # Virtual boards (TCG here: minutes per boot). Notebooks 00-06 and 09 on real boots, then the tests of
    # what must be real, on the boards as the notebooks left them; 09's shutdown comes before the tests' `lab up`.
    python -m clusterkit.cli lab down --name "$vm_lab" >/dev/null
    echo "=== the VM lab: $1"
    if timed "VM lab up (2 boards)" python -m clusterkit.cli lab up --vm -n 2 --name "$vm_lab"; then
        local vmstate inventory
        vmstate="$(mktemp -d)"
        inventory="$(python -c 'import sys, clusterkit.lab as l; print(l.find(sys.argv[1]).inventory_path)' "$vm_lab")"
        CLUSTERKIT_STATE="$vmstate" CLUSTERKIT_INVENTORY="$inventory" CLUSTERKIT_BACKEND=lab \
            pytest_run "notebooks on the VM lab" --nbval-lax -p tests.nbval_ipc --durations=12 \
            -p no:cacheprovider notebooks/0[0-6]_*.ipynb notebooks/09_*.ipynb
        CLUSTERKIT_STATE="$vmstate" CLUSTERKIT_VM_LAB="$vm_lab" pytest_run "VM lab tests" -m vm -p no:cacheprovider \
            --durations=12 -s tests/vmlab
        python -m clusterkit.cli lab down --name "$vm_lab" >/dev/null || fail_phase "VM lab" "lab down failed"
    else
        fail_phase "VM lab" "the VM lab did not come up, which counts as a failure"
    fi
}

pytest_prefix=() as_who=()
lab_notebooks() {
    # A fresh lab, as a class starts from: one left up (a run that was stopped half-way) is taken down first.
    # $1: what the phases' names add ("" for this user's lab); as_who: how its commands run (empty: as this user).
    local on="$1"
    "${as_who[@]}" python -m clusterkit.cli lab down >/dev/null
    # The notebooks run on the lab's network: a normal user's lab has no host side (`lab enter` runs pytest,
    # and so its kernels, there); on root's lab `lab enter` only names the lab to the command.
    pytest_prefix=("${as_who[@]}" python -m clusterkit.cli lab enter --)
    if "${as_who[@]}" python -m clusterkit.cli lab up >/dev/null; then
        # 09 ends by shutting every node down; as a learner then does, `lab up` powers them on for 10 onwards.
        CLUSTERKIT_BACKEND=lab pytest_run "notebooks on lab$on" --nbval-lax -p tests.nbval_ipc -p no:cacheprovider notebooks/0[0-9]_*.ipynb
        if "${as_who[@]}" python -m clusterkit.cli lab up >/dev/null; then
            CLUSTERKIT_BACKEND=lab pytest_run "notebooks after the shutdown, on lab$on" --nbval-lax -p tests.nbval_ipc -p no:cacheprovider \
                notebooks/[1-9][0-9]_*.ipynb
        else
            fail_phase "notebooks on lab$on" "lab up after 09's shutdown failed"
        fi
        "${as_who[@]}" python -m clusterkit.cli lab down >/dev/null || fail_phase "notebooks on lab$on" "lab down failed"
    else
        fail_phase "notebooks on lab$on" "the lab did not come up, which counts as a failure"
    fi
    pytest_prefix=()
}

learner_notebooks() {
    # As root: the notebooks as a learner runs them, on a lab of their own brought up without sudo. The learner
    # is a throwaway user with 65536 subordinate ids (tests/learners.py), working in a copy of the notebooks in
    # their home; it is removed afterwards, with its lines in /etc/subuid and /etc/subgid.
    local who=cklearner uid gid first home
    if ! read -r uid gid first home < <(python tests/learners.py add "$who"); then
        fail_phase "notebooks on a learner's lab" "could not make the learner $who"
        return
    fi
    mkdir -p "$home/workbook/artifacts"
    cp -r notebooks tests pyproject.toml "$home/workbook/"
    chown -R "$uid:$gid" "$home/workbook"
    as_who=(runuser -u "$who" -- env -u CLUSTERKIT_SANDBOX -u XDG_RUNTIME_DIR HOME="$home" USER="$who" LOGNAME="$who"
            PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin")
    (cd "$home/workbook" && lab_notebooks ", as a learner (no sudo)")
    as_who=()
    cp "$home"/workbook/artifacts/junit-*.xml artifacts/ 2>/dev/null
    python tests/learners.py remove "$who"
}

vm_pid="" vm_lab=vb
if why="$(python -m clusterkit.lab.vm.check 2>&1)"; then
    vm_phases "$why" > artifacts/vm-phases.log 2>&1 &
    vm_pid=$!
    echo "=== the VM lab's phases run beside the others (their output: artifacts/vm-phases.log, shown at the end)"
else
    echo "=== the VM lab: not run (${why%%$'\n'*})"
fi
pytest_run "library tests" -m "not vm" tests
CLUSTERKIT_BACKEND=local pytest_run "notebooks on local" --nbval-lax -p tests.nbval_ipc -p no:cacheprovider notebooks
lab_why=""
check_flag=()
[ "$(id -u)" = 0 ] || check_flag=(--user)   # a normal user runs the notebooks on a lab of its own
if ! lab_why="$(python -m clusterkit.lab.check "${check_flag[@]}" 2>&1)"; then
    if [ "$(id -u)" = 0 ]; then
        fail_phase "notebooks on lab" "this machine cannot run the lab as root (${lab_why%%$'\n'*}), which counts as a failure"
    else
        echo "=== notebooks on lab: not run here (${lab_why%%$'\n'*})"
    fi
    lab_why="no"
fi
[ "$lab_why" = no ] || lab_notebooks ""
[ "$lab_why" = no ] || [ "$(id -u)" != 0 ] || learner_notebooks
if [ -n "$vm_pid" ]; then
    echo "=== waiting for the VM lab's phases"
    wait "$vm_pid"
    echo "=== the VM lab's phases said:"
    cat artifacts/vm-phases.log
fi

total=$(( $(date +%s) - began ))
passed=0 failed=0 skipped=0
echo
printf '%-42s %7s %7s %7s %9s\n' phase passed failed skipped minutes
while IFS=$'\t' read -r name p f s secs; do
    printf '%-42s %7s %7s %7s %9s\n' "$name" "$p" "$f" "$s" "$(minutes "$secs")"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done < "$phases"
echo "the whole run: $(minutes "$total") min"
[ "$total" -le 3600 ] || echo "slow machine: this run took $(minutes "$total") min, past 60 (CI stops at 90)"
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
