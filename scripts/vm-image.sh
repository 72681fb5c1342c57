#!/usr/bin/env bash
# Builds the small guest used by VM tests from Debian packages, without installing them:
#   OUT/vmlinuz    the Debian 12 kernel (linux-image-amd64)
#   OUT/initrd.gz  busybox-static + the kernel modules for virtio-net, e1000, virtio-blk, 802.1Q,
#                  IPIP and the ACPI power button + tests/vm/init
#   OUT/vnet.iso   both on a bootable ISO 9660 image (isolinux; command line
#                  "console=ttyS0 quiet panic=-1 vnet.shell"), when xorriso and isolinux exist
#   OUT/keepalived.gz   a second initrd layer: Debian's keepalived (the installed one, package
#                  keepalived) and the shared libraries it links (ldd), when keepalived is installed
#   OUT/qga.gz     a second initrd layer: the QEMU guest agent (qemu-ga from Debian's
#                  qemu-guest-agent, downloaded, not installed) and its shared libraries (ldd);
#                  tests/vm/init starts it on the virtio-serial port org.qemu.guest_agent.0
#   OUT/initrd-qga.gz   initrd.gz followed by qga.gz (the kernel unpacks concatenated archives):
#                  the test guest with an agent (exec through it, docs/vm.md)
#   OUT/router.iso the ISO with both layers: a router with a VRRP speaker (examples/vm-router.yaml)
#   OUT/ipvs.gz    a second initrd layer: the kernel's IPVS (ip_vs, its schedulers and what they
#                  depend on), the dummy interface, a module order file that replaces the first
#                  layer's (its modules, then these), and Debian's ipvsadm with its libraries
#                  (downloaded, not installed): a director whose kernel has ip_vs
#                  (tests/lab/lb_ipvs_vm.sh)
# The guest configures itself from the kernel command line (see tests/vm/init) and prints
# VNET-RESULT lines on its serial console. Needs root only for apt-get download.
set -euo pipefail
OUT=${1:-build/vm}
SRC=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
iso_tools() { command -v xorriso >/dev/null && [ -e /usr/lib/ISOLINUX/isolinux.bin ] && [ -e /usr/lib/syslinux/modules/bios/ldlinux.c32 ]; }
ka=$(command -v keepalived || true)
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] && [ -s "$OUT/initrd-qga.gz" ] && [ -s "$OUT/ipvs.gz" ] && { [ -s "$OUT/vnet.iso" ] || ! iso_tools; } &&
  { [ -z "$ka" ] || ! iso_tools || [ -s "$OUT/router.iso" ]; } && [ "$OUT/initrd.gz" -nt "$SRC/tests/vm/init" ] && [ "$OUT/initrd.gz" -nt "$0" ]; then
  echo "vm image: up to date in $OUT"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$kpkg" ] || { echo "vm-image: no linux-image package found (apt-get update?)" >&2; exit 1; }
