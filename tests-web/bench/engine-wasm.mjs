// The wasm half of `make bench`: runs the scenario examples/bench.rs wrote (target/
// bench-scenario.json, 10,000 events) through both of the page's modules in Node and compares
// with the native figures of the same `make bench` run (target/bench-native.json):
//   - pkg/ (opt-level z, what the page loads at start and runs timelines of up to 2,000 events on);
//   - pkg/export/ (opt-level 2, loaded on use; the page runs bigger timelines on it).
// "Same work" is the page's fast path inside wasm (parse + run without wire text + pack,
// bench_fast_path, no hand-over), the peer of the native figure; "as the page calls it" adds
// the hand-over to JS (typed-array copies, the strings) and unpackTrace. Writes docs/bench-engine.md.
import fs from 'node:fs';
import os from 'node:os';
import { unpackTrace } from '../../www/engine.js';

const root = new URL('../../', import.meta.url);
async function load(dir) {
  const mod = await import(new URL(`${dir}/cpm_deferral.js`, root).href);
  const { memory } = mod.initSync({ module: fs.readFileSync(new URL(`${dir}/cpm_deferral_bg.wasm`, root)) });
  return { mod, memory, memBefore: memory.buffer.byteLength };
}
const json = fs.readFileSync(new URL('target/bench-scenario.json', root), 'utf8');
const native = JSON.parse(fs.readFileSync(new URL('target/bench-native.json', root), 'utf8'));
const rounds = Number(process.env.ROUNDS || 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const time = (f) => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

/** The page's call (run + hand-over) and unpackTrace, `rounds` times after 2 warm-ups. */
function pageCalls(mod) {
  const run = [];
  const unpack = [];
  let steps = 0;
  for (let i = 0; i < rounds + 2; i++) {
    let packed;
    const a = time(() => (packed = mod.run(json, 'post-cr')));
    let trace;
    const b = time(() => (trace = unpackTrace(packed)));
    steps = trace.steps.length;
    if (i >= 2) {
      run.push(a);
      unpack.push(b);
    }
  }
  return { run: median(run), unpack: median(unpack), steps };
}

const small = await load('pkg');
const fast = await load('pkg/export');
const s = pageCalls(small.mod);
const f = pageCalls(fast.mod);
// Same work as native, inside the speed module: 3 rounds per call, so the call itself is noise.
fast.mod.bench_fast_path(json, 'post-cr', 2);
const inner = [];
for (let i = 0; i < Math.max(5, Math.round(rounds / 3)); i++) inner.push(time(() => fast.mod.bench_fast_path(json, 'post-cr', 3)) / 3);
const fastInner = median(inner);
const firstRaw = time(() => fast.mod.raw('post-cr', 0));
const nativeMs = native.parse_ms + native.light_ms + native.pack_ms;
const ratio = fastInner / nativeMs;
const met = ratio <= 2;
const mb = (x) => (x / 1048576).toFixed(1);
console.log(`wasm (Node ${process.version}, median of ${rounds}), same scenario: ${s.steps} steps`);
console.log(`  native parse + run without wire text + pack:            ${nativeMs.toFixed(2)} ms`);
console.log(`  speed module (pkg/export/), same work inside wasm:      ${fastInner.toFixed(2)} ms  = ${ratio.toFixed(2)}x native (target <= 2x)`);
console.log(`  speed module, as the page calls it (+ hand-over):       ${f.run.toFixed(2)} ms  (${(f.run / nativeMs).toFixed(2)}x)`);
console.log(`  size module (pkg/), as the page calls it (+ hand-over): ${s.run.toFixed(2)} ms  (${(s.run / nativeMs).toFixed(2)}x)`);
console.log(`  unpackTrace in JS:                                      ${f.unpack.toFixed(2)} ms`);
console.log(`  first wire text on demand (one full run, speed module): ${firstRaw.toFixed(1)} ms`);
const x = (v, d = 1) => Number(v).toFixed(d);
const md = `# Engine benchmark (\`make bench\`)

Produced by \`make bench\` (\`cargo run --release --example bench\`, then
\`node tests-web/bench/engine-wasm.mjs\` on the same scenario) on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores,
Node ${process.version}. A benchmark, not a timed test: figures move ±20 % with the machine's load;
the ratios are measured within one run.

Scenario: ${native.events.toLocaleString('en')} events (Alice and Bob alternate every 300 ms; BYE 480 at a third, REGISTER
at two thirds, an MSRP loss and a re-join near the end): **${native.steps.toLocaleString('en')} trace steps**, ${x(native.raw_mb)} MB of wire text.
Medians of ${native.rounds} rounds natively, ${rounds} in wasm.

| | time | |
| --- | ---: | --- |
| engine run with every wire text (native) | ${x(native.run_ms)} ms | **${x(native.steps / native.run_ms / 1000, 2)} M steps/s** (target ≥ 2 M, issue 10) |
${native.faults != null ? `| of which fresh memory: ${native.faults.toLocaleString('en')} page faults, on their own | ${x(native.fresh_ms)} ms | ${x((100 * native.fresh_ms) / native.run_ms)} % of the run (first run: ${x(native.cold_ms)} ms) |\n` : ''}| peer, same run: serde_json writing that trace (${x(native.json_mb)} MB) | ${x(native.peer_ms)} ms | engine / peer **${x(native.run_ms / native.peer_ms, 2)}×** |
| the page's fast path natively: parse + run without wire text + pack | ${x(native.parse_ms)} + ${x(native.light_ms)} + ${x(native.pack_ms)} = ${x(nativeMs)} ms | |
| the same work in wasm, speed module (pkg/export/, opt-level 2) | ${x(fastInner)} ms | **${x(ratio, 2)}× native** (target ≤ 2×: ${met ? 'met' : 'NOT met'}) |
| speed module as the page calls it (+ hand-over to JS) | ${x(f.run)} ms | ${x(f.run / nativeMs, 2)}× |
| size module (pkg/, opt-level z) as the page calls it (+ hand-over to JS) | ${x(s.run)} ms | ${x(s.run / nativeMs, 2)}× |
| unpackTrace in JS (one small getter object per step and chat) | ${x(f.unpack)} ms | |
| first wire text on demand (one full run in wasm) | ${x(firstRaw)} ms | |

The page runs on the size module (loaded at start, or on a first visit at the first input: the
first view comes from pkg/first-view/, for the 150 KB budget of the initial page; this module is
${Math.round(fs.statSync(new URL('pkg/cpm_deferral_bg.wasm', root)).size / 1024)} KB before gzip) and runs timelines of up to 2,000 events on it; for a bigger
timeline it loads the speed module (the same engine and the exports, ${Math.round(fs.statSync(new URL('pkg/export/cpm_deferral_bg.wasm', root)).size / 1024)} KB) and runs on
that (www/engine.js, \`FAST_EVENTS\`). Both give identical traces (tests-web/unit/packed.test.mjs,
tests-web/e2e/engine-modules.test.mjs).

Memory for these ${native.events.toLocaleString('en')} events: the native process peaks at ${x(native.peak_mb)} MB resident (the scenario and
two traces with all wire texts); the speed module's linear memory grows from ${mb(fast.memBefore)} MB to
${mb(fast.memory.buffer.byteLength)} MB (the scenario, the packed trace, and the wire texts once one was asked for); the size
module's from ${mb(small.memBefore)} MB to ${mb(small.memory.buffer.byteLength)} MB (no wire text asked for).
`;
// The instruction counts (callgrind, measured by hand: see that section) are kept as they are.
const docUrl = new URL('docs/bench-engine.md', root);
const old = fs.existsSync(docUrl) ? fs.readFileSync(docUrl, 'utf8') : '';
const kept = old.indexOf('\n## Instructions per run');
fs.writeFileSync(docUrl, kept >= 0 ? md + old.slice(kept) : md);
console.log('wrote docs/bench-engine.md');
console.log(`RESULT wasm_ratio=${ratio.toFixed(2)} target_met=${met}`);
