#!/usr/bin/env bash
# Build the engine for the browser into pkg/ (wasm-bindgen --target web output):
#   pkg/            the module the page loads at start (no export code, keeps the page light)
#   pkg/export/     the same engine with export_text / export_pcap (feature wasm-export), built
#                   for speed ([profile.wasm-fast]); loaded on the first export, and by
#                   www/engine.js to run timelines of more than 2,000 events
#   pkg/judge/      the engine with the capture reader and the judge (feature capture, judge_capture),
#                   small ([profile.wasm-judge]); loaded only when the page judges a capture
#   pkg/first-view/ the first module's answers for a first visit (scripts/first-view.mjs):
#                   the page draws the first preset from it and loads pkg/ on the first input
#   pkg/prerendered/ SVG ladder + transcript of every preset, made by the CLI, for pages where
#                   WebAssembly may not run (www/fallback.js)
# The first module then goes through binaryen's wasm-opt (npm; scripts/setup.sh installs it).
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
# binaryen's wasm-opt on the first module (issue 10: the page's first load within 150 KB gzip),
# binaryen 132 from npm (package-lock.json; scripts/setup.sh runs npm ci). What is counted is
# gzip, not raw bytes: -Oz shrinks the module by 9 % but gzips about 0.9 KB *worse* than no pass
# at all, because the one-caller inlining makes big functions gzip badly; -O2 without it
# (-ocimfs 0) is the best of the settings measured (docs/bench.md). Debian 12's binaryen 108
# gzips 0.8 KB worse and breaks the externref table's export (below).
# The features are those rustc 1.95 emits for wasm32-unknown-unknown; the target_features
# section is for tools only (wasm-bindgen has read it). Not on pkg/export/ (built for speed)
# nor pkg/judge/.
wasm_opt=node_modules/.bin/wasm-opt
if [ ! -x "$wasm_opt" ]; then
  echo "build-wasm: $wasm_opt (npm package binaryen) is missing: run scripts/setup.sh, or npm ci" >&2
  exit 1
fi
"$wasm_opt" -O2 --one-caller-inline-max-function-size 0 --converge --strip-target-features \
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  pkg/cpm_deferral_bg.wasm -o pkg/cpm_deferral_bg.opt.wasm
# wasm-opt 108 pointed the export of wasm-bindgen's externref table at the funcref table (even
# with no pass at all); this checks every table export and puts one back, or stops the build
# (scripts/wasm-table-exports.mjs).
node scripts/wasm-table-exports.mjs pkg/cpm_deferral_bg.wasm pkg/cpm_deferral_bg.opt.wasm
mv pkg/cpm_deferral_bg.opt.wasm pkg/cpm_deferral_bg.wasm
# The page's first view without the engine (a first visit draws it and loads the module on use).
node scripts/first-view.mjs
echo "build-wasm: pkg/ ready ($(wc -c < pkg/cpm_deferral_bg.wasm) bytes of wasm; with exports $(wc -c < pkg/export/cpm_deferral_bg.wasm); the judge $(wc -c < pkg/judge/cpm_deferral_bg.wasm))" >&2
bash scripts/prerender-web.sh
