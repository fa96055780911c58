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
    return JSON.stringify(small.steps) === JSON.stringify(st.trace.steps) && JSON.stringify(small.chats) === JSON.stringify(st.trace.chats);
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
