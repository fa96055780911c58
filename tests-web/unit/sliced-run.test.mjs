// The wasm SlicedRun (src/wasm.rs, the page's run on its own thread where no Worker may start,
// issue 13 item 9) gives what `run` and `run_both` give, whatever the slice size; it refuses what
// `check` refuses with the same message; its progress rises to 1; `raw` answers for its run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { unpackTrace } from '../../www/engine.js';
import { bigScenario } from '../big-scenario.mjs';

const root = new URL('../../', import.meta.url);
const mod = await import(new URL('pkg/export/cpm_deferral.js', root).href);
mod.initSync({ module: fs.readFileSync(new URL('pkg/export/cpm_deferral_bg.wasm', root)) });

const plain = (packed) => JSON.stringify(unpackTrace(packed));
function sliced(json, rules, both, budget) {
  const r = new mod.SlicedRun(json, rules, both);
  const seen = [r.progress()];
  try {
    while (!r.advance(budget)) seen.push(r.progress());
    seen.push(r.progress());
    return { value: r.finish(), seen };
  } finally {
    r.free();
  }
}

test('every preset, both rule sets and both at once, at three slice sizes: the same traces as run and run_both', () => {
  for (const p of mod.presets()) {
    for (const budget of [1, 37, 100000]) {
      for (const rules of ['post-cr', 'pre-cr']) {
        const { value, seen } = sliced(p.json, rules, false, budget);
        assert.equal(plain(value), plain(mod.run(p.json, rules)), `${p.name} ${rules} budget ${budget}`);
        assert.ok(seen.every((x, i) => i === 0 || x >= seen[i - 1]) && seen.at(-1) === 1, `${p.name}: progress ${seen}`);
      }
      const { value } = sliced(p.json, 'post-cr', true, budget);
      const want = mod.run_both(p.json);
      assert.equal(plain(value.post), plain(want.post), `${p.name} both: post`);
      assert.equal(plain(value.pre), plain(want.pre), `${p.name} both: pre`);
      assert.deepEqual(value.comparison, want.comparison, `${p.name} both: comparison`);
    }
  }
});

test('a big timeline in slices; raw answers for the sliced run; a refused scenario gives check\'s message', () => {
  const json = JSON.stringify(bigScenario(3000));
  const want = plain(mod.run(json, 'post-cr'));
  mod.run(mod.presets()[0].json, 'post-cr'); // raw would answer for this one now
  const { value, seen } = sliced(json, 'post-cr', false, 5000);
  assert.ok(seen.length > 5, `${seen.length} slices`);
  const trace = unpackTrace(value);
  assert.equal(JSON.stringify(trace), want);
  const i = trace.steps.findIndex((s) => s.protocol === 'MSRP');
  const raw = mod.raw('post-cr', i);
  assert.match(raw, /^MSRP \S+ SEND\r\n/);
  assert.match(raw, /message 1 of 3000/, 'the text of the sliced run\'s step');
  const bad = json.replace('"t1_ms":500', '"t1_ms":500.0');
  assert.throws(() => new mod.SlicedRun(bad, 'post-cr', false), (e) => e.message === mod.check(bad));
  assert.throws(() => new mod.SlicedRun(json, 'mid-cr', false), /rules: unknown value "mid-cr"/);
});
