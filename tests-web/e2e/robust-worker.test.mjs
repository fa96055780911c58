// Issue 13, item 9: a big timeline's engine run (20,000 messages: 1-2 s) is made off the page's
// thread, with a progress line and Cancel (Escape too); the page keeps answering meanwhile;
// Cancel gives back the drawn timeline, saved as it was; a newer change supersedes a run under
// way; where a Worker cannot start, the run is made on the page's thread, still with progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { useBrowser, openExplorer, newPage, ready, pick, KEY, ROOT } from '../harness.mjs';
import { bigScenario } from '../big-scenario.mjs';

const env = useBrowser();
const file = (sc, name = 'big.json') => ({ name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(sc)) });

/** Counts animation frames and the longest gap between two, from now on. */
const watchFrames = (page) => page.evaluate(() => {
  const w = (window.__frames = { n: 0, last: performance.now(), worst: 0 });
  const f = () => {
    const now = performance.now();
    w.worst = Math.max(w.worst, now - w.last);
    w.last = now;
    w.n++;
    requestAnimationFrame(f);
  };
  requestAnimationFrame(f);
});
const saved = (page) => page.evaluate((k) => JSON.parse(localStorage.getItem(k) || 'null')?.scenario?.title ?? null, KEY);

test('item 9: a 20,000-message file runs in a worker: the page answers, progress shows, Cancel keeps the drawn timeline', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  await page.evaluate(() => window.__explorer.api.setCursor(5));
  const before = await page.evaluate(() => {
    const s = window.__explorer.state;
    return { title: s.scenario.title, steps: s.trace.steps.length, t: s.t, cursor: s.cursor, clock: document.getElementById('clock').textContent };
  });
  assert.ok(before.cursor === 5 && before.t > 0, JSON.stringify(before));
  await page.evaluate(() => window.__explorer.settled());
  const keptTitle = await saved(page);
  const big = bigScenario(19998);

  // 1. Open it and cancel with the button while it runs. The worker's script comes 3 s late
  // here, so that the run is still under way when Cancel is pressed on a fast machine.
  const late = (route) => setTimeout(() => route.continue().catch(() => {}), 3000);
  await page.route('**/engine-worker.js', late);
  await pick(page, file(big));
  await page.waitForSelector('#progress-cancel', { timeout: 10000 });
  assert.match(await page.locator('#progress-text').textContent(), /Running the engine on 20,000 events/);
  await watchFrames(page);
  // The page answers while the engine runs: frames go on, a click is handled.
  await page.click('#theme');
  await page.waitForFunction(() => window.__frames.n >= 10, null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => document.documentElement.dataset.run), 'running', 'still running after 10 frames');
  await page.click('#progress-cancel');
  await page.waitForSelector('#progress', { state: 'detached', timeout: 5000 });
  assert.match(await page.locator('#banner-text').textContent(), /cancelled: the timeline is as it was/);
  const after = await page.evaluate(() => {
    const s = window.__explorer.state;
    return { title: s.scenario.title, steps: s.trace.steps.length, t: s.t, cursor: s.cursor, clock: document.getElementById('clock').textContent };
  });
  assert.deepEqual(after, before, 'the drawn timeline stays, at the same time');
  await page.evaluate(() => window.__explorer.settled());
  assert.equal(await saved(page), keptTitle, 'the saved timeline stays');

  // 2. Escape cancels too.
  await pick(page, file(big));
  await page.waitForSelector('#progress-cancel', { timeout: 10000 });
  await page.keyboard.press('Escape');
  await page.waitForSelector('#progress', { state: 'detached', timeout: 5000 });
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), before.title);

  // 3. To the end: drawn, saved, one undo step; frames kept coming during the run.
  await page.unroute('**/engine-worker.js', late);
  await watchFrames(page);
  await pick(page, file(big));
  await page.waitForFunction(() => document.documentElement.dataset.run === 'done', null, { timeout: 120000 });
  const frames = await page.evaluate(() => window.__frames);
  console.log(`# frames during the run: ${frames.n}, longest gap ${Math.round(frames.worst)} ms; run ${JSON.stringify(await page.evaluate(() => window.__explorer.state.timings))}`);
  const done = await page.evaluate(() => ({ title: window.__explorer.state.scenario.title, steps: window.__explorer.state.trace.steps.length }));
  assert.equal(done.title, big.title);
  assert.ok(done.steps > 100000, `${done.steps} steps`);
  assert.ok(frames.n >= 10, `${frames.n} frames during the run`);
  await page.evaluate(() => window.__explorer.settled());
  assert.equal(await saved(page), big.title);
  // The wire text of a step comes from the worker that made the trace.
  await page.evaluate(() => {
    const ex = window.__explorer;
    ex.api.selectStep('main', ex.state.trace.steps.findIndex((s) => s.protocol === 'MSRP' && s.label === 'SEND'));
  });
  await page.waitForFunction(() => document.getElementById('insp-raw').dataset.raw === 'yes', null, { timeout: 10000 });
  assert.match(await page.locator('#insp-raw').textContent(), /^MSRP \S+ SEND\n/);
  // Undo goes back to the timeline before the file (a small one: at once).
  await page.click('#undo');
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), before.title);
  assert.deepEqual(errors, []);
});

