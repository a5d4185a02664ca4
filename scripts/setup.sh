#!/usr/bin/env bash
# Install what the workbook needs on this machine, once; later runs only check.
#   Debian packages (as root, when missing) from scripts/apt-packages.txt, unfs3's unfsd built from
#   vendor/unfs3 (as root, when missing or changed: scripts/build-unfs3.sh), then a virtual
#   environment with clusterkit and its Python packages.
# The venv lives at $CLUSTERKIT_VENV, by default /opt/clusterkit/venv for root
# (a path every lab node and every user can read) or ~/.local/share/clusterkit/venv.
# Then `clusterkit` goes on PATH: a link in $CLUSTERKIT_BIN, by default /usr/local/bin
# for root and ~/.local/bin otherwise (a clusterkit there that is not ours, such as
# a file or a link into another venv that still exists, is left alone).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-test}"

if [ "$(id -u)" = 0 ]; then
    default_venv=/opt/clusterkit/venv
else
    default_venv="$HOME/.local/share/clusterkit/venv"
fi
CLUSTERKIT_VENV="${CLUSTERKIT_VENV:-$default_venv}"
case "$CLUSTERKIT_VENV" in /*) ;; *) CLUSTERKIT_VENV="$PWD/$CLUSTERKIT_VENV" ;; esac
export CLUSTERKIT_VENV="${CLUSTERKIT_VENV%/}"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    mapfile -t wanted < <(grep -v '^\s*#' "$here/scripts/apt-packages.txt" | sed '/^\s*$/d')
    missing=()
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "setup: installing Debian packages: ${missing[*]}"
        # Packages must not start their services on the host (a host chronyd would
        # steer this machine's clock): policy-rc.d says no for the install.
        made_policy=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
            made_policy=1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
        # Munge, Slurm and MariaDB (notebooks 10, 11) and rpcbind (unfs3's, notebook 04) run inside lab nodes only:
        # what this install enabled never starts at this machine's boot (a Slurm the machine had before is not
        # touched: only what was just installed).
        for unit in munge:munge slurmctld:slurm-wlm slurmd:slurm-wlm slurmdbd:slurmdbd mariadb:mariadb-server \
                    rpcbind.socket:rpcbind rpcbind:rpcbind; do
            case " ${missing[*]} " in *" ${unit#*:} "*)
                systemctl disable "${unit%%:*}" >/dev/null 2>&1 || true ;; esac
        done
    fi
fi
if [ "$(id -u)" = 0 ]; then
    # unfs3's unfsd, the NFS server of a user-namespace lab, built from vendor/unfs3 when missing or changed.
    bash "$here/scripts/build-unfs3.sh" || exit 1
elif [ ! -x /usr/local/sbin/unfsd ]; then
    echo "setup: /usr/local/sbin/unfsd (the NFS server of a user-namespace lab) is missing: run setup as root once"
fi

py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)"
if [ ! -x "$CLUSTERKIT_VENV/bin/python" ]; then
    echo "setup: creating $CLUSTERKIT_VENV"
    mkdir -p "$(dirname "$CLUSTERKIT_VENV")"
    "$py" -m venv "$CLUSTERKIT_VENV"
    "$CLUSTERKIT_VENV/bin/pip" install -q --upgrade pip
fi
# What a running lab, kernel or engine uses is only replaced when its content changed, and then whole:
# the pip packages when the requirements of pyproject (not the rest of the file) changed; clusterkit itself
# when a digest of its files changed, as a new version's folder and one atomic swap of a link
# (scripts/install_clusterkit.py says how). Another setup running at once (the kiosk and a second workbook
# started together) waits for this one.
if [ ! -w "$CLUSTERKIT_VENV" ]; then
    # Another user's venv (a normal user sharing root's): used as it is.
    echo "setup: using $CLUSTERKIT_VENV as it is (not yours to update)"
else
    exec 9>>"$CLUSTERKIT_VENV/.clusterkit-setup.lock"
    command -v flock >/dev/null && flock 9
    installer=("$CLUSTERKIT_VENV/bin/python" -I "$here/scripts/install_clusterkit.py")
    reqs="$(mktemp)"
    "${installer[@]}" requirements "$here" "$extras" > "$reqs"
    stamp="$CLUSTERKIT_VENV/.clusterkit-stamp"
    want="$(sha256sum < "$reqs" | cut -c1-16)-$extras"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "setup: installing Python packages ($extras)"
        log="$(mktemp)"
        if ! "$CLUSTERKIT_VENV/bin/pip" install -q -r "$reqs" >"$log" 2>&1; then
            grep -v -e "is ignored: it is neither" "$log"; echo "setup: pip install failed"; exit 1
        fi
        rm -f "$log"
        chmod -R a+rX "$CLUSTERKIT_VENV" 2>/dev/null || true
        echo "$want" > "$stamp"
    fi
    rm -f "$reqs"
    "${installer[@]}" install "$here" || { echo "setup: installing clusterkit failed"; exit 1; }
    exec 9>&-
fi
# HPC Carpentry's amdahl (notebook 11): its wheel, cached once, so the cluster installs it with no network.
wheels="$CLUSTERKIT_VENV/share/clusterkit/wheels"
if [ -w "$CLUSTERKIT_VENV" ] && ! ls "$wheels"/amdahl-0.4.1-*.whl >/dev/null 2>&1; then
    mkdir -p "$wheels"
    "$CLUSTERKIT_VENV/bin/pip" download -q --no-deps --only-binary=:all: -d "$wheels" amdahl==0.4.1 >/dev/null 2>&1 \
        && chmod -R a+rX "$wheels" \
        || echo "setup: could not download amdahl's wheel (no network?): notebook 11's modules step will ask for it"
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
    # cloud-init's own schema check for the cards (tests/firstboot fail without it here, rather than skip)
    "$here/scripts/unpack-cloud-init.sh" "$CLUSTERKIT_VENV/share/clusterkit/cloud-init" || true
fi
if [ "$(id -u)" = 0 ]; then
    # The ids of root's labs (every node in a user namespace): root's range in /etc/subuid and /etc/subgid,
    # added when root has none (and said so); a normal user's range is root's to add (lab up says the line).
    "$CLUSTERKIT_VENV/bin/python" -c 'from clusterkit.lab import rootless; rootless.root_ids(log=lambda line: print("setup: " + line))' \
        || { echo "setup: root's subordinate ids (/etc/subuid, /etc/subgid) are not usable"; exit 1; }
fi

# `clusterkit` on PATH for every new shell (sudo and lab nodes included).
if [ "$(id -u)" = 0 ]; then bin="${CLUSTERKIT_BIN:-/usr/local/bin}"; else bin="${CLUSTERKIT_BIN:-$HOME/.local/bin}"; fi
target="$CLUSTERKIT_VENV/bin/clusterkit"
link="$bin/clusterkit"
ours=0
if [ ! -e "$link" ] && [ ! -L "$link" ]; then
    ours=1                                         # nothing there
elif [ -L "$link" ]; then
    old="$(readlink "$link")"
    case "$old" in
        "$target") ours=1 ;;                       # already this venv's
        */bin/clusterkit) [ -e "$old" ] || ours=1 ;;   # a removed venv's; another live one's is kept
    esac
fi
if [ "$ours" = 1 ]; then
    mkdir -p "$bin"
    [ "$(readlink "$link" 2>/dev/null)" = "$target" ] || ln -sfn "$target" "$link"
    case ":$PATH:" in
        *":$bin:"*) ;;
        *) echo "setup: $link is ready, but $bin is not on this shell's PATH: a new login shell adds it" \
                "where ~/.profile does (Debian's does for ~/.local/bin); else add it to PATH" ;;
    esac
else
    echo "setup: left $link alone (not a link to this clusterkit); this one is $target"
fi
