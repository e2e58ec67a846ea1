#!/bin/sh
## gitstrap first boot (userdata/first-boot.sh.hbs in gitstrap, comments removed): run by cloud-init.
set -u
R=${GITSTRAP_TEST_ROOT:-}
STATE_DIR='/var/lib/gitstrap'
RESULT='/var/lib/gitstrap/bootstrap-result.json'
EXPIRES_FILE='/var/lib/gitstrap/expires-at'
RECIPES_DIR='/etc/gitstrap/recipes'
EXPIRE_DROPIN='/etc/systemd/system/gitstrap-expire.timer.d/expires-at.conf'
AGENT_BUNDLE='/opt/gitstrap/gitstrap-agent.cjs'
BIN='/usr/local/bin/bootstrap'
PATH="$R/usr/local/bin:$PATH"
export PATH
say() { printf 'gitstrap: %s\n' "$*"; }
die() {
  printf 'gitstrap: error: %s\n' "$*" >&2
  exit 1
}
now_iso() { date -u '+%Y-%m-%dT%H:%M:%SZ'; }
write_result() {
  mkdir -p "$R$STATE_DIR" &&
    printf '%s\n' "$1" >"$R$RESULT.tmp" &&
    chmod 0644 "$R$RESULT.tmp" &&
    mv -f "$R$RESULT.tmp" "$R$RESULT"
}
run_step() {
  say "step $1: started"
  (
    set -e
    "step_$1"
  )
  code=$?
  if [ "$code" -ne 0 ]; then
    if [ -s "$WORK/agent-failure.json" ]; then
      write_result "$(cat "$WORK/agent-failure.json")"
    else
      write_result "{\"result\":\"failure\",\"step\":\"$1\",\"exitCode\":$code,\"at\":\"$(now_iso)\"}"
    fi
    failed=$1
    if [ -s "$WORK/failed-step" ]; then failed=$(cat "$WORK/failed-step"); fi
    say "bootstrap failed at step $failed"
    say "(exit code $code; the lines above say why)"
    exit "$code"
  fi
  say "step $1: done"
}
name='' port='' host=127.0.0.1 node_mode=distro node_version='' agent='' agent_spec=''
agent_url='' agent_sha256='' agent_registry='' expires_at='' ttl_seconds='' health_timeout=600 bad_args=''
while [ "$#" -gt 0 ]; do
  [ "$#" -ge 2 ] || set -- "$1" ''
  case $1 in
    --name) name=$2 ;;
    --port) port=$2 ;;
    --health-host) host=$2 ;;
    --node) node_mode=$2 ;;
    --node-version) node_version=$2 ;;
    --agent) agent=$2 ;;
    --agent-spec) agent_spec=$2 ;;
    --agent-url) agent_url=$2 ;;
    --agent-sha256) agent_sha256=$2 ;;
    --agent-registry) agent_registry=$2 ;;
    --expires-at) expires_at=$2 ;;
    --ttl-seconds) ttl_seconds=$2 ;;
    --health-timeout) health_timeout=$2 ;;
    *) bad_args="unknown argument $1" ;;
  esac
  shift 2
