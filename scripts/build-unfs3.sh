#!/usr/bin/env bash
# Build and install unfs3's unfsd (vendor/unfs3) as /usr/local/sbin/unfsd, when it is missing or its source
# changed (as root; scripts/setup.sh runs it). unfsd is the NFS server of a user-namespace lab
# (the default `clusterkit lab up`): nfs-ganesha cannot serve files there, and Debian 12 and 13 have no unfs3.
# Why /usr/local/sbin: every lab node sees the host's /usr (read-only), whoever started the lab, and root's
# PATH has it; the workbook's venv is not seen by every node (a normal user's lives in their home) and is
# rebuilt by its own setup. The build runs in a copy (autoreconf writes into its source folder), so the
# checkout stays clean. Build needs (scripts/apt-packages.txt): gcc make autoconf automake flex bison
# pkg-config libtirpc-dev. UNFS3_SRC, UNFSD_DEST and UNFSD_STAMP move the source, the program and its
# digest elsewhere (the test of this script does).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="${UNFS3_SRC:-$here/vendor/unfs3}"
dest="${UNFSD_DEST:-/usr/local/sbin/unfsd}"
stamp="${UNFSD_STAMP:-/usr/local/share/clusterkit/unfsd.source}"
want="$(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [ -x "$dest" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
echo "setup: building unfs3's unfsd from vendor/unfs3 (the user-namespace lab's NFS server)"
start=$(date +%s.%N)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -a "$src/." "$work/"
log="$work/build.log"
if ! ( cd "$work" && ./bootstrap && ./configure --prefix=/usr/local && make -j"$(nproc)" ) >"$log" 2>&1; then
    tail -20 "$log"; echo "setup: building unfs3 failed"; exit 1
fi
install -D -m 755 "$work/unfsd" "$dest"
[ -n "${UNFSD_DEST:-}" ] || install -D -m 644 "$work/unfsd.8" /usr/local/share/man/man8/unfsd.8
mkdir -p "$(dirname "$stamp")"
echo "$want" > "$stamp"
echo "setup: installed $dest ($(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s)"
