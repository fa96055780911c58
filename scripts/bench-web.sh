#!/usr/bin/env bash
# Benchmark of the explorer in headless Chromium against Mermaid; writes docs/bench.md, whose
# page-weight table lists the initial load and the modules loaded on use separately.
#   bash scripts/bench-web.sh            the whole benchmark
#   bash scripts/bench-web.sh --weight   only the page-weight section (no browser)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-wasm.sh
if [ "${1:-}" = --weight ]; then exec node tests-web/bench/weight.mjs; fi
mkdir -p test-results
node tests-web/bench/bench.mjs
