# Shortcuts for the CPM Deferral Explorer. The scripts do the work; `make` only names them.
.PHONY: help serve test bench bench-web bench-capture offline site check fuzz

help:
	@echo "make serve      set up, build the wasm and serve the explorer on loopback (prints the URL; PORT=8080)"
	@echo "make test       set up and run every test (scripts/test.sh, what CI runs)"
	@echo "make check      cargo fmt --check and clippy (native and wasm32), no tests"
	@echo "make bench      engine benchmark: steps/s on a 10,000-event scenario, native and in wasm; the judge on a 1 GB capture against tshark (JUDGE_MB=1024)"
	@echo "make bench-web  browser benchmark against Mermaid (writes docs/bench.md)"
	@echo "make bench-capture  capture reader against tshark on a synthesised capture (CAPTURE_MB=256)"
	@echo "make fuzz       fuzzers: scenario import, every wire parser, the capture reader and the judge (Rust), share-link decoding (Node); FUZZ_SECONDS=60 each"
	@echo "make offline    build the explorer for use without a server (scripts/build-offline.sh)"
	@echo "make site       build the explorer as a static site for a web host, minified (dist/site/)"

serve:
	bash scripts/serve.sh

test:
	bash scripts/test.sh

bench:
	cargo run --release --example bench
	bash scripts/build-wasm.sh
	node tests-web/bench/engine-wasm.mjs
	cargo build --release --bin cpm-deferral
	cargo run --release --example capture_bench -- --mb $(or $(JUDGE_MB),1024) --judge

bench-web:
	bash scripts/bench-web.sh

bench-capture:
	cargo run --release --example capture_bench -- --mb $(or $(CAPTURE_MB),256)

fuzz:
	cargo run --release --example fuzz -- --seconds $(or $(FUZZ_SECONDS),60)
	node tests-web/fuzz/share-fuzz.mjs --seconds $(or $(FUZZ_SECONDS),60)

offline:
	bash scripts/build-offline.sh

site:
	bash scripts/build-wasm.sh
	node scripts/build-site.mjs

check:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
