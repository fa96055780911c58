// The reveal.js example (docs/reveal-example.html, issue 15): the deck's fragments advance the
// embedded explorer key step by key step through the host control API, and back; it loads
// nothing from the network (reveal.js comes from node_modules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, ready } from '../harness.mjs';

const env = useBrowser();

for (const late of [false, true]) {
  // late: the deck's script runs only after the explorer said "ready" (a first visit draws
  // without waiting for its engine, so on a slow deck it comes first): the deck asks for the
  // state and goes on from the answer.
  test(`the reveal.js deck advances the explorer with its fragments, offline${late ? ', when its script starts after the explorer is ready' : ''}`, (t) => deck(t, late));
}

async function deck(t, late) {
  const { page, errors } = await newPage(t, env, { viewport: { width: 1280, height: 800 } });
  const outside = [];
  let release = () => {};
  const held = late ? new Promise((r) => (release = r)) : null;
  await page.route('**/*', async (route) => {
    const u = new URL(route.request().url());
    if (held && u.pathname === '/docs/reveal-example.js') await held;
    if (u.origin === env.origin || u.protocol === 'data:') return route.continue();
    outside.push(u.href);
    return route.abort();
  });
  await page.goto(`${env.origin}/docs/reveal-example.html`, { waitUntil: late ? 'commit' : 'load' });
  if (late) {
    const f = await (await page.waitForSelector('#explorer', { state: 'attached' })).contentFrame();
    await f.waitForSelector('html[data-ready="yes"]', { state: 'attached', timeout: 30000 });
    await f.waitForTimeout(200); // its "ready" and first state have been posted to no listener
    release();
  }
  await page.waitForFunction(() => window.__deck?.isReady());
  const frame = await (await page.waitForSelector('#explorer')).contentFrame();
  await ready(frame);
  const cursor = () => frame.evaluate(() => window.__explorer.state.cursor);
  // The key stops the explorer's own key-step buttons would visit.
  const stops = await frame.evaluate(() => {
    const steps = window.__explorer.state.trace.steps;
    const out = [];
    let prevT = -1;
    for (let i = 0; i < steps.length; i++) {
      if (steps[i].key === undefined) continue;
      if (steps[i].at_ms === prevT && out.length) out[out.length - 1] = i + 1;
      else out.push(i + 1);
      prevT = steps[i].at_ms;
    }
    return out;
  });
  await page.keyboard.press('ArrowRight'); // to the explorer's slide
  await page.waitForFunction(() => window.__deck.getIndices().h === 1);
  await page.waitForFunction(() => document.getElementById('explorer-state').textContent.startsWith('step'));
  const c0 = await cursor();
  for (let k = 0; k < 3; k++) {
    const cur = await cursor();
    const want = stops.find((s) => s > cur);
    await page.keyboard.press('ArrowRight'); // the next fragment: the next key step
    await frame.waitForFunction((c) => window.__explorer.state.cursor === c, want);
  }
  const c3 = await cursor();
  assert.ok(c3 > c0, `the explorer moved on (${c0} → ${c3})`);
  assert.match(await page.textContent('#explorer-state'), new RegExp(`^step ${c3} of \\d+ · PF `));
  await page.keyboard.press('ArrowLeft'); // hide the last fragment: one key step back
  await frame.waitForFunction((c) => window.__explorer.state.cursor < c, c3);
  assert.deepEqual(outside, [], 'nothing from the network');
  assert.deepEqual(errors, []);
}
