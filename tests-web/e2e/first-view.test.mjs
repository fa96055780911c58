// A first visit (no saved timeline, no share link, no mode; a ?preset= link is one) draws its
// preset from the first module's answers made at build time (pkg/first-view/) and fetches no wasm until the
// visitor's first input (issue 10: the initial page within 150 KB gzip). The runs the file does
// not hold wait for the engine, are made once it is there, and come back with a message when it
// cannot load. Any other start loads the engine at once, as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, ready, KEY } from '../harness.mjs';

const env = useBrowser();

/** Empty the page's storage (the browser's context is shared by the file's tests). */
async function clean(page) {
  await page.goto(env.base);
  await ready(page);
  await page.evaluate(() => localStorage.clear());
}

/** Open a first visit (empty storage) of `query` and record every wasm request. */
async function firstVisit(t, { hold = false, query = '', viewport = { width: 1280, height: 800 } } = {}) {
  const { page, errors } = await newPage(t, env, { viewport });
  await clean(page);
  const wasm = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
  });
  let release = () => {};
  if (hold) {
    const held = new Promise((r) => (release = r));
    await page.route('**/pkg/cpm_deferral_bg.wasm', async (route) => {
      await held;
      await route.continue();
    });
  }
  await page.goto(env.base + query);
  await ready(page, 'yes', { firstView: true });
  return { page, errors, wasm, release };
}

const stepsOf = (page) => page.evaluate(() => JSON.stringify(window.__explorer.state.trace.steps));

test('a first visit draws the first preset, both rule sets and compared, with no wasm fetched', async (t) => {
  const { page, errors, wasm } = await firstVisit(t);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.engine), 'first-view');
  assert.equal(await page.evaluate(() => window.__explorer.state.engine.mod), null);
  const s = await page.evaluate(() => ({ preset: window.__explorer.state.preset, n: window.__explorer.state.trace.steps.length, rows: document.querySelectorAll('#ladders g.step').length }));
  assert.equal(s.preset, 'bye-480-path-a');
  assert.ok(s.n > 100, `${s.n} steps drawn`);
  assert.ok(s.rows > 0, 'the ladder is drawn');
  // Rules and compare are in the file too: switched from script, so no input starts the download.
  const post = await stepsOf(page);
  await page.evaluate(() => {
    const r = document.querySelector('input[name="rules"][value="pre-cr"]');
    r.checked = true;
    r.dispatchEvent(new Event('change'));
  });
  assert.equal(await page.evaluate(() => window.__explorer.state.trace.rules), 'pre-cr');
  await page.evaluate(() => {
    const c = document.getElementById('compare');
    c.checked = true;
    c.dispatchEvent(new Event('change'));
  });
  assert.ok(await page.evaluate(() => !!window.__explorer.state.comparison), 'compared');
  const pre = await stepsOf(page);
  assert.deepEqual(wasm, [], 'no wasm module was fetched');
  // The same views from the engine itself, once loaded: identical.
  await page.evaluate(() => window.__explorer.engineLoaded());
  assert.equal(await page.evaluate(() => document.documentElement.dataset.engine), 'loaded');
  await page.evaluate(() => window.__explorer.api.rerun());
  assert.equal(await stepsOf(page), pre, 'pre-CR run: the engine gives the same steps');
  await page.evaluate(() => {
    const c = document.getElementById('compare');
    c.checked = false;
    c.dispatchEvent(new Event('change'));
    const r = document.querySelector('input[name="rules"][value="post-cr"]');
    r.checked = true;
    r.dispatchEvent(new Event('change'));
  });
  assert.equal(await stepsOf(page), post, 'post-CR run: the engine gives the same steps');
  assert.deepEqual(errors, []);
});

