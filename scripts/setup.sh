#!/usr/bin/env bash
# Idempotent set-up of everything the web explorer needs (run as root on Debian):
#   the wasm32 target, the wasm-bindgen CLI at exactly the crate's pinned version,
#   Debian's chromium for the browser tests, and the npm dev packages.
# Every step is skipped when already satisfied, so this is cheap to call again.
set -euo pipefail
cd "$(dirname "$0")/.."

WB_VERSION="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' Cargo.toml | head -n1)"
WB_VERSION="${WB_VERSION:-0.2.130}"

log() { printf 'setup: %s\n' "$*" >&2; }

# 1. wasm32 target
if ! rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'; then
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen CLI, exactly the pinned version (no --locked: the mirror lacks some pins)
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
  log "installing wasm-bindgen-cli $WB_VERSION (takes a few minutes)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# 3. Debian's chromium (never a browser downloaded by a test tool)
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y chromium
fi

# 4. npm packages (playwright-core, mermaid for the bench, binaryen's wasm-opt for
#    scripts/build-wasm.sh); never download a browser
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1
if [ -f package.json ]; then
  stamp=node_modules/.package-lock.json
  if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
    log "installing npm packages"
    if [ -f package-lock.json ]; then
      npm ci --no-audit --no-fund
    else
      npm install --no-audit --no-fund
    fi
  fi
fi
log "ok"
