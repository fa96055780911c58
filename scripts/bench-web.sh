#!/usr/bin/env bash
# Benchmark of the explorer in headless Chromium against Mermaid; writes docs/bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-wasm.sh
mkdir -p test-results
node tests-web/bench/bench.mjs
