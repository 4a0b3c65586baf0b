#!/usr/bin/env bash
# Install or upgrade Portier on Raspberry Pi OS (arm64) / Debian 12, as root:
#
#   sudo deploy/install.sh [--dry-run] [portier-X.Y.Z.tgz]
#
# Without a tarball it packs the checkout it runs from (npm pack). Every step says what it does; a second run
# changes nothing and says so. --dry-run prints what would change and changes nothing.
# What it does, in order (docs/install-raspberry-pi.md):
#   1. apt packages: mosquitto, mosquitto-clients, build tools for the native add-ons, curl, ca-certificates
#   2. Node.js 22 (NODE_VERSION) from the npm registry's node-linux-<arch> package into /opt/node22, unless a
#      node >= 22 is at /usr/bin/node already (NodeSource's, Debian's); npm (NPM_VERSION) beside it if none works
#   3. the portier system user (groups gpio, dialout) and /etc/portier (0750), /var/lib/portier (0700)
#   4. Portier itself into /opt/portier (npm install of the tarball, native add-ons built against node's headers),
#      /usr/local/bin/portier
#   5. the mosquitto config and ACL, a broker user portier-gateway with a generated password (kept if present)
#   6. a starter /etc/portier/portier.yaml, only if none exists
#   7. the systemd unit with its hardening (ExecStart pointed at this node), enabled and (re)started when systemd runs
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-22.23.5}
NPM_VERSION=${NPM_VERSION:-10.9.9}
REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org}
NODE_DIR=/opt/node22
APP_DIR=/opt/portier
CONF_DIR=/etc/portier
STATE_DIR=/var/lib/portier
UNIT=/etc/systemd/system/portier.service
SRC=$(cd "$(dirname "$0")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive
# npm (node) trusts the system's CA store too, like apt and curl: a site's own CA in /usr/local/share/ca-certificates
# (a proxy, a registry mirror) then works for all three.
export NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}

DRY=0
TARBALL=
for a in "$@"; do
  case "$a" in
    --dry-run) DRY=1 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "install: unknown option $a" >&2; exit 2 ;;
    *) TARBALL=$a ;;
  esac
done

CHANGED=0
say() { echo "install: $*"; }
# do_ DESCRIPTION CMD...: a change; printed, counted, skipped under --dry-run.
do_() {
  local what=$1
  shift
  CHANGED=$((CHANGED + 1))
  if [ "$DRY" = 1 ]; then say "would $what"; return 0; fi
  say "$what"
  "$@"
}
ok() { say "ok: $*"; }
die() { echo "install: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo $0)"
command -v apt-get >/dev/null || die "this script is for Debian 12 / Raspberry Pi OS (apt-get not found)"
case "$(uname -m)" in
  aarch64 | arm64) ARCH=arm64 ;;
  x86_64) ARCH=x64 ;;
  *) die "no Node.js 22 build for $(uname -m) (Pi 1/Zero are ARMv6: use a 64-bit Pi and OS)" ;;
esac

