#!/bin/sh
## gitstrap first boot (userdata/first-boot.sh.hbs in gitstrap, compacted): run by cloud-init.
set -u
R=${GITSTRAP_TEST_ROOT:-}
STATE_DIR='/var/lib/gitstrap'
RESULT='/var/lib/gitstrap/bootstrap-result.json'
BIN='/usr/local/bin/bootstrap'
PATH="$R${BIN%/*}:$PATH"
export PATH
say() { printf 'gitstrap: %s\n' "$*"; }
die() {
printf 'gitstrap: error: %s\n' "$*" >&2
exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_number() {
case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac
}
write_result() {
mkdir -p "$R$STATE_DIR" &&
printf '%s\n' "$1" >"$R$RESULT.tmp" &&
chmod 0644 "$R$RESULT.tmp" &&
mv -f "$R$RESULT.tmp" "$R$RESULT"
}
fail() {
write_result "{\"result\":\"failure\",\"step\":\"$1\",\"exitCode\":$2,\"at\":\"$(date -u '+%Y-%m-%dT%H:%M:%SZ')\"}"
say "bootstrap failed at step $1"
say "(exit code $2; the lines above say why)"
exit "$2"
}
run_step() {
say "step $1: started"
(
set -e
"step_$1"
)
code=$?
[ "$code" -eq 0 ] || fail "$1" "$code"
say "step $1: done"
}
name='' node_mode=distro node_version='' agent='' bad_args=''
agent_spec='' agent_registry=''
expires_at='' ttl_seconds=''
while [ "$#" -gt 0 ]; do
if [ "$1" = -- ]; then
shift
break
fi
[ "$#" -ge 2 ] || set -- "$1" ''
case $1 in
--name) name=$2 ;;
--node) node_mode=$2 ;;
--agent) agent=$2 ;;
--agent-spec) agent_spec=$2 ;;
--agent-registry) agent_registry=$2 ;;
--expires-at) expires_at=$2 ;;
--ttl-seconds) ttl_seconds=$2 ;;
*) bad_args="unknown argument $1 (or not for the recipe this script was rendered for)" ;;
esac
shift 2
done
step_args() {
[ -z "$bad_args" ] || die "$bad_args"
case $name in [a-z]*) ;; *) die "bad --name" ;; esac
is_number "${expires_at:-0}" || die "bad --expires-at"
is_number "${ttl_seconds:-0}" || die "bad --ttl-seconds"
case $node_mode:$node_version in
distro:) ;;
*) die "bad --node (or --node-version)" ;;
esac
case $agent in
npm)
[ -n "$agent_spec" ] || die "--agent npm needs --agent-spec"
case $agent_registry in '' | http://?* | https://?*) ;; *) die "bad --agent-registry" ;; esac
;;
*) die "bad --agent" ;;
esac
}
node_version() {
if [ "$(command -v node)" = /usr/bin/node ] && have dpkg-query; then
v=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null) || v=''
v=${v#*:}
v=${v%%[+~-]*}
case $v in [0-9]*.[0-9]*.[0-9]*) printf 'v%s\n' "$v" && return 0 ;; esac
fi
node --version 2>/dev/null || true
}
node_ok() {
v=${1#v}
major=${v%%.*}
v=${v#*.}
minor=${v%%.*}
if ! is_number "$major" || ! is_number "$minor"; then return 1; fi
[ "$major" -gt 18 ] || { [ "$major" -eq 18 ] && [ "$minor" -ge 19 ]; }
}
install_packages() {
say "installing $*"
if have apt-get; then
DEBIAN_FRONTEND=noninteractive
export DEBIAN_FRONTEND
timeout 900 apt-get -q -o DPkg::Lock::Timeout=300 update
timeout 1800 apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "$@"
elif have dnf; then
timeout 1800 dnf -y -q install "$@"
else
die "found neither apt-get nor dnf to install $*"
fi
}
npm_failure() {
from=${agent_registry:-the npm registry}
case $(cat "$1") in
*E404*) printf '%s is not on %s: publish it there (docs/releasing.md), or host the agent bundle yourself: bootstrap bundle prints the agent.source to set\n' "$agent_spec" "$from" ;;
*ETARGET*) printf 'no version of %s on %s matches: check the version, or host the agent bundle yourself (bootstrap bundle)\n' "$agent_spec" "$from" ;;
*ECONNREFUSED* | *ENOTFOUND* | *EAI_AGAIN* | *ETIMEDOUT* | *ECONNRESET* | *ENETUNREACH* | *EHOSTUNREACH*)
printf 'cannot reach %s to install %s: check the network path from this instance (subnet route, NAT, proxy, security group), or set agent.registry to a registry it can reach\n' "$from" "$agent_spec" ;;
*EINTEGRITY*) printf 'what %s served for %s does not match its integrity hash: refusing it; check the registry or a proxy in between\n' "$from" "$agent_spec" ;;
*EBADENGINE* | *ENOTSUP*) printf '%s does not support Node.js %s: set agent.node: official (agent.node_version) in the recipe\n' "$agent_spec" "$(node_version)" ;;
*) printf 'npm could not install %s from %s (exit %s; its output is above)\n' "$agent_spec" "$from" "$2" ;;
esac
}
step_ttl() {
now=$(date +%s)
if [ -n "$expires_at" ]; then at=$expires_at; else at=$((now + ttl_seconds)); fi
iso=$(date -u -d "@$at" '+%Y-%m-%dT%H:%M:%SZ')
mkdir -p "$R$STATE_DIR" "$R"'/etc/systemd/system'
printf '%s\n' "$iso" >"$R"'/var/lib/gitstrap/expires-at'
printf '[Unit]\nDescription=gitstrap: end this deployment (its ttl ran out)\n[Service]\nType=oneshot\nExecStart=/usr/bin/systemctl --no-block poweroff\n' \
>"$R"'/etc/systemd/system/gitstrap-expire.service'
printf '[Unit]\nDescription=gitstrap: the end of this deployment\n[Timer]\nOnCalendar=%s\nPersistent=true\nAccuracySec=1s\n[Install]\nWantedBy=timers.target\n' \
"$(date -u -d "@$at" '+%Y-%m-%d %H:%M:%S UTC')" >"$R"'/etc/systemd/system/gitstrap-expire.timer'
if systemctl --quiet is-active gitstrap-expire.timer; then systemctl daemon-reload; fi
systemctl enable --no-reload gitstrap-expire.timer
systemctl start gitstrap-expire.timer
say "this machine powers off at $iso"
if [ "$at" -le "$now" ]; then
systemctl --no-block start gitstrap-expire.service
die "this deployment expired at $iso, before its first boot: powering off"
fi
}
step_packages() {
need=''
have git || need="$need git"
if [ "$node_mode" = distro ]; then
have node || need="$need nodejs"
if [ "$agent" = npm ] && ! have npm; then need="$need npm"; fi
fi
have curl || need="$need curl"
have git-lfs || need="$need git-lfs"
# shellcheck disable=SC2086 # a list of package names, split on purpose
if [ -n "$need" ]; then install_packages $need; fi
version=$(node_version)
[ -n "$version" ] || die "Node.js is not installed and could not be installed"
node_ok "$version" ||
die "this distribution's Node.js is $version, but gitstrap needs Node.js 18.19 or newer: set agent.node: official in the recipe to install an official build (agent.node_version) from nodejs.org"
git_version=$(git --version)
say "$git_version; Node.js $version"
}
step_user() {
if getent passwd gitstrap >/dev/null 2>&1; then
say "user gitstrap exists"
else
nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false
useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
--shell "$nologin" --comment 'gitstrap agent' gitstrap
fi
mkdir -p "$R$STATE_DIR"
chmod 0755 "$R$STATE_DIR"
}
step_agent() {
mkdir -p "$R$(dirname "$BIN")"
case $agent in
npm)
set -- install --global --omit=optional --no-audit --no-fund --no-update-notifier
if [ -n "$agent_registry" ]; then set -- "$@" --registry "$agent_registry"; fi
code=0
timeout 1800 npm "$@" -- "$agent_spec" >"$WORK/npm.log" 2>&1 || code=$?
cat "$WORK/npm.log"
[ "$code" -eq 0 ] || die "$(npm_failure "$WORK/npm.log" "$code")"
installed="$(npm prefix --global)/bin/bootstrap"
[ -x "$installed" ] || die "npm installed $agent_spec, but not $installed"
if [ "$installed" != "$R$BIN" ]; then ln -sfn "$installed" "$R$BIN"; fi
;;
esac
say "agent installed ($agent)"
}
step_unit() {
unit=$R'/etc/systemd/system/gitstrap@.service'
carrier=$(readlink -f "$R$BIN")
carrier=${carrier%/bin/*}/dist/gitstrap-agent.cjs
if [ ! -e "$unit" ] && [ -f "$carrier" ]; then
sed -n -e '1,/^\/\*gitstrap@\.service$/d' -e '/^\*\//q' -e "$pkg" -e p "$carrier" >"$unit.tmp"
if [ -s "$unit.tmp" ]; then mv -f "$unit.tmp" "$unit"; else rm -f "$unit.tmp"; fi
fi
[ -e "$unit" ] || return 0
rm -f "$R$STATE_DIR/$name/"'start-failure.json'
systemctl start --no-block "gitstrap@$name.service"
}
umask 022
mkdir -p "$R/var/tmp"
WORK=$(mktemp -d "$R/var/tmp/gitstrap-first-boot.XXXXXX") || die "cannot create a temporary folder"
trap 'rm -rf "$WORK"' EXIT
run_step args
if [ -n "$expires_at" ] || [ -n "$ttl_seconds" ]; then run_step ttl; fi
run_step packages
run_step user
run_step agent
pkg='/^ExecStartPre=/d'
case " $* " in *' --packages '*) pkg='# the package step stays' ;; esac
run_step unit
rm -f "$R$RESULT"
"$R$BIN" first-boot --recipe "$name" "$@"
code=$?
if [ "$code" -ne 0 ] && [ ! -s "$R$RESULT" ]; then fail first-boot "$code"; fi
(exit "$code")
