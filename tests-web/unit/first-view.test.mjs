// A first visit draws the first preset without the engine (issue 10: the initial page within
// 150 KB gzip): pkg/first-view/ holds the first module's answers, made by
// scripts/first-view.mjs when the module is built, and www/engine.js answers from it until the
// module is loaded; the steps' notes and wire texts come from NAME.text.json, made by the second
// module. The files must be what the modules they ship with answer today, and the Engine's
// answers from them what the same Engine gives with the modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Engine, NOT_YET } from '../../www/engine.js';
import { scenarioJson } from '../../www/scenario.js';
import { firstView } from '../../scripts/first-view.mjs';
import { loadModule } from './modules.mjs';

const first = await loadModule('pkg');
const dir = new URL('../../pkg/first-view/', import.meta.url);
const read = (name) => fs.readFileSync(new URL(`${name}.json`, dir), 'utf8');
const columns = (r) => {
  for (const t of [r.post, r.pre]) for (const k of ['ends', 'steps', 'chats']) t[k] = Uint32Array.from(t[k]);
  return r;
};
/** The Engine of a first view holding the first preset's runs (as loadFirstView builds it) and those of `more`. */
const fv = (...more) => {
  const index = JSON.parse(read('index'));
  const runs = new Map([columns(index.first), ...more.map((n) => columns(JSON.parse(read(n))))].map((r) => [r.json, r]));
  return { version: index.version, presets: index.presets, policies: index.policies, runs };
};

test('pkg/first-view/ is what the first module answers now (rebuilt with the module)', async () => {
  const { index, runs, texts } = await firstView('pkg');
  assert.equal(read('index'), JSON.stringify(index));
  for (const [name, r] of Object.entries(runs)) assert.equal(read(name), JSON.stringify(r), name);
  for (const [name, x] of Object.entries(texts)) {
    assert.equal(read(`${name}.text`), JSON.stringify(x), `${name}.text`);
    // One note and one wire text per step of the run the page draws.
    for (const [side, t] of [['post', x.post], ['pre', x.pre === 'post' ? x.post : x.pre]]) {
      const n = runs[name][side].steps.length / runs[name][side].step_fields;
      assert.equal(t.notes.split('\u001e').length, n, `${name} ${side} notes`);
      assert.equal(t.raw.length, n, `${name} ${side} wire texts`);
    }
  }
  assert.deepEqual(Object.keys(runs), first.presets().map((p) => p.name), 'every preset');
  assert.equal(index.version, first.version());
  assert.deepEqual(index.first, runs[index.presets[0].name]);
  assert.ok(index.first.post.steps.length > 100 && index.first.pre.steps.length > 100, 'both runs are there');
});

test('a first view answers for its presets as the module does, both rule sets and compared', () => {
  const without = new Engine(null, fv('msrp-loss-path-b'));
  const withModule = new Engine(first);
  assert.equal(without.mod, null);
  for (const sc of [JSON.parse(without.presets()[0].json), JSON.parse(without.presets().find((p) => p.name === 'msrp-loss-path-b').json)]) same(without, withModule, sc);
});

function same(without, withModule, sc) {
  assert.equal(without.version(), withModule.version());
  assert.deepEqual(without.policies(), withModule.policies());
  assert.equal(without.canRun(sc), true);
  assert.equal(without.waits(sc), false);
  for (const rules of ['post-cr', 'pre-cr']) {
    const a = without.run(sc, rules);
    const b = withModule.run(sc, rules);
    assert.equal(JSON.stringify(a), JSON.stringify(b), rules);
    assert.equal(a.notesMissing, true, 'notes come from the second module, as for the first module');
  }
  const a = without.runBoth(sc);
  const b = withModule.runBoth(sc);
  assert.equal(JSON.stringify(a.post), JSON.stringify(b.post));
  assert.equal(JSON.stringify(a.pre), JSON.stringify(b.pre));
  assert.deepEqual(a.comparison, b.comparison);
  assert.equal(without.check(sc), null);
  // The same scenario as another object (the page parses a preset's JSON each time) is the same.
  assert.equal(without.isFirst(JSON.parse(scenarioJson(sc))), true);
}

test('anything else waits for the module: NOT_YET from a run or a check, never a wrong trace', () => {
  const without = new Engine(null, fv());
  const other = JSON.parse(without.presets()[1].json);
  const edited = JSON.parse(without.presets()[0].json);
  edited.events = edited.events.slice(1);
  for (const sc of [other, edited]) {
    assert.equal(without.canRun(sc), false);
    assert.equal(without.waits(sc), true);
    assert.deepEqual(without.run(sc, 'post-cr'), { error: NOT_YET });
    assert.deepEqual(without.runBoth(sc), { error: NOT_YET });
    assert.equal(without.check(sc), NOT_YET);
  }
  assert.equal(without.checkText('{}'), NOT_YET);
  // Loading the module (here the same glue this process has initialised) ends the first view:
  // then every run is the module's.
  return without.ensure(other).then((m) => {
    assert.equal(m, first);
    assert.equal(without.mod, first);
    assert.equal(without.canRun(other), true);
    assert.equal(JSON.stringify(without.run(other, 'post-cr')), JSON.stringify(new Engine(first).run(other, 'post-cr')));
  });
});