test('item 9: a newer change supersedes the big run under way; an edit the engine refuses is refused at once', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: bigScenario(3000) });
  const n0 = await page.evaluate(() => window.__explorer.state.scenario.events.length);
  // Two quick edits through the editor's path: the first run is superseded, the second drawn.
  await page.evaluate(() => {
    const ex = window.__explorer;
    ex.api.edit({ ...ex.state.scenario, title: 'first' });
    ex.api.edit({ ...ex.state.scenario, title: 'second' });
  });
  await page.waitForFunction(() => document.documentElement.dataset.run === 'done', null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), 'second');
  assert.equal(await page.evaluate(() => window.__explorer.state.trace.title), 'second');
  // Refused by the engine's check before any run: nothing pending, nothing changed.
  const why = await page.evaluate(() => {
    const ex = window.__explorer;
    return ex.api.edit({ ...ex.state.scenario, events: [...ex.state.scenario.events, { at_ms: 1e13, kind: 'message', from: 'alice', text: 'x' }] });
  });
  assert.match(why, /at_ms/);
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.events.length), n0);
  assert.equal(await page.locator('#progress').count(), 0);
  assert.deepEqual(errors, []);
});

test('item 9: where a Worker cannot start, the big run is made on the page thread after its progress line shows', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: bigScenario(3000) });
  await page.route('**/engine-worker.js', (route) => route.fulfill({ status: 404, body: 'no' }));
  await page.evaluate(() => {
    const ex = window.__explorer;
    window.__seen = [];
    new MutationObserver(() => {
      const p = document.getElementById('progress-text');
      if (p) window.__seen.push(p.textContent);
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
    ex.api.edit({ ...ex.state.scenario, title: 'on the page thread' });
  });
  await page.waitForFunction(() => document.documentElement.dataset.run === 'done', null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.__explorer.state.trace.title), 'on the page thread');
  assert.ok((await page.evaluate(() => window.__seen)).some((s) => /Running the engine on 3,0\d\d events/.test(s)));
  assert.deepEqual(errors.filter((e) => !/engine-worker|worker/i.test(e)), []);
});

test('item 9: in the offline single file (blob: modules, no Worker) a big run is made on the page thread with progress', async (t) => {
  const FILE = path.join(ROOT, 'dist', 'cpm-deferral-explorer.html');
  execFileSync('node', [path.join(ROOT, 'scripts/build-offline.mjs')], { stdio: 'ignore' });
  const { page, errors } = await newPage(t, env);
  await page.route(/^https?:/, (route) => route.abort());
  await page.goto(pathToFileURL(FILE).href);
  await ready(page);
  const big = bigScenario(3000);
  await pick(page, file(big));
  await page.waitForFunction(() => document.documentElement.dataset.run === 'done', null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.__explorer.state.trace.title), big.title);
  // The wire text comes from the page's own module.
  await page.evaluate(() => {
    const ex = window.__explorer;
    ex.api.selectStep('main', ex.state.trace.steps.findIndex((s) => s.protocol === 'MSRP' && s.label === 'SEND'));
  });
  assert.match(await page.locator('#insp-raw').textContent(), /^MSRP \S+ SEND\n/);
  assert.deepEqual(errors, []);
});

test('item 9: under a strict CSP sent with every file the big run is made in the worker; with worker-src none, on the page thread', async (t) => {
  const STRICT = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";
  for (const [csp, where] of [[STRICT, 'worker'], [`${STRICT}; worker-src 'none'`, 'page']]) {
    const { page, errors } = await openExplorer(t, env, { scenario: bigScenario(3000), allow: [/Content Security Policy|worker/i] });
    await page.route(/\/(www|pkg)\//, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': csp } });
    });
    await page.reload();
    await ready(page);
    await page.evaluate(() => {
      window.__seen = [];
      new MutationObserver(() => {
        const p = document.getElementById('progress-text');
        if (p) window.__seen.push(p.textContent);
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
      const ex = window.__explorer;
      ex.api.edit({ ...ex.state.scenario, title: 'under a strict CSP' });
    });
    await page.waitForFunction(() => document.documentElement.dataset.run === 'done', null, { timeout: 60000 });
    assert.equal(await page.evaluate(() => window.__explorer.state.trace.title), 'under a strict CSP');
    const onPage = (await page.evaluate(() => window.__seen)).some((s) => /on this page's thread/.test(s));
    assert.equal(onPage, where === 'page', `${csp}: ${JSON.stringify(await page.evaluate(() => window.__seen))}`);
    assert.deepEqual(errors, [], csp);
    await page.close();
  }
});
