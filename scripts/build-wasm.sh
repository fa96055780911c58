#!/usr/bin/env bash
# Build the engine for the browser into pkg/ (wasm-bindgen --target web output):
#   pkg/            the module the page loads at start (no export code, keeps the page light)
#   pkg/export/     the same engine with export_text / export_pcap (feature wasm-export), built
#                   for speed ([profile.wasm-fast]); loaded on the first export, and by
#                   www/engine.js to run timelines of more than 2,000 events
#   pkg/judge/      the engine with the capture reader and the judge (feature capture, judge_capture),
#                   small ([profile.wasm-judge]); loaded only when the page judges a capture
#   pkg/prerendered/ SVG ladder + transcript of every preset, made by the CLI, for pages where
#                   WebAssembly may not run (www/fallback.js)
# Uses the [profile.wasm-release] (size) and [profile.wasm-fast] (speed) profiles (LTO, one
# codegen unit) so native builds stay fast.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
target_dir="${target_dir:-target}"
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/cpm_deferral.wasm"
fast="$target_dir/wasm32-unknown-unknown/wasm-fast/cpm_deferral.wasm"

# --no-default-features: without the capture reader (feature `capture`), which the page does
# not load at start; with it the initial module grows by about 460 bytes gzip unused.
cargo build --lib --profile wasm-fast --target wasm32-unknown-unknown --no-default-features --features wasm-export
rm -rf pkg/export && wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg/export "$fast"
judge="$target_dir/wasm32-unknown-unknown/wasm-judge/cpm_deferral.wasm"
cargo build --lib --profile wasm-judge --target wasm32-unknown-unknown --no-default-features --features wasm-export,capture
rm -rf pkg/judge && wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg/judge "$judge"
cargo build --lib --profile wasm-release --target wasm32-unknown-unknown --no-default-features
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg "$wasm"
echo "build-wasm: pkg/ ready ($(wc -c < pkg/cpm_deferral_bg.wasm) bytes of wasm; with exports $(wc -c < pkg/export/cpm_deferral_bg.wasm); the judge $(wc -c < pkg/judge/cpm_deferral_bg.wasm))" >&2
bash scripts/prerender-web.sh
