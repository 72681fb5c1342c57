#!/usr/bin/env bash
# Builds what examples/vm-router.yaml boots, under build/ of the checkout (cached: a second run
# only repacks the config disks):
#   build/vm/router.iso        the routers' ISO (scripts/vm-image.sh: the Debian kernel with
#                              8021q and ipip, busybox, Debian's keepalived and its libraries)
#   build/vm-router/NAME.disk  each VM router's config disk: examples/vm-router/NAME.startup
#                              padded to 64 KiB (a raw disk image; the guest's init runs it)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
"$SRC/scripts/vm-image.sh" "$SRC/build/vm"
[ -s "$SRC/build/vm/router.iso" ] || {
  echo "vm-router: no build/vm/router.iso: keepalived, xorriso and isolinux are needed (scripts/deps.sh)" >&2
  exit 1
}
mkdir -p "$SRC/build/vm-router"
for c in "$SRC"/examples/vm-router/*.startup; do
  d=$SRC/build/vm-router/$(basename "$c" .startup).disk
  cp "$c" "$d.tmp"
  truncate -s 64K "$d.tmp"
  mv "$d.tmp" "$d"
done
echo "vm-router: build/vm/router.iso and config disks in build/vm-router"
