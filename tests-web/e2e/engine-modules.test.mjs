// The page runs small timelines on the module it loads at start (pkg/, built for size) and
// timelines of more than FAST_EVENTS events on the second module (pkg/export/, built for speed),
// loaded when the first such timeline appears. In Debian's Chromium: the switch happens, the
// traces are the same on both, and what depends on the module of the last run (the inspector's
// wire text on demand, exports) keeps working across the switch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../scripts/serve.mjs';
import { launch, watchErrors } from '../browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KEY = 'cpm-deferral-explorer:v1';
let server;
let base;
let browser;
before(async () => {
  server = createServer(ROOT);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}/www/`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** n group messages; Carol drops with BYE 480 at a third and registers at two thirds. */
function big(n) {
  const events = [];
  for (let i = 0; i < n; i++) events.push({ at_ms: 1000 + i * 400, kind: 'message', from: i % 2 ? 'bob' : 'alice', text: `message ${i + 1} of ${n}` });
  events.push({ at_ms: 1000 + Math.floor(n / 3) * 400 + 200, kind: 'bye', reason: 'SIP;cause=480' });
  events.push({ at_ms: 1000 + Math.floor((2 * n) / 3) * 400 + 200, kind: 'register', reaction_ms: 500 });
  events.sort((a, b) => a.at_ms - b.at_ms);
  return { format: 'cpm-deferral-scenario', version: 1, title: `${n} messages`, setup: 'established', t1_ms: 500, events };
}

test('a timeline of more than FAST_EVENTS events switches to the speed-optimised module with the same trace', async (t) => {
  const page = await browser.context.newPage();
  t.after(() => page.close());
  const errors = watchErrors(page);
  await page.goto(base);
  await page.waitForSelector('html[data-ready="yes"]', { timeout: 20000 });
  const fastEvents = await page.evaluate(async () => (await import('./engine.js')).FAST_EVENTS);
  assert.ok(fastEvents >= 1000, `threshold ${fastEvents}`);
  // A preset is small: it stays on the first module, and the second is not even loaded.
  assert.deepEqual(await page.evaluate(() => ({ last: window.__explorer.state.engine.last === window.__explorer.state.engine.mod, fast: window.__explorer.state.engine.fast })), { last: true, fast: null });

  const sc = big(fastEvents + 500);
  await page.evaluate(([k, s]) => {
    localStorage.clear();
    localStorage.setItem(k, JSON.stringify({ scenario: s, rules: 'post-cr' }));
  }, [KEY, sc]);
  await page.reload();
  await page.waitForSelector('html[data-ready="yes"]', { timeout: 60000 });
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
