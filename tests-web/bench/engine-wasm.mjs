// The wasm half of `make bench`: runs the scenario examples/bench.rs wrote (target/
// bench-scenario.json, 10,000 events) through the page's module (pkg/, wasm-release build) in
// Node, the way the page calls it on every edit (run without wire text + packed transfer +
// unpackTrace), and compares with the native figures of the same `make bench` run
// (target/bench-native.json). Also reports the wasm linear memory after the run.
import fs from 'node:fs';
import os from 'node:os';
import { unpackTrace } from '../../www/engine.js';

const root = new URL('../../', import.meta.url);
const mod = await import(new URL('pkg/cpm_deferral.js', root).href);
const { memory } = mod.initSync({ module: fs.readFileSync(new URL('pkg/cpm_deferral_bg.wasm', root)) });
const json = fs.readFileSync(new URL('target/bench-scenario.json', root), 'utf8');
const native = JSON.parse(fs.readFileSync(new URL('target/bench-native.json', root), 'utf8'));
const rounds = Number(process.env.ROUNDS || 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const memBefore = memory.buffer.byteLength;
const run = [];
const unpack = [];
let steps = 0;
for (let i = 0; i < rounds + 2; i++) {
  const t0 = performance.now();
  const packed = mod.run(json, 'post-cr');
  const t1 = performance.now();
  const trace = unpackTrace(packed);
  const t2 = performance.now();
  steps = trace.steps.length;
  if (i >= 2) {
    run.push(t1 - t0);
    unpack.push(t2 - t1);
  }
}
const t0 = performance.now();
mod.raw('post-cr', 0);
const firstRaw = performance.now() - t0;
const r = median(run);
const nativeMs = native.parse_ms + native.light_ms + native.pack_ms;
console.log(`wasm (Node ${process.version}, ${rounds} rounds, median), same scenario: ${steps} steps`);
console.log(`  wasm parse + run without wire text + pack + hand-over: ${r.toFixed(2)} ms  (${(steps / r / 1000).toFixed(2)} M steps/s)`);
console.log(`  native parse + run without wire text + pack: ${nativeMs.toFixed(2)} ms`);
console.log(`  ratio wasm / native:                          ${(r / nativeMs).toFixed(2)}x  (target <= 2x)`);
console.log(`  unpackTrace in JS:                            ${median(unpack).toFixed(2)} ms`);
console.log(`  first wire text on demand (one full run):     ${firstRaw.toFixed(1)} ms`);
console.log(`  wasm linear memory: ${(memBefore / 1048576).toFixed(1)} MB at start, ${(memory.buffer.byteLength / 1048576).toFixed(1)} MB after (holds the scenario, its wire texts and the last trace)`);
const f = (x, d = 1) => Number(x).toFixed(d);
const md = `# Engine benchmark (\`make bench\`)

Produced by \`make bench\` (\`cargo run --release --example bench\`, then
\`node tests-web/bench/engine-wasm.mjs\` on the same scenario) on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores,
Node ${process.version}. A benchmark, not a timed test: figures move ±20 % with the machine's load;
the ratios are measured within one run.

Scenario: ${native.events.toLocaleString('en')} events (Alice and Bob alternate every 300 ms; BYE 480 at a third, REGISTER
at two thirds, an MSRP loss and a re-join near the end): **${native.steps.toLocaleString('en')} trace steps**, ${f(native.raw_mb)} MB of wire text.
Medians of ${native.rounds} rounds natively, ${rounds} in wasm.

| | time | |
| --- | ---: | --- |
| engine run with every wire text (native) | ${f(native.run_ms)} ms | **${f(native.steps / native.run_ms / 1000, 2)} M steps/s** (target ≥ 1 M) |
| peer, same run: serde_json writing that trace (${f(native.json_mb)} MB) | ${f(native.peer_ms)} ms | engine / peer **${f(native.run_ms / native.peer_ms, 2)}×** |
| the page's fast path natively: parse + run without wire text + pack | ${f(native.parse_ms)} + ${f(native.light_ms)} + ${f(native.pack_ms)} = ${f(nativeMs)} ms | |
| the same in wasm (the page's module, opt-level z) incl. hand-over to JS | ${f(r)} ms | **${f(r / nativeMs, 2)}× native** (target ≤ 2×: ${r / nativeMs <= 2 ? 'met' : 'NOT met'}) |
| unpackTrace in JS (one object per step) | ${f(median(unpack))} ms | |
| first wire text on demand (one full run in wasm) | ${f(firstRaw)} ms | |

Memory for these ${native.events.toLocaleString('en')} events: the native process peaks at ${f(native.peak_mb)} MB resident (the scenario and
two traces with all wire texts); the wasm module's linear memory grows from ${f(memBefore / 1048576)} MB to
${f(memory.buffer.byteLength / 1048576)} MB (the scenario, the packed trace, and the wire texts once one was asked for).
`;
fs.writeFileSync(new URL('docs/bench-engine.md', root), md);
console.log('wrote docs/bench-engine.md');
console.log(`RESULT wasm_ratio=${(r / nativeMs).toFixed(2)} target_met=${r / nativeMs <= 2}`);
