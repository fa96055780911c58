#!/usr/bin/env bash
# Every web test: set-up (wasm target, wasm-bindgen CLI, chromium, npm packages), the wasm build
# (with the pre-rendered presets) and the offline single file, the Node unit tests, and the
# end-to-end tests in Debian's Chromium (tests-web/e2e/*.test.mjs).
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "test-web: setup failed" >&2; echo "0 passed, 1 failed"; exit 1; }
bash scripts/build-wasm.sh || { echo "test-web: wasm build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
SKIP_WASM=1 bash scripts/build-offline.sh || { echo "test-web: offline build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
mkdir -p test-results
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

count() { # sums "# pass N" / "# fail N" from a TAP file
  sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$2" | awk '{s+=$1} END {print s+0}'
}
node --test --test-reporter=tap tests-web/unit/ > test-results/unit.tap 2>&1
unit_rc=$?
grep -E '^(not ok|# (pass|fail))' test-results/unit.tap >&2 || true
node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=tap tests-web/e2e/ > test-results/e2e.tap 2>&1
e2e_rc=$?
grep -E '^(ok|not ok)|^# (pass|fail)' test-results/e2e.tap >&2 || true
if [ "$e2e_rc" -ne 0 ]; then sed -n '/^not ok/,/^ok/p' test-results/e2e.tap | head -80 >&2; fi

passed=$(( $(count pass test-results/unit.tap) + $(count pass test-results/e2e.tap) ))
failed=$(( $(count fail test-results/unit.tap) + $(count fail test-results/e2e.tap) ))
if [ "$unit_rc" -ne 0 ] || [ "$e2e_rc" -ne 0 ]; then [ "$failed" -eq 0 ] && failed=1; fi
[ "$passed" -eq 0 ] && failed=$(( failed + 1 ))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
