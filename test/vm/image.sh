#!/usr/bin/env bash
# Builds the VM tier's guest: a Debian 12 root file system with cloud-init, git and Node.js, as a raw
# ext4 image plus the kernel and initrd to boot it directly. Cached outside the work tree, in
# ${XDG_CACHE_HOME:-~/.cache}/gitstrap/vm/KEY/, where KEY is a hash of this script (which holds the
# package list), so later runs skip the build. A lock keeps two runs from building at once; the
# image appears by rename only when complete. Prints the image folder as the last line of stdout.
#
# Usage: test/vm/image.sh            build if missing, print the folder
#        test/vm/image.sh --key      print the cache key only
set -euo pipefail

# What the guest carries: a bootable kernel, systemd, cloud-init with a DHCP client for its fallback
# network, git and Debian's Node.js (18, like a real Debian 12 instance) with Debian's npm (the guest
# has no internet: first boot's npm agent source installs from a registry on the test host, and
# would otherwise install npm with apt first), and what the gitstrap user-data and agent use (curl, ca-certificates, sudo, procps, sha256sum from coreutils), and locales
# with en_US.UTF-8 generated, as on Debian's cloud images (cloud-init's locale module sets it and
# fails without it). qemu-guest-agent
# lets the harness run commands in the guest (reboot, cloud-init status) over a virtio serial port.
SUITE=bookworm
MIRROR=${GITSTRAP_VM_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${GITSTRAP_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PACKAGES=(
  linux-image-amd64 systemd-sysv udev dbus
  cloud-init ifupdown isc-dhcp-client iproute2 netbase
  git nodejs npm ca-certificates curl sudo procps locales
  qemu-guest-agent
)
IMAGE_SIZE=4G

die() {
  echo "vm image: $*" >&2
  exit 1
}

script_path=$(readlink -f "${BASH_SOURCE[0]}")
key=$( (cat "$script_path" && echo "$MIRROR $SECURITY_MIRROR") | sha256sum | cut -c1-16)
if [ "${1:-}" = "--key" ]; then
  echo "$key"
  exit 0
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/gitstrap/vm"
out="$cache/$key"
if [ -f "$out/root.img" ] && [ -f "$out/manifest.txt" ]; then
  echo "$out"
  exit 0
fi

# Everything below builds: check what it needs before starting, and say what to install.
[ "$(id -u)" -eq 0 ] ||
  die "building the guest image needs root (debootstrap, chroot and mounts): run the VM tier as root, or build once with: sudo $script_path"
need() { command -v "$1" >/dev/null || die "$1 is not installed: install Debian's $2 (npm run setup:test does)"; }
need debootstrap debootstrap
need mkfs.ext4 e2fsprogs
need chroot coreutils
need flock util-linux
need mount mount
need sha256sum coreutils

mkdir -p "$cache"
exec 9>"$cache/build.lock"
if ! flock -n 9; then
  echo "vm image: another run is building the image; waiting for it (up to 30 min)" >&2
  flock -w 1800 9 || die "timed out after 30 min waiting for the lock $cache/build.lock"
fi
# The run that held the lock may have built it.
if [ -f "$out/root.img" ] && [ -f "$out/manifest.txt" ]; then
  echo "$out"
  exit 0
fi

work=$(mktemp -d "$cache/build.$key.XXXXXX")
rootfs="$work/rootfs"
log="$cache/build.$key.log"
: >"$log"
mounted=()
cleanup() {
  local status=$?
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
  done
  # Never delete through a mount that is still there.
  if ! grep -q " $work/" /proc/mounts; then rm -rf "$work"; fi
  if [ "$status" -ne 0 ]; then
    echo "vm image: build failed; the last lines of $log:" >&2
    tail -n 30 "$log" >&2 || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
step() { echo "vm image: $* ($(($(date +%s) - started)) s)" >&2; }
run() { "$@" >>"$log" 2>&1; }
in_root() { run chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

step "building the Debian 12 guest image $key in $work (log: $log)"
run debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" ||
  die "debootstrap $SUITE from $MIRROR failed (is the Debian mirror reachable? set GITSTRAP_VM_MIRROR to use another)"
step "debootstrap done"

for fs in proc sys dev dev/pts; do
  case $fs in
  proc) mount -t proc proc "$rootfs/proc" ;;
  sys) mount -t sysfs sys "$rootfs/sys" ;;
  dev) mount --bind /dev "$rootfs/dev" ;;
  dev/pts) mount --bind /dev/pts "$rootfs/dev/pts" ;;
  esac
  mounted+=("$rootfs/$fs")
