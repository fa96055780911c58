#!/usr/bin/env bash
# Set up (if needed), build the wasm into pkg/ and serve the explorer on loopback.
# PORT=8080 by default; the URL is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-wasm.sh
exec node scripts/serve.mjs --port "${PORT:-8080}"
