#!/usr/bin/env bash
# The second command: set up and run every test of the CPM Deferral Explorer.
#
# Works on a fresh Debian machine as root and in a fresh `git clone` (no node_modules/, pkg/ or
# target/). Stages, in order, stopping at the first that fails:
#   setup        scripts/setup.sh (wasm32 target, pinned wasm-bindgen CLI, Debian chromium, npm
#                packages), Debian tshark (the pcap export test needs it: CPM_REQUIRE_TSHARK=1), SIPp and
#                tcpdump (CPM_REQUIRE_SIPP=1), and libxml2-utils (xmllint, CPM_REQUIRE_XMLLINT=1)
#   fmt          cargo fmt --check
#   clippy       cargo clippy --all-targets -- -D warnings
#   clippy-wasm  cargo clippy --target wasm32-unknown-unknown --lib [--no-default-features] -- -D warnings
#   cargo-test   cargo test
#   readme       the example scenario in README.md passes `cpm-deferral check` and runs
#   web          scripts/test-web.sh (wasm build, Node unit tests, Chromium end-to-end tests)
# The last line is "total: N passed, N failed" (Rust tests + web tests) on success, or names the
# stage that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

log() { printf '\n==> test.sh: %s\n' "$*" >&2; }
results="$(mktemp -d)"
current=""
started=$SECONDS
stage_start=$SECONDS
on_exit_fail() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "$current" ]; then
    printf '\ntest.sh: FAILED at stage "%s" (exit %d, after %ds); later stages were not run\n' "$current" "$rc" "$((SECONDS - started))" >&2
    echo "test.sh: FAILED at stage \"$current\""
  fi
  rm -rf "$results"
}
trap on_exit_fail EXIT

stage() { # stage NAME: announce a stage; a failure from here on is reported under its name
  if [ -n "$current" ]; then printf 'test.sh: stage "%s" ok (%ds)\n' "$current" "$((SECONDS - stage_start))" >&2; fi
  current="$1"
  stage_start=$SECONDS
  log "$1"
}

# ---------------------------------------------------------------- setup
stage setup
bash scripts/setup.sh
for comp in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
    echo "test.sh: adding rustup component $comp" >&2
    rustup component add "$comp"
  fi
done
if ! command -v tshark >/dev/null 2>&1; then
  echo "test.sh: installing tshark from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when they are missing or too old to have tshark.
  if ! apt-get install -y tshark; then
    apt-get update
    apt-get install -y tshark
  fi
fi
export CPM_REQUIRE_TSHARK=1
# SIPp (a SIP stack nobody here wrote) and tcpdump, for tests/capture_sipp.rs (loopback only).
if ! command -v sipp >/dev/null 2>&1 || ! command -v tcpdump >/dev/null 2>&1; then
  echo "test.sh: installing sip-tester and tcpdump from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y sip-tester tcpdump; then
    apt-get update
    apt-get install -y sip-tester tcpdump
  fi
fi
export CPM_REQUIRE_SIPP=1
# libxml2's xmllint validates the IMDN documents against RFC 5438's schema (tests/imdn_schema.rs).
if ! command -v xmllint >/dev/null 2>&1; then
  echo "test.sh: installing libxml2-utils (xmllint) from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y libxml2-utils; then
    apt-get update
    apt-get install -y libxml2-utils
  fi
fi
export CPM_REQUIRE_XMLLINT=1

# ---------------------------------------------------------------- Rust
stage fmt
cargo fmt --check

stage clippy
cargo clippy --all-targets -- -D warnings

stage clippy-wasm
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
# The page's first module: no capture reader, no wire texts (scripts/build-wasm.sh).
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings

stage cargo-test
cargo test 2>&1 | tee "$results/cargo-test.log"
rust_passed=$(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$results/cargo-test.log" | awk '{s+=$1} END {print s+0}')
rust_failed=$(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$results/cargo-test.log" | awk '{s+=$1} END {print s+0}')
if [ "$rust_passed" -eq 0 ]; then
  echo "test.sh: cargo test ran no test" >&2
  exit 1
fi

# The hand-written example in README.md (the block after <!-- example-scenario -->) must stay valid.
stage readme
awk '/<!-- example-scenario -->/ {on=1; next} on && /^```json/ {inside=1; next} inside && /^```/ {exit} inside {print}' README.md > "$results/example.json"
if [ ! -s "$results/example.json" ]; then
  echo "test.sh: README.md has no example scenario after <!-- example-scenario -->" >&2
  exit 1
fi
cargo run -q --bin cpm-deferral -- check "$results/example.json"
cargo run -q --bin cpm-deferral -- run "$results/example.json" --format json > /dev/null

# ---------------------------------------------------------------- web
stage web
bash scripts/test-web.sh 2>&1 | tee "$results/web.log"
web_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/web.log" | tail -n1)
web_passed=$(echo "$web_line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
web_failed=$(echo "$web_line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')

printf 'test.sh: stage "%s" ok (%ds)\n' "$current" "$((SECONDS - stage_start))" >&2
current=""
printf '\ntest.sh: every stage passed in %ds (Rust: %d passed, %d failed; web: %d passed, %d failed)\n' \
  "$((SECONDS - started))" "$rust_passed" "$rust_failed" "${web_passed:-0}" "${web_failed:-0}"
echo "total: $((rust_passed + ${web_passed:-0})) passed, $((rust_failed + ${web_failed:-0})) failed"
