// Every policy at its default is all the page's first wasm module runs (Cargo feature
// `policies` off: the optimiser drops the other options' code, issue 10's first-load budget).
// It refuses another option with policy::NO_POLICIES; www/engine.js checks and runs such a
// scenario on the second module (pkg/export/), or answers NO_POLICY_MODULE while that is not
// loaded, as it does for a tour or chunking. A policy named at its default is no reason to
// refuse, and both modules give the same trace for every preset at the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, hasPolicies, NO_POLICY_MODULE, unpackTrace } from '../../www/engine.js';
import { loadModule } from './modules.mjs';

const first = await loadModule('pkg');
const second = await loadModule('pkg/export');

const base = JSON.parse(first.presets().find((p) => p.name === 'race-rejoin-after-invite').json);
const scenario = { ...base, policies: { 'q1-rejoin-after-invite': 'prefer-own-invite' } };
const json = JSON.stringify(scenario);
const errorOf = (r) => String(r && r.error ? r.error : r);

test('hasPolicies: a policies object with a key, in objects and in texts', () => {
  assert.equal(hasPolicies(scenario), true);
  assert.equal(hasPolicies(json), true);
  assert.equal(hasPolicies(JSON.stringify(scenario, null, 2)), true);
  assert.equal(hasPolicies(base), false);
  assert.equal(hasPolicies({ ...base, policies: {} }), false);
  assert.equal(hasPolicies('{"policies": {}, "events": []}'), false);
  assert.equal(hasPolicies(JSON.stringify(base)), false);
});

test('the first module refuses an option other than the default; the second runs it', () => {
  assert.match(errorOf(first.check(json)), /^policies\.q1-rejoin-after-invite: this build of the engine runs every policy at its default/);
  assert.equal(second.check(json) ?? null, null);
  // The option is really in force on the second module: the re-join is turned away with 486.
  const own = unpackTrace(second.run(json, 'post-cr'));
  const dflt = unpackTrace(second.run(JSON.stringify(base), 'post-cr'));
  const busy = (t) => [...t.steps].some((s) => s.label.startsWith('486'));
  assert.equal(busy(own), true, 'prefer-own-invite answers the re-join 486 Busy Here');
  assert.equal(busy(dflt), false);
  // An unknown option is refused by both, with the options listed.
  const bad = JSON.stringify({ ...base, policies: { 'q1-rejoin-after-invite': 'coin-toss' } });
  for (const m of [first, second]) assert.match(errorOf(m.check(bad)), /"coin-toss" is out of range .*prefer-rejoin, prefer-own-invite/);
});

test('a policy named at its default runs on the first module, with the trace of the second', () => {
  for (const p of first.presets()) {
    const catalogue = first.policies();
    const sc = { ...JSON.parse(p.json), policies: Object.fromEntries(catalogue.map((c) => [c.id, c.default])) };
    const j = JSON.stringify(sc);
    assert.equal(first.check(j) ?? null, null, p.name);
    for (const rules of ['post-cr', 'pre-cr']) {
      const a = unpackTrace(first.run(j, rules));
      const b = unpackTrace(second.run(j, rules));
      const strip = (t) => JSON.stringify([...t.steps].map((s) => ({ ...s.toJSON(), note: '' })));
      assert.equal(strip(a), strip(b), `${p.name} ${rules}`);
      assert.deepEqual(a.summary, b.summary);
    }
  }
});

test('Engine: without the second module check names it and waits says so; with it the scenario runs there', () => {
  const e = new Engine(first);
  e.loadFast = () => Promise.resolve(null); // this test loads nothing: pkg/export/ is given below
  assert.equal(e.check(scenario), NO_POLICY_MODULE);
  assert.equal(e.checkText(json), NO_POLICY_MODULE);
  assert.equal(e.waits(scenario), true);
  assert.equal(e.waits(base), false);
  e.fast = second;
  assert.equal(e.waits(scenario), false);
  assert.equal(e.check(scenario), null);
  assert.equal(e.checkText(json), null);
  assert.equal(e.pick(scenario), second);
  assert.equal(e.pick(base), first, 'a small timeline at the defaults stays on the first module');
  const t = e.run(scenario, 'post-cr');
  assert.ok(!t.error, t.error);
  assert.ok([...t.steps].some((s) => s.label.startsWith('486')));
});