apt-get download -qq "$kpkg" busybox-static qemu-guest-agent ipvsadm 2>/dev/null
dpkg-deb -x linux-image-*.deb k
dpkg-deb -x busybox-static_*.deb bb
kver=$(ls k/lib/modules)
mods=k/lib/modules/$kver
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules,tmp}
cp bb/bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
# Modules in load order, dependencies first (resolved with modinfo, no depmod needed).
declare -A seen
order=()
dest=$root/lib/modules
add() { # MODULE: MODULE and what it depends on, into $dest, appended to order
  local name=$1 file deps d
  [ -n "${seen[$name]:-}" ] && return
  seen[$name]=1
  file=$(find "$mods" -name "$name.ko*" | head -1)
  [ -n "$file" ] || { echo "vm-image: module $name not found (built in?)" >&2; return; }
  deps=$(tr '\0' '\n' < "$file" | sed -n 's/^depends=//p' | head -1 | tr ',' ' ')
  for d in $deps; do add "$d"; done
  cp "$file" "$dest/"
  order+=("$(basename "$file")")
}
for m in virtio_pci virtio_net virtio_blk virtio_console e1000 8021q ipip button evdev; do add "$m"; done
printf '%s\n' "${order[@]}" > "$root/lib/modules/order"
install -m 0755 "$SRC/tests/vm/init" "$root/init"
# busybox acpid runs /etc/acpi/PWRF/00000080 on the power button (QMP system_powerdown).
mkdir -p "$root/etc/acpi/PWRF"
printf '#!/bin/sh\necho VNET-POWERDOWN >/dev/console\npoweroff -f\n' > "$root/etc/acpi/PWRF/00000080"
chmod 0755 "$root/etc/acpi/PWRF/00000080"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/initrd.gz"
cp "k/boot/vmlinuz-$kver" "$OUT/vmlinuz"
if [ -n "$ka" ]; then
  # keepalived is dynamically linked: the binary, every library ldd names and the loader, at
  # the paths the binary looks for them. The kernel unpacks this layer over the first one.
  ka_root=$work/ka
  mkdir -p "$ka_root/usr/sbin" "$ka_root/etc/keepalived" "$ka_root/run" "$ka_root/var"
  ln -s ../run "$ka_root/var/run"
  cp "$ka" "$ka_root/usr/sbin/keepalived"
  for lib in $(ldd "$ka" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
    mkdir -p "$ka_root$(dirname "$lib")"
    cp -L "$lib" "$ka_root$lib"
  done
  (cd "$ka_root" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/keepalived.gz"
fi
# qemu-ga links glib, libudev, libnuma and liburing: the binary, every library ldd names (the
# host's, the same Debian release) and the loader, as for keepalived.
dpkg-deb -x qemu-guest-agent_*.deb qga
qga_root=$work/qga_root
mkdir -p "$qga_root/usr/sbin" "$qga_root/run" "$qga_root/var/run" "$qga_root/dev/virtio-ports"
cp qga/usr/sbin/qemu-ga "$qga_root/usr/sbin/qemu-ga"
if ldd qga/usr/sbin/qemu-ga | grep -q "not found"; then
  echo "vm-image: qemu-ga needs libraries this host lacks: $(ldd qga/usr/sbin/qemu-ga | grep 'not found' | tr '\n' ' ')" >&2
  exit 1
fi
for lib in $(ldd qga/usr/sbin/qemu-ga | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
  mkdir -p "$qga_root$(dirname "$lib")"
  cp -L "$lib" "$qga_root$lib"
done
(cd "$qga_root" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/qga.gz"
cat "$OUT/initrd.gz" "$OUT/qga.gz" > "$OUT/initrd-qga.gz"
# IPVS: the modules keepalived's schedulers need (Linux 6.1 has no twos), loaded after the first
# layer's: this layer's order file lists both and replaces the first one when unpacked over it.
# crc32c_generic first: libcrc32c (conntrack's) asks the crypto API for crc32c at load, and
# the guest has no modprobe to load it then (modinfo's softdep).
ipvs_root=$work/ipvs_root
base=${#order[@]}
dest=$ipvs_root/lib/modules
mkdir -p "$dest" "$ipvs_root/sbin"
for m in crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf \
  ip_vs_sh ip_vs_dh ip_vs_mh ip_vs_lblc ip_vs_lblcr dummy; do add "$m"; done
[ ${#order[@]} -gt "$base" ] || { echo "vm-image: no IPVS module in $kpkg" >&2; exit 1; }
printf '%s\n' "${order[@]}" > "$dest/order"
dpkg-deb -x ipvsadm_*.deb ipvsadm
cp ipvsadm/sbin/ipvsadm "$ipvs_root/sbin/ipvsadm"
for lib in $(ldd ipvsadm/sbin/ipvsadm | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
  mkdir -p "$ipvs_root$(dirname "$lib")"
  cp -L "$lib" "$ipvs_root$lib"
done
(cd "$ipvs_root" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/ipvs.gz"
iso() { # NAME INITRDS...: a bootable ISO of the kernel and these initrd layers
  local name=$1 list="" f
  shift
  rm -rf iso
  mkdir -p iso/isolinux
  cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 iso/isolinux/
  cp "$OUT/vmlinuz" iso/
  for f in "$@"; do cp "$OUT/$f" iso/; list="$list${list:+,}/$f"; done
  printf '%s\n' "DEFAULT vnet" "PROMPT 0" "TIMEOUT 0" "LABEL vnet" "  KERNEL /vmlinuz" \
    "  INITRD $list" "  APPEND console=ttyS0 quiet panic=-1 vnet.shell" >iso/isolinux/isolinux.cfg
  xorriso -as mkisofs -quiet -o "$OUT/$name" -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table iso 2>/dev/null
}
if iso_tools; then
  iso vnet.iso initrd.gz
  [ -z "$ka" ] || iso router.iso initrd.gz keepalived.gz
fi
echo "vm image: $OUT (kernel $kver, modules: ${order[*]})"
