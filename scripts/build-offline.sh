#!/usr/bin/env bash
# One command for the offline explorer: builds the wasm (scripts/build-wasm.sh) and writes
# dist/cpm-deferral-explorer.html, a single self-contained HTML file (wasm, JS modules and CSS
# inlined) that works opened from file:// with no network. SKIP_WASM=1 reuses pkg/ as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_WASM:-0}" != 1 ]; then bash scripts/build-wasm.sh; fi
node scripts/build-offline.mjs
