#!/usr/bin/env bash
# Build the engine for the browser into pkg/ (wasm-bindgen --target web output).
# Uses the [profile.wasm-release] profile (LTO, one codegen unit) so native builds stay fast.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo build --lib --profile wasm-release --target wasm32-unknown-unknown
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
target_dir="${target_dir:-target}"
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg "$target_dir/wasm32-unknown-unknown/wasm-release/cpm_deferral.wasm"
echo "build-wasm: pkg/ ready ($(wc -c < pkg/cpm_deferral_bg.wasm) bytes of wasm)" >&2
