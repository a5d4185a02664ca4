#!/bin/bash
# Debian's cloud-init for the first-boot files' schema check (clusterkit/firstboot/external.py,
# tests/firstboot), unpacked into DIR and never installed: installed, it would enable its boot
# services on this machine. Run by setup.sh as root on Debian; later runs only check.
#   scripts/unpack-cloud-init.sh DIR
# DIR/root then holds usr/bin/cloud-init and usr/lib/python3/dist-packages/cloudinit.
set -euo pipefail
dir="${1:?usage: $0 DIR}"
debs=(cloud-init python3-configobj python3-jsonpatch python3-json-pointer)
[ -d "$dir/root/usr/lib/python3/dist-packages/cloudinit" ] && exit 0
echo "setup: unpacking Debian's cloud-init (not installed) into $dir"
rm -rf "$dir.new"
mkdir -p "$dir.new/debs"
(cd "$dir.new/debs" && apt-get download -qq -o APT::Sandbox::User=root "${debs[@]}") || {
    rm -rf "$dir.new"; echo "setup: could not fetch ${debs[*]} (apt-get download): cards are checked without cloud-init"
    exit 1; }
for deb in "$dir.new"/debs/*.deb; do dpkg-deb -x "$deb" "$dir.new/root"; done
rm -rf "$dir.new/debs" "$dir"
mv "$dir.new" "$dir"