done
is_number() {
  case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac
}
step_args() {
  [ -z "$bad_args" ] || die "$bad_args"
  case $name in
    [a-z]*[a-z0-9]) case $name in *[!a-z0-9-]*) die "bad --name" ;; esac ;;
    *) die "bad --name" ;;
  esac
  is_number "$port" || die "bad --port"
  is_number "$health_timeout" || die "bad --health-timeout"
  is_number "${expires_at:-0}" || die "bad --expires-at"
  is_number "${ttl_seconds:-0}" || die "bad --ttl-seconds"
  case $node_mode:$node_version in
    distro:*) ;;
    *) die "--node must be distro, or official with --node-version X.Y.Z (rendered for agent.node: official)" ;;
  esac
  case $agent in
    npm)
      [ -n "$agent_spec" ] || die "--agent npm needs --agent-spec"
      case $agent_registry in '' | http://?* | https://?*) ;; *) die "bad --agent-registry" ;; esac
      ;;
    url)
      [ -n "$agent_url" ] || die "--agent url needs --agent-url"
      case $agent_sha256 in *[!0-9a-f]*) die "bad --agent-sha256" ;; esac
      [ "${#agent_sha256}" -eq 64 ] || die "--agent url needs --agent-sha256 (64 hex digits)"
      ;;
    image) ;;
    *) die "--agent must be npm, url or image" ;;
  esac
}
have() { command -v "$1" >/dev/null 2>&1; }
node_version() {
  if [ "$(command -v node)" = /usr/bin/node ] && have dpkg-query; then
    v=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null) || v=''
    v=${v#*:}
    v=${v%%[+~-]*}
    case $v in [0-9]*.[0-9]*.[0-9]*) printf 'v%s\n' "$v" && return 0 ;; esac
  fi
  node --version 2>/dev/null || true
}
node_major() {
  v=${1-$(node_version)}
  v=${v#v}
  v=${v%%.*}
  if is_number "$v"; then printf '%s\n' "$v"; fi
}
node_minor() {
  v=${1#v}
  v=${v#*.}
  v=${v%%.*}
  if is_number "$v"; then printf '%s\n' "$v"; else printf '0\n'; fi
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
fetch() {
  curl -fsSL --proto '=https,http' --retry 5 --retry-delay 3 --connect-timeout 30 \
    --max-time 900 -o "$2" --url "$1"
}
verify_sha256() {
  actual=$(sha256sum "$1")
  actual=${actual%% *}
  [ "$actual" = "$2" ] || die "sha256 of $3 is $actual, expected $2; refusing to install it"
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
  calendar=$(date -u -d "@$at" '+%Y-%m-%d %H:%M:%S UTC')
  mkdir -p "$R$STATE_DIR" "$R$(dirname "$EXPIRE_DROPIN")"
  printf '%s\n' "$iso" >"$R$EXPIRES_FILE"
  printf '[Timer]\nOnCalendar=%s\n' "$calendar" >"$R$EXPIRE_DROPIN"
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
    [ -n "$(node_major)" ] || need="$need nodejs"
    if [ "$agent" = npm ] && ! have npm; then need="$need npm"; fi
  fi
  have curl || need="$need curl"
  have git-lfs || need="$need git-lfs"
  # shellcheck disable=SC2086 # a list of package names, split on purpose
  if [ -n "$need" ]; then install_packages $need; fi
  version=$(node_version)
  major=$(node_major "$version")
  [ -n "$major" ] || die "Node.js is not installed and could not be installed"
  if [ "$major" -lt 18 ] || { [ "$major" -eq 18 ] && [ "$(node_minor "$version")" -lt 19 ]; }; then
    die "this distribution's Node.js is $version, but gitstrap needs Node.js 18.19 or newer: set agent.node: official in the recipe to install an official build (agent.node_version) from nodejs.org"
  fi
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
    url)
      fetch "$agent_url" "$WORK/gitstrap-agent.cjs"
      verify_sha256 "$WORK/gitstrap-agent.cjs" "$agent_sha256" "the agent bundle from $agent_url"
      mkdir -p "$R$(dirname "$AGENT_BUNDLE")"
      cp "$WORK/gitstrap-agent.cjs" "$R$AGENT_BUNDLE.tmp"
      chmod 0644 "$R$AGENT_BUNDLE.tmp"
      mv -f "$R$AGENT_BUNDLE.tmp" "$R$AGENT_BUNDLE"
      # shellcheck disable=SC2016 # "$@" belongs to the wrapper
      printf '#!/bin/sh\n# gitstrap: runs the agent bundle (written at first boot).\nexec node %s "$@"\n' \
        "$AGENT_BUNDLE" >"$R$BIN.tmp"
      chmod 0755 "$R$BIN.tmp"
      mv -f "$R$BIN.tmp" "$R$BIN"
      ;;
    image)
      found=$(command -v bootstrap) ||
        die "agent.source is image, but this image has no bootstrap command"
      if [ "$found" != "$R$BIN" ]; then ln -sfn "$found" "$R$BIN"; fi
      ;;
  esac
  say "agent installed ($agent)"
}
step_recipe() {
  file=$RECIPES_DIR/$name.yaml
  [ -s "$R$file" ] || die "$file is missing (see write_files)"
}
step_service() {
  rm -f "$R$(start_failure_file)"
  systemctl enable --no-reload "gitstrap@$name.service"
  systemctl start "gitstrap@$name.service"
}
start_failure_file() { printf '%s\n' "$STATE_DIR/$name/start-failure.json"; }
wait_for_agent() {
  case $host in *:*) url_host="[$host]" ;; *) url_host=$host ;; esac
  deadline=$(($(date +%s) + health_timeout))
  while :; do
    [ ! -e "$1" ] || return 2
    if curl -fs -o /dev/null --max-time 5 --url "http://$url_host:$port/_gitstrap/healthz"; then
      return 0
    fi
    restarts=$(systemctl show -p NRestarts --value "gitstrap@$name.service" 2>/dev/null) || restarts=0
    case $restarts in '' | *[!0-9]*) restarts=0 ;; esac
    [ "$restarts" -lt 3 ] || return 3
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5 2>/dev/null || sleep 1
  done
}
step_health() {
  failure=$R$(start_failure_file)
  code=0
  wait_for_agent "$failure" || code=$?
  if [ "$code" -eq 0 ]; then
    say "the agent answers on port $port"
    return 0
  fi
  if [ "$code" -eq 2 ] && cp "$failure" "$WORK/agent-failure.json"; then
    why=$(node -e 'const [record, stepFile] = process.argv.slice(1);
const r = require(record);
require("fs").writeFileSync(stepFile, String(r.step));
console.log([r.step + ": " + r.message, ...(r.details || [])].join("\n"));' "$WORK/agent-failure.json" "$WORK/failed-step" 2>&1) || why='see its record'
    die "the agent could not start the service: $why; see journalctl -u gitstrap@$name (systemd keeps retrying)"
  fi
  systemctl --no-pager --lines=30 status "gitstrap@$name.service" || true
  if [ "$code" -eq 3 ]; then
    status=$(systemctl show -p ExecMainStatus --value "gitstrap@$name.service" 2>/dev/null) || status='?'
    die "the agent exited $restarts times without serving or saying why (last exit status ${status:-?}): see journalctl -u gitstrap@$name"
  fi
  die "no 200 from http://$host:$port/_gitstrap/healthz in ${health_timeout}s: see journalctl -u gitstrap@$name"
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
run_step recipe
run_step service
run_step health
expires=''
if [ -s "$R$EXPIRES_FILE" ]; then expires=",\"expiresAt\":\"$(cat "$R$EXPIRES_FILE")\""; fi
write_result "{\"result\":\"success\",\"recipe\":\"$name\",\"at\":\"$(now_iso)\"$expires}"
say "bootstrap succeeded"
