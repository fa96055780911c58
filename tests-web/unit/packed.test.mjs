// The page gets the trace packed (src/packed.rs) and unpacks it with unpackTrace (www/engine.js).
// Here the real wasm modules run every preset in Node and the unpacked trace must equal the CLI's
// `run --format json` trace of the same preset, with the wire texts left out. Both modules: the
// one the page loads at start (pkg/, built for size) and the one it runs big timelines on
// (pkg/export/, built for speed) must give the same traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { unpackTrace } from '../../www/engine.js';

const root = new URL('../../', import.meta.url);
async function load(dir) {
  const mod = await import(new URL(`${dir}/cpm_deferral.js`, root).href);
  mod.initSync({ module: fs.readFileSync(new URL(`${dir}/cpm_deferral_bg.wasm`, root)) });
  return mod;
}
const modules = { 'pkg (size)': await load('pkg'), 'pkg/export (speed)': await load('pkg/export') };

function cli(args) {
  return execFileSync('cargo', ['run', '-q', '--bin', 'cpm-deferral', '--', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
}

for (const p of modules['pkg (size)'].presets()) {
  for (const rules of ['post-cr', 'pre-cr']) {
    test(`${p.name} (${rules}): unpacked trace equals the CLI's, raw texts aside, in both modules`, () => {
      const want = JSON.parse(cli(['run', '--preset', p.name, '--rules', rules, '--format', 'json']));
      const raws = want.steps.map((s) => s.raw);
      for (const s of want.steps) s.raw = '';
      const i = raws.findIndex((r) => r.length > 0);
      for (const [name, mod] of Object.entries(modules)) {
        // JSON.stringify: the unpacked steps and chats read their fields through getters.
        const got = JSON.parse(JSON.stringify(unpackTrace(mod.run(p.json, rules))));
        // The inspector's text on demand is the same run's text; the first module is built
        // without wire texts (feature wire-text), so the page asks the second one. It is built
        // without notes too (feature note-text): its steps' notes are empty, and the page fills
        // them in from the second module's `notes` of the same run (Engine.notesFor).
        if (name === 'pkg (size)') {
          assert.equal(mod.raw, undefined, `${name} has no wire texts`);
          assert.equal(mod.notes, undefined, `${name} has no notes`);
          assert.deepEqual(got, { ...want, steps: want.steps.map((s) => ({ ...s, note: '' })) }, `${name}: all but the notes`);
          const fast = modules['pkg/export (speed)'];
          fast.run(p.json, rules);
          const t = unpackTrace(mod.run(p.json, rules));
          const notes = fast.notes(rules).split('\u001e');
          assert.equal(notes.length, t.steps.length, 'one note per step');
          t.steps[0].t.notes = notes;
          assert.deepEqual(JSON.parse(JSON.stringify(t)), want, `${name} with the second module's notes`);
          continue;
        }
        assert.deepEqual(got, want, name);
        assert.equal(mod.raw(rules, i), raws[i], name);
        assert.equal(mod.raw(rules, raws.length - 1), raws[raws.length - 1], name);
      }
    });
  }
}

test('the getters read like the contract: absent chat/event are undefined, nulls are null', () => {
  const mod = modules['pkg/export (speed)'];
  const p = mod.presets()[0];
  const t = unpackTrace(mod.run(p.json, 'post-cr'));
  const plain = JSON.parse(JSON.stringify(t));
  t.steps.forEach((s, i) => {
    assert.equal(s.index, i);
    for (const k of ['at_ms', 'from', 'to', 'protocol', 'label', 'note', 'kind', 'pf_state', 'queue_len', 'policy']) assert.equal(s[k], plain.steps[i][k], `${i}.${k}`);
    assert.equal(s.chat, plain.steps[i].chat);
    assert.equal(s.event, plain.steps[i].event);
    assert.equal(s.raw, '');
  });
  t.chats.forEach((c, i) => {
    for (const [k, v] of Object.entries(plain.chats[i])) assert.equal(c[k], v, `chat ${i}.${k}`);
  });
});