test('the first input starts the download; stepping through the first view needs no engine', async (t) => {
  const { page, errors, wasm } = await firstVisit(t);
  const c0 = await page.evaluate(() => window.__explorer.state.cursor);
  await page.locator('#next').click();
  await page.waitForFunction(() => document.documentElement.dataset.engine === 'loaded');
  // The first module, and only it: the step's explanation comes from the first view's texts.
  await page.waitForFunction(() => !window.__explorer.state.trace.notesMissing);
  assert.deepEqual(wasm, ['/pkg/cpm_deferral_bg.wasm'], 'the first module, and no other');
  assert.equal(await page.evaluate(() => window.__explorer.state.cursor), c0 + 1, 'the step was taken');
  assert.deepEqual(errors, []);
});

test('the inspector\'s wire text and the step notes of a first visit come from its texts file: no wasm at all', async (t) => {
  const { page, errors, wasm } = await firstVisit(t);
  const texts = [];
  page.on('request', (r) => {
    if (r.url().includes('/pkg/first-view/')) texts.push(new URL(r.url()).pathname);
  });
  const i = await page.evaluate(() => window.__explorer.state.trace.steps.findIndex((s) => s.protocol === 'SIP' && s.label.startsWith('BYE')));
  assert.ok(i > 0);
  await page.evaluate((k) => window.__explorer.api.selectStep('main', k, null, true), i);
  await page.waitForFunction(() => document.querySelector('#insp-raw')?.dataset.raw === 'yes', null, { timeout: 10000 });
  assert.match(await page.locator('#insp-raw').textContent(), /^BYE sip:[\s\S]*Reason: SIP;cause=480/m);
  await page.waitForFunction(() => !window.__explorer.state.trace.notesMissing);
  const note = await page.evaluate((k) => window.__explorer.state.trace.steps[k].note, i);
  assert.ok(note.length > 20, `the step's note: ${note}`);
  await page.evaluate(() => window.__explorer.api.selectStep('main', 0, null, true));
  assert.deepEqual(texts, ['/pkg/first-view/bye-480-path-a.text.json'], 'one texts file, fetched once');
  assert.deepEqual(wasm, [], 'no wasm module');
  // The same texts as the engine's own: the second module, asked directly.
  const viaFile = await page.evaluate((k) => window.__explorer.state.engine.rawOf(window.__explorer.state.scenario, 'post-cr', k), i);
  const fromModule = await page.evaluate(async (k) => {
    const m = await window.__explorer.state.engine.loadFast();
    m.run(window.__explorer.api.scenarioJson(window.__explorer.state.scenario), 'post-cr');
    return { raw: m.raw('post-cr', k), note: m.notes('post-cr').split('\u001e')[k] };
  }, i);
  assert.equal(viaFile, fromModule.raw);
  assert.equal(note, fromModule.note);
  assert.deepEqual(errors, []);
});

test('an embedded preset is a first view: drawn, stepped and explained with no wasm', async (t) => {
  const { page, errors, wasm } = await firstVisit(t, { query: '?preset=msrp-loss-path-a&embed', viewport: { width: 1024, height: 700 } });
  assert.equal(await page.evaluate(() => window.__explorer.state.engine.mod), null);
  assert.equal(await page.evaluate(() => window.__explorer.state.trace.notesMissing), false, 'the captions have their notes');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(300);
  assert.deepEqual(wasm, [], 'no wasm module, even after keys');
  assert.deepEqual(errors, []);
});

test('another preset chosen while the engine is still loading is drawn once it is there', async (t) => {
  const { page, errors, release } = await firstVisit(t, { hold: true });
  const before = await stepsOf(page);
  await page.selectOption('#preset', 'msrp-loss-path-a');
  // Meanwhile: the first preset stays drawn, the page says why, and nothing failed.
  assert.equal(await stepsOf(page), before);
  assert.match(await page.locator('#stepinfo').textContent(), /Loading the engine/);
  assert.equal(await page.evaluate(() => window.__explorer.state.preset), 'msrp-loss-path-a');
  release();
  await page.waitForFunction(() => window.__explorer.state.trace.title !== undefined && window.__explorer.state.drawn.scenario === window.__explorer.state.scenario);
  const title = await page.evaluate(() => window.__explorer.state.trace.title);
  const want = await page.evaluate(() => JSON.parse(window.__explorer.state.presets.find((p) => p.name === 'msrp-loss-path-a').json).title);
  assert.equal(title, want);
  assert.notEqual(await stepsOf(page), before);
  assert.deepEqual(errors, []);
});