# ---- 1. apt packages ------------------------------------------------------------------------------------------
PKGS=(mosquitto mosquitto-clients build-essential python3 curl ca-certificates)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt_install() { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
  do_ "install apt packages: ${missing[*]}" apt_install "${missing[@]}"
else
  ok "apt packages present (${PKGS[*]})"
fi

# ---- 2. Node.js 22 ---------------------------------------------------------------------------------------------
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
# Fetch NAME@VERSION's tarball from the registry, checked against the registry's SHA-1 (dist.shasum), into $2.
fetch_pkg() {
  local name=$1 out=$2 meta sum
  meta=$(curl -fsSL "$REGISTRY/$name/$3") || die "cannot read $name@$3 from $REGISTRY"
  sum=$(printf '%s' "$meta" | sed -n 's/.*"shasum" *: *"\([0-9a-f]*\)".*/\1/p')
  curl -fsSL -o "$out" "$REGISTRY/$name/-/$name-$3.tgz" || die "cannot download $name@$3"
  [ -n "$sum" ] || die "$name@$3: the registry gave no checksum"
  echo "$sum  $out" | sha1sum -c --quiet - || die "$name@$3: checksum differs from the registry's"
}
install_node() {
  local tmp
  tmp=$(mktemp -d)
  fetch_pkg "node-linux-$ARCH" "$tmp/node.tgz" "$NODE_VERSION"
  rm -rf "$NODE_DIR.partial" && mkdir -p "$NODE_DIR.partial"
  tar -xzf "$tmp/node.tgz" -C "$NODE_DIR.partial" --strip-components=1
  [ -x "$NODE_DIR.partial/bin/node" ] || die "node-linux-$ARCH@$NODE_VERSION has no bin/node"
  rm -rf "$NODE_DIR" && mv "$NODE_DIR.partial" "$NODE_DIR" && rm -rf "$tmp"
}
install_npm() {
  local tmp
  tmp=$(mktemp -d)
  fetch_pkg npm "$tmp/npm.tgz" "$NPM_VERSION"
  mkdir -p "$NODE_DIR/lib/node_modules/npm"
  tar -xzf "$tmp/npm.tgz" -C "$NODE_DIR/lib/node_modules/npm" --strip-components=1
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$NODE_DIR/bin/npm"
  rm -rf "$tmp"
}
if [ "$(node_major /usr/bin/node)" -ge 22 ]; then
  NODE=/usr/bin/node
  ok "node $(/usr/bin/node --version) at /usr/bin/node"
else
  NODE=$NODE_DIR/bin/node
  if [ "$("$NODE" --version 2>/dev/null)" = "v$NODE_VERSION" ] || [ "$(node_major "$NODE")" -ge 22 ]; then
    ok "node $("$NODE" --version) at $NODE"
  else
    do_ "install Node.js $NODE_VERSION (npm package node-linux-$ARCH from $REGISTRY) into $NODE_DIR" install_node
  fi
  if [ ! -e /usr/bin/node ] && [ "$(readlink /usr/local/bin/node || true)" != "$NODE" ]; then
    do_ "link /usr/local/bin/node to $NODE" ln -sfn "$NODE" /usr/local/bin/node
  fi
fi
NODE_HOME=$(dirname "$(dirname "$NODE")")
NPM=$(dirname "$NODE")/npm
if ! PATH="$(dirname "$NODE"):$PATH" "$NPM" --version >/dev/null 2>&1; then
  if [ "$NODE" = "$NODE_DIR/bin/node" ]; then
    do_ "install npm $NPM_VERSION into $NODE_DIR" install_npm
  else
    die "$NPM does not work: install npm for $NODE"
  fi
else
  ok "npm $(PATH="$(dirname "$NODE"):$PATH" "$NPM" --version)"
fi
PATH="$(dirname "$NODE"):$PATH"
export PATH

# ---- 3. user and directories ----------------------------------------------------------------------------------
for g in gpio dialout; do
  getent group "$g" >/dev/null || do_ "create group $g" addgroup --system --quiet "$g"
done
if id portier >/dev/null 2>&1; then
  ok "user portier exists"
else
  do_ "create system user portier" adduser --system --group --home "$STATE_DIR" --no-create-home --quiet portier
fi
for g in gpio dialout; do
  if ! id -nG portier 2>/dev/null | tr ' ' '\n' | grep -qx "$g"; then
    do_ "add portier to group $g" adduser --quiet portier "$g"
  fi
done
# ensure_dir PATH MODE OWNER:GROUP
ensure_dir() {
  if [ -d "$1" ] && [ "$(stat -c '%a %U:%G' "$1")" = "${2#0} $3" ]; then ok "$1 ($2 $3)"; return; fi
  do_ "create $1 ($2 $3)" install -d -m "$2" -o "${3%:*}" -g "${3#*:}" "$1"
}
ensure_dir "$CONF_DIR" 0750 root:portier
ensure_dir "$STATE_DIR" 0700 portier:portier
ensure_dir "$APP_DIR" 0755 root:root

# ---- 4. Portier ------------------------------------------------------------------------------------------------
if [ -z "$TARBALL" ]; then
  [ -f "$SRC/package.json" ] || die "give a portier-X.Y.Z.tgz (npm pack) or run from a checkout"
  if [ "$DRY" = 1 ]; then
    say "would pack the checkout $SRC (npm pack)"
    TARBALL=
  else
    say "pack the checkout $SRC (npm pack)"
    packdir=$(mktemp -d)
    (cd "$SRC" && npm pack --silent --pack-destination "$packdir" >/dev/null) || die "npm pack in $SRC failed"
    TARBALL=$(ls "$packdir"/portier-*.tgz)
  fi
fi
install_app() {
  rm -f "$APP_DIR"/portier-*.tgz
  cp "$TARBALL" "$APP_DIR/portier.tgz"
  # The gateway is a dependency of /opt/portier: npm installs what it needs (no dev tools) and builds the native
  # add-ons against this node's own headers (no download of headers, no prebuilt binaries needed).
  [ -f "$APP_DIR/package.json" ] || echo '{ "name": "portier-install", "private": true }' >"$APP_DIR/package.json"
  (cd "$APP_DIR" && npm_config_nodedir="$NODE_HOME" npm install --omit=dev --no-audit --no-fund --loglevel=error \
    ./portier.tgz >/dev/null) || die "npm install of Portier failed (see the npm log above)"
  sha256sum <"$TARBALL" | cut -d' ' -f1 >"$APP_DIR/.installed-sha256"
}
if [ -n "$TARBALL" ]; then
  [ -f "$TARBALL" ] || die "$TARBALL: no such file"
  want=$(sha256sum <"$TARBALL" | cut -d' ' -f1)
  if [ "$(cat "$APP_DIR/.installed-sha256" 2>/dev/null)" = "$want" ] && [ -f "$APP_DIR/node_modules/portier/package.json" ]; then
    ok "Portier $(basename "$TARBALL") already installed in $APP_DIR"
  else
    do_ "install Portier from $(basename "$TARBALL") into $APP_DIR (npm install, native add-ons built)" install_app
  fi
else
  CHANGED=$((CHANGED + 1))
fi
BIN=$APP_DIR/node_modules/portier/dist/src/cli/bin.js
PKG=$APP_DIR/node_modules/portier
wrapper="#!/bin/sh
# Made by deploy/install.sh: the portier command, run by the node the unit uses.
exec $NODE $BIN \"\$@\""
if [ "$(cat /usr/local/bin/portier 2>/dev/null)" = "$wrapper" ]; then
  ok "/usr/local/bin/portier"
else
  write_wrapper() { printf '%s\n' "$wrapper" >/usr/local/bin/portier && chmod 0755 /usr/local/bin/portier; }
  do_ "write /usr/local/bin/portier" write_wrapper
fi

# ---- 5. mosquitto ----------------------------------------------------------------------------------------------
# put_file SRC DEST MODE OWNER:GROUP: copy when the content or mode differs.
put_file() {
  if [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c '%a %U:%G' "$2")" = "${3#0} $4" ]; then ok "$2"; return; fi
  do_ "install $2 ($3 $4)" install -m "$3" -o "${4%:*}" -g "${4#*:}" "$1" "$2"
}
MQ_SRC=$PKG/config/mosquitto
[ -d "$MQ_SRC" ] || MQ_SRC=$SRC/config/mosquitto
BROKER_CHANGED=$CHANGED
put_file "$MQ_SRC/portier.conf" /etc/mosquitto/conf.d/portier.conf 0644 root:root
put_file "$MQ_SRC/portier.acl" /etc/mosquitto/portier.acl 0644 root:mosquitto
PW_FILE=$CONF_DIR/local-mqtt.password
make_broker_user() {
  local pw
  pw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  install -m 0600 -o portier -g portier /dev/null "$PW_FILE"
  printf '%s' "$pw" >"$PW_FILE"
  [ -f /etc/mosquitto/portier.passwd ] || install -m 0640 -o root -g mosquitto /dev/null /etc/mosquitto/portier.passwd
  # On stdin (asked twice), not with -b: a command line is readable by every user in /proc while it runs.
  printf '%s\n%s\n' "$pw" "$pw" | mosquitto_passwd /etc/mosquitto/portier.passwd portier-gateway >/dev/null
  chown root:mosquitto /etc/mosquitto/portier.passwd && chmod 0640 /etc/mosquitto/portier.passwd
}
if [ -s "$PW_FILE" ] && grep -q '^portier-gateway:' /etc/mosquitto/portier.passwd 2>/dev/null; then
  ok "broker user portier-gateway (password in $PW_FILE)"
else
  do_ "make broker user portier-gateway (password in $PW_FILE, 0600 portier)" make_broker_user
fi
if [ -d /run/systemd/system ]; then
  if [ "$CHANGED" != "$BROKER_CHANGED" ]; then do_ "restart mosquitto" systemctl restart mosquitto; fi
else
  say "not under systemd: mosquitto is not restarted here (start it with: mosquitto -c /etc/mosquitto/mosquitto.conf -d)"
fi

# ---- 6. starter config ------------------------------------------------------------------------------------------
write_config() {
  install -m 0640 -o root -g portier /dev/null "$CONF_DIR/portier.yaml"
  cat >"$CONF_DIR/portier.yaml" <<YAML
# Starter config written by deploy/install.sh: add devices (docs/devices.md), a cloud (docs/sync.md).
# Full reference: config/example.yaml; check with: portier config check --config $CONF_DIR/portier.yaml
version: 1
gateway:
  id: $(hostname | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_\n-' '-')
  state_dir: $STATE_DIR
  timezone: $(cat /etc/timezone 2>/dev/null || echo UTC)
local_mqtt:
  url: mqtt://127.0.0.1:1883
  username: portier-gateway
  password_file: $PW_FILE
admin:
  listen: 127.0.0.1:8080
devices: []
YAML
}
if [ -f "$CONF_DIR/portier.yaml" ]; then
  ok "$CONF_DIR/portier.yaml exists (left as it is)"
else
  do_ "write a starter $CONF_DIR/portier.yaml" write_config
fi

# ---- 7. systemd unit ---------------------------------------------------------------------------------------------
UNIT_SRC=$PKG/systemd/portier.service
[ -f "$UNIT_SRC" ] || UNIT_SRC=$SRC/systemd/portier.service
unit_tmp=$(mktemp)
sed -e "s#^ExecStart=.*#ExecStart=$NODE $BIN run --config $CONF_DIR/portier.yaml#" \
  -e "s#^Documentation=.*#Documentation=file://$PKG/docs/operations.md#" "$UNIT_SRC" >"$unit_tmp"
UNIT_CHANGED=$CHANGED
put_file "$unit_tmp" "$UNIT" 0644 root:root
rm -f "$unit_tmp"
if [ -d /run/systemd/system ]; then
  if [ "$CHANGED" != "$UNIT_CHANGED" ]; then do_ "reload systemd" systemctl daemon-reload; fi
  systemctl is-enabled --quiet portier 2>/dev/null || do_ "enable portier.service" systemctl enable --quiet portier
  if [ "$CHANGED" != "$BROKER_CHANGED" ] || ! systemctl is-active --quiet portier; then
    do_ "(re)start portier.service" systemctl restart portier
  fi
else
  say "not under systemd (a container or chroot): start the gateway with: runuser -u portier -- portier run --config $CONF_DIR/portier.yaml"
fi

if [ "$CHANGED" = 0 ]; then
  say "nothing to change: Portier is installed and up to date"
elif [ "$DRY" = 1 ]; then
  say "dry run: $CHANGED change(s) would be made"
else
  say "done: $CHANGED change(s). Check the install with: portier doctor"
fi
