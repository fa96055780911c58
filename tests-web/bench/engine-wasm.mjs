// The wasm half of `make bench`: runs the scenario examples/bench.rs wrote (target/
// bench-scenario.json, 10,000 events) through the page's module (pkg/, wasm-release build) in
// Node, the way the page calls it on every edit (run without wire text + packed transfer +
// unpackTrace), and compares with the native figures of the same `make bench` run
// (target/bench-native.json). Also reports the wasm linear memory after the run.
import fs from 'node:fs';
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
console.log(`RESULT wasm_ratio=${(r / nativeMs).toFixed(2)} target_met=${r / nativeMs <= 2}`);
