// The page runs small timelines on the module it loads at start (pkg/, built for size) and
// timelines of more than FAST_EVENTS events on the second module (pkg/export/, built for speed),
// loaded when the first such timeline appears. In Debian's Chromium: the switch happens, the
// traces are the same on both, and what depends on the module of the last run (the inspector's
// wire text on demand, exports) keeps working across the switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, openExplorer, ready } from '../harness.mjs';
import { bigScenario } from '../big-scenario.mjs';

const env = useBrowser();

test('a timeline of more than FAST_EVENTS events switches to the speed-optimised module with the same trace', async (t) => {
  const { page: start, errors: startErrors } = await newPage(t, env);
  await start.goto(env.base);
  await ready(start);
  const fastEvents = await start.evaluate(async () => (await import('./engine.js')).FAST_EVENTS);
  assert.ok(fastEvents >= 1000, `threshold ${fastEvents}`);
  // A preset is small: it stays on the first module, and the second is not even loaded.
  assert.deepEqual(await start.evaluate(() => ({ last: window.__explorer.state.engine.last === window.__explorer.state.engine.mod, fast: window.__explorer.state.engine.fast })), { last: true, fast: null });
  assert.deepEqual(startErrors, []);

  const { page, errors } = await openExplorer(t, env, { scenario: bigScenario(fastEvents + 500) });
  // The first run asked for the second module; once it is there, the next edit runs on it.
  await page.waitForFunction(() => window.__explorer.state.engine.fast !== null, null, { timeout: 30000 });
  const r = await page.evaluate(() => {
    const ex = window.__explorer;
    const st = ex.state;
    const bye = st.scenario.events.findIndex((e) => e.kind === 'bye');
    ex.benchMove(bye, st.scenario.events[bye].at_ms + 10);
    const eng = st.engine;
    const onFast = eng.last === eng.fast && eng.fast !== eng.mod;
    // The same scenario on the first module, straight from its glue: the same trace.
    const json = JSON.stringify(st.scenario);
    const small = JSON.stringify(eng.mod.run(json, 'post-cr').rest);
    const fastRest = JSON.stringify(eng.fast.run(json, 'post-cr').rest);
    return { onFast, steps: st.trace.steps.length, same: small === fastRest, summary: st.trace.summary };
  });
  assert.equal(r.onFast, true, 'the edit ran on the speed-optimised module');
  assert.equal(r.same, true, 'both modules give the same summary, lanes, timers and states');
  assert.ok(r.summary.stored > 0 && r.summary.stored === r.summary.delivered_from_store, JSON.stringify(r.summary));
  // The trace on screen equals a run of the first module, step for step.
  const equal = await page.evaluate(async () => {
    const { unpackTrace } = await import('./engine.js');
    const st = window.__explorer.state;
    const small = unpackTrace(st.engine.mod.run(JSON.stringify(st.scenario), st.rules));
    // The first module records no notes (Cargo feature note-text): they come from the second.
    const noNotes = small.steps.every((s) => s.note === '');
    Object.defineProperty(small, 'notesMissing', { value: true, writable: true });
    const filled = await st.engine.notesFor(small, st.scenario);
    return noNotes && filled && JSON.stringify(small.steps) === JSON.stringify(st.trace.steps) && JSON.stringify(small.chats) === JSON.stringify(st.trace.chats);
  });
  assert.equal(equal, true, 'steps and chats are identical on both modules');

  // The inspector's wire text comes from the module of the last run.
  const i = await page.evaluate(() => window.__explorer.state.trace.steps.findIndex((s) => s.protocol === 'SIP' && s.label.startsWith('BYE')));
  assert.ok(i > 0);
  await page.evaluate((k) => window.__explorer.api.selectStep('main', k, null, true), i);
  await page.waitForFunction(() => /^BYE sip:/m.test(document.querySelector('#insp-raw')?.textContent || ''), null, { timeout: 10000 });
  assert.match(await page.locator('#insp-raw').textContent(), /Reason: SIP;cause=480/);
  assert.deepEqual(errors, []);
});

test('the first module records no notes: the inspector and the ladder\'s tooltips get them from the second module on first use', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const before = await page.evaluate(() => {
    const st = window.__explorer.state;
    return { first: st.engine.last === st.engine.mod, missing: st.trace.notesMissing === true, empty: st.trace.steps.every((s) => s.note === '') };
  });
  assert.deepEqual(before, { first: true, missing: true, empty: true }, 'a preset runs on the first module, without notes');
  // The contract's JSON of the trace does not carry the page's bookkeeping.
  assert.equal(await page.evaluate(() => 'notesMissing' in JSON.parse(JSON.stringify(window.__explorer.state.trace))), false);
  const i = await page.evaluate(() => window.__explorer.state.trace.steps.findIndex((s) => s.kind === 'state' && s.label === 'Deferred'));
  assert.ok(i > 0, 'the preset defers');
  await page.evaluate((k) => window.__explorer.api.selectStep('main', k, null, true), i);
  await page.waitForFunction(() => /Case 1 of §8\.3\.2\.9/.test(document.querySelector('#insp-note')?.textContent || ''), null, { timeout: 15000 });
  // Now every step has its note, the second module is loaded, and the tooltips were drawn again with them.
  const after = await page.evaluate(() => {
    const st = window.__explorer.state;
    const tips = [...document.querySelectorAll('#pane-main title')].map((e) => e.textContent);
    return { missing: st.trace.notesMissing, notes: st.trace.steps.filter((s) => s.note).length, steps: st.trace.steps.length, tip: tips.some((x) => /Case 1 of §8\.3\.2\.9/.test(x)) };
  });
  assert.equal(after.missing, false);
  assert.equal(after.notes, after.steps, 'every step has a note');
  assert.equal(after.tip, true, 'an arrow\'s tooltip shows its note');
  // After an edit the new run (on the first module again) has no notes: hovering the ladder asks for them.
  await page.evaluate(() => window.__explorer.api.setRules('pre-cr'));
  await page.waitForFunction(() => window.__explorer.state.trace.rules === 'pre-cr', null, { timeout: 10000 });
  await page.hover('#pane-main svg');
  await page.waitForFunction(() => window.__explorer.state.trace.notesMissing === false, null, { timeout: 15000 });
  assert.deepEqual(errors, []);
});