done
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
# No service may start inside the chroot while packages install.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
in_root apt-get update || die "apt-get update in the guest root failed"
in_root apt-get install -y --no-install-recommends "${PACKAGES[@]}" ||
  die "installing the guest packages failed: ${PACKAGES[*]}"
step "packages installed"

# Guest configuration.
rm -f "$rootfs/usr/sbin/policy-rc.d"
sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' "$rootfs/etc/locale.gen"
in_root locale-gen || die "locale-gen in the guest root failed"
in_root update-locale LANG=en_US.UTF-8 || die "update-locale in the guest root failed"
echo '/dev/vda / ext4 defaults 0 1' >"$rootfs/etc/fstab"
echo 'gitstrap-vm' >"$rootfs/etc/hostname"
: >"$rootfs/etc/machine-id" # a fresh id on each first boot, like a cloud image
# Only the NoCloud seed: never probe a cloud's metadata address.
cat >"$rootfs/etc/cloud/cloud.cfg.d/90-gitstrap-vm.cfg" <<'EOF'
# The gitstrap VM tier boots with a NoCloud seed only.
datasource_list: [NoCloud, None]
EOF
# Nothing in the guest reaches for the network on its own (the tier's only peers are the host's
# test servers): no apt timers. The package lists stay, so `apt-get install` of an installed package
# succeeds offline.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer
in_root apt-get clean
rm -f "$rootfs/etc/resolv.conf"
node_version=$(chroot "$rootfs" node --version)
# shellcheck disable=SC2016 # dpkg-query's own ${Version}, not the shell's
cloud_init_version=$(chroot "$rootfs" dpkg-query -W -f='${Version}' cloud-init)

for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}"; done
mounted=()

mkdir -p "$work/out"
kernels=("$rootfs"/boot/vmlinuz-*)
initrds=("$rootfs"/boot/initrd.img-*)
if [ "${#kernels[@]}" -ne 1 ] || [ ! -f "${kernels[0]}" ]; then
  die "expected one kernel in the guest's /boot, found: ${kernels[*]}"
fi
if [ "${#initrds[@]}" -ne 1 ] || [ ! -f "${initrds[0]}" ]; then
  die "expected one initrd in the guest's /boot, found: ${initrds[*]}"
fi
cp "${kernels[0]}" "$work/out/vmlinuz"
cp "${initrds[0]}" "$work/out/initrd.img"
run mkfs.ext4 -q -F -d "$rootfs" -L root "$work/out/root.img" "$IMAGE_SIZE" ||
  die "mkfs.ext4 -d failed (needs e2fsprogs 1.43 or later)"
step "file system written"
{
  echo "key: $key"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - started)) s"
  echo "node: $node_version"
  echo "cloud-init: $cloud_init_version"
  echo "kernel: $(basename "${kernels[0]}")"
  echo "packages: ${PACKAGES[*]}"
} >"$work/out/manifest.txt"

rm -rf "$out"
mv "$work/out" "$out"
# Images of older versions of this script are never used again (a QEMU still running on one keeps
# its open file).
for old in "$cache"/*/manifest.txt; do
  old=$(dirname "$old")
  [ "$old" = "$out" ] || rm -rf "$old" "$cache/build.$(basename "$old").log" "$cache/accel-$(basename "$old").json"
done
step "done: $out"
echo "$out"