test('an edit made while the engine is loading is made once it is there, and recorded for undo', async (t) => {
  const { page, errors, release } = await firstVisit(t, { hold: true });
  const n = await page.evaluate(() => window.__explorer.state.scenario.events.length);
  await page.evaluate(() => {
    const s = window.__explorer.state.scenario;
    window.__explorer.api.edit({ ...s, events: s.events.slice(1) });
  });
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.events.length), n, 'not made before the engine is there');
  release();
  await page.waitForFunction((n) => window.__explorer.state.scenario.events.length === n - 1 && window.__explorer.state.drawn.scenario === window.__explorer.state.scenario, n);
  assert.equal(await page.locator('#undo').isDisabled(), false, 'the edit can be undone');
  assert.deepEqual(errors, []);
});

test('when the engine cannot load, the change is not made and the first view stays, with a message', async (t) => {
  const { page, errors } = await newPage(t, env, { viewport: { width: 1280, height: 800 }, allow: [/Failed to load resource/, /engine did not load/] });
  await clean(page);
  await page.route('**/pkg/cpm_deferral_bg.wasm', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto(env.base);
  await ready(page, 'yes', { firstView: true });
  const before = await stepsOf(page);
  await page.selectOption('#preset', 'msrp-loss-path-a');
  await page.waitForSelector('#banner:not([hidden])');
  assert.match(await page.locator('#banner-text').textContent(), /This change was not made: the engine did not load/);
  assert.equal(await stepsOf(page), before, 'the first view is still drawn');
  assert.equal(await page.evaluate(() => window.__explorer.state.preset), 'bye-480-path-a', 'and named');
  assert.equal(await page.locator('#preset').inputValue(), 'bye-480-path-a');
  assert.deepEqual(errors, []);
});

test('a ?preset= link is a first visit of that preset: drawn from its file, no wasm fetched', async (t) => {
  const { page, errors, wasm } = await firstVisit(t, { query: '?preset=msrp-loss-path-b' });
  assert.equal(await page.evaluate(() => window.__explorer.state.engine.mod), null);
  assert.equal(await page.evaluate(() => window.__explorer.state.preset), 'msrp-loss-path-b');
  const drawn = await stepsOf(page);
  assert.deepEqual(wasm, []);
  await page.evaluate(() => window.__explorer.engineLoaded());
  await page.evaluate(() => window.__explorer.api.rerun());
  assert.equal(await stepsOf(page), drawn, 'the engine gives the same steps');
  assert.deepEqual(errors, []);
});

test('a ?preset= link to no preset: the page says so over the first view, with no failed request', async (t) => {
  const { page, errors, wasm } = await firstVisit(t, { query: '?preset=no-such-preset' });
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  assert.equal(await page.evaluate(() => window.__explorer.state.preset), 'bye-480-path-a');
  assert.match(await page.locator('#banner-text').textContent(), /There is no preset called “no-such-preset”/);
  assert.deepEqual(wasm, []);
  assert.deepEqual(failed, []);
  assert.deepEqual(errors, [], 'no 404 in the console');
});

test('a visit with a saved timeline, a share link or a tour loads the engine at once, as before', async (t) => {
  const { page, errors } = await newPage(t, env, { viewport: { width: 1280, height: 800 } });
  await clean(page);
  await page.goto(`${env.base}?preset=invite-timeout-path-a&tour`);
  await ready(page, 'yes', { firstView: true });
  assert.equal(await page.evaluate(() => !!window.__explorer.state.engine.mod), true, 'a tour');
  await page.evaluate(([k]) => localStorage.setItem(k, JSON.stringify({ scenario: { format: 'cpm-deferral-scenario', version: 1, events: [] }, rules: 'post-cr' })), [KEY]);
  await page.goto(env.base);
  await ready(page, 'yes', { firstView: true });
  assert.equal(await page.evaluate(() => !!window.__explorer.state.engine.mod), true, 'a saved timeline');
  assert.deepEqual(errors, []);
});
