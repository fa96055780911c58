// The page gets the trace packed (src/packed.rs) and unpacks it with unpackTrace (www/engine.js).
// Here the real wasm module runs every preset in Node and the unpacked trace must equal the CLI's
// `run --format json` trace of the same preset, with the wire texts left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { unpackTrace } from '../../www/engine.js';

const root = new URL('../../', import.meta.url);
const mod = await import(new URL('pkg/cpm_deferral.js', root).href);
mod.initSync({ module: fs.readFileSync(new URL('pkg/cpm_deferral_bg.wasm', root)) });

function cli(args) {
  return execFileSync('cargo', ['run', '-q', '--bin', 'cpm-deferral', '--', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
}

for (const p of mod.presets()) {
  for (const rules of ['post-cr', 'pre-cr']) {
    test(`${p.name} (${rules}): unpacked trace equals the CLI's, raw texts aside`, () => {
      const want = JSON.parse(cli(['run', '--preset', p.name, '--rules', rules, '--format', 'json']));
      // JSON.stringify: the unpacked steps and chats read their fields through getters.
      const got = JSON.parse(JSON.stringify(unpackTrace(mod.run(p.json, rules))));
      const raws = want.steps.map((s) => s.raw);
      for (const s of want.steps) s.raw = '';
      assert.deepEqual(got, want);
      // The inspector's text on demand is the same run's text.
      const i = raws.findIndex((r) => r.length > 0);
      assert.equal(mod.raw(rules, i), raws[i]);
      assert.equal(mod.raw(rules, raws.length - 1), raws[raws.length - 1]);
    });
  }
}
