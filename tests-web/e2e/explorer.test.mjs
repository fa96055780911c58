// End-to-end tests of the explorer in Debian's Chromium (playwright-core, never a downloaded
// browser). Each test fails on any console error or page error. Screenshots go to test-results/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../scripts/serve.mjs';
import { launch, watchErrors } from '../browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'test-results');
fs.mkdirSync(SHOTS, { recursive: true });
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

/** A scenario with Carol dropping involuntarily (msrp_loss) while Alice and Bob write. */
function lossScenario(title = 'MSRP loss while the group talks') {
  return {
    format: 'cpm-deferral-scenario', version: 1, title, description: 'e2e', setup: 'established', t1_ms: 500,
    events: [
      { at_ms: 1000, kind: 'message', from: 'alice', text: 'before the loss' },
      { at_ms: 3000, kind: 'msrp_loss' },
      { at_ms: 6000, kind: 'message', from: 'bob', text: 'first while away' },
      { at_ms: 8000, kind: 'message', from: 'alice', text: 'second while away' },
      { at_ms: 30000, kind: 'register', reaction_ms: 500 },
    ],
  };
}
/** Only messages: nothing happens to Carol unless a test adds an event. */
function chatScenario() {
  const ev = [];
  for (let i = 0; i < 6; i++) ev.push({ at_ms: 2000 + i * 2000, kind: 'message', from: i % 2 ? 'bob' : 'alice', text: `message ${i + 1}` });
  ev.push({ at_ms: 30000, kind: 'register', reaction_ms: 500 });
  return { format: 'cpm-deferral-scenario', version: 1, title: 'Chat only', setup: 'established', t1_ms: 500, events: ev };
}

/** Open the page; with a scenario, start from it (as if the user had saved it). */
async function open(t, { scenario = null, rules = 'post-cr', compare = false, allow = [], viewport } = {}) {
  const page = await browser.context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors = watchErrors(page, allow);
  await page.goto(base);
  await page.waitForSelector('html[data-ready="yes"]', { timeout: 20000 }); // its own save() is done
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  await page.evaluate(([k, v]) => {
    localStorage.clear();
    if (v) localStorage.setItem(k, v);
  }, [KEY, scenario ? JSON.stringify({ scenario, rules, compare }) : null]);
  await page.reload();
  await page.waitForSelector('html[data-ready="yes"]', { timeout: 20000 });
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  t.after(async () => {
    await page.close();
  });
  return { page, errors };
}
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const trace = (page) => page.evaluate(() => {
  const tr = window.__explorer.state.trace;
  return { steps: tr.steps.map((s) => ({ from: s.from, to: s.to, label: s.label, kind: s.kind, protocol: s.protocol, at_ms: s.at_ms })), summary: tr.summary, end_ms: tr.end_ms };
});
const signature = (tr) => tr.steps.map((s) => `${s.from}>${s.to}:${s.label}`).join('|');
const waiting = async (page) => Number(await page.locator('#queue').getAttribute('data-waiting'));

test('preset: play to the end; arrows in order; the queue rises while deferred and drains on delivery', async (t) => {
  const { page, errors } = await open(t);
  const names = await page.locator('#preset option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(names.length >= 1, 'presets listed');
  const name = names.includes('bye-480-path-a') ? 'bye-480-path-a' : names[0];
  await page.selectOption('#preset', name);
  assert.notEqual((await page.locator('#preset-caption').textContent()).trim(), '', 'preset has a caption');
  await page.selectOption('#speed', '8');
  const tr = await trace(page);
  // Arrows in order: Carol's BYE, then something stored, then a delivery from the store.
  const iBye = tr.steps.findIndex((s) => s.label.startsWith('BYE') && s.from === 'carol');
  const iStore = tr.steps.findIndex((s) => s.kind === 'store');
  const iDeliver = tr.steps.findIndex((s) => s.kind === 'deliver');
  assert.ok(iBye >= 0 && iStore > iBye && iDeliver > iStore, `BYE < store < deliver: ${iBye} ${iStore} ${iDeliver}`);
  for (let i = 1; i < tr.steps.length; i++) assert.ok(tr.steps[i].at_ms >= tr.steps[i - 1].at_ms, 'time order');

  await page.keyboard.press('Home');
  await page.click('#play');
  const seen = [];
  const deadline = Date.now() + 90000;
  let midShot = false;
  while (Date.now() < deadline) {
    const w = await waiting(page);
    seen.push(w);
    if (w > 0 && !midShot) {
      await shot(page, '1-preset-deferred');
      midShot = true;
    }
    if ((await page.locator('#play').getAttribute('aria-pressed')) === 'false') break;
    await page.waitForTimeout(50);
  }
  assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'false', 'playback stopped at the end');
  assert.equal(await page.locator('#stepinfo').textContent(), `step ${tr.steps.length} / ${tr.steps.length}`);
  const max = Math.max(...seen);
  assert.ok(max > 0, 'the queue rose during deferral');
  assert.equal(seen[0], 0, 'empty at the start');
  assert.equal(await waiting(page), 0, 'drained on delivery');
  assert.ok((await page.locator('#queue li[data-state="delivered"]').count()) > 0, 'delivered rows listed');
  // The ladder shows the last steps as past (not faded) and the BYE arrow exists in the DOM when scrolled to.
  assert.equal(await page.locator('.ladder-body .step.future').count(), 0);
  await page.evaluate((i) => window.__explorer.ladder.reveal(i, true), iBye);
  await page.waitForTimeout(100);
  assert.ok(await page.locator(`#pane-main .step[data-step="${iBye}"] .lbl`).first().textContent().then((x) => x.startsWith('BYE')));
  await shot(page, '1-preset-end');
  assert.deepEqual(errors, []);
});

test('add an MSRP-loss marker by dragging it onto the timeline, move it, undo', async (t) => {
  const { page, errors } = await open(t, { scenario: chatScenario() });
  const before = await trace(page);
  await page.keyboard.press('End');
  assert.equal(await page.locator('#queue li').count(), 0, 'nothing stored without a drop');

  // Drag the palette's MSRP-loss button onto the timeline at 3 s.
  const x3 = await page.evaluate(() => window.__explorer.timelineX(3000));
  const tl = await page.locator('#timeline').boundingBox();
  const btn = await page.locator('#palette button[data-kind="msrp_loss"]').boundingBox();
  await page.mouse.move(btn.x + btn.width / 2, btn.y + btn.height / 2);
  await page.mouse.down();
  await page.mouse.move(btn.x + 40, btn.y + 40, { steps: 4 });
  await page.mouse.move(x3, tl.y + tl.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.waitForTimeout(100);
  const ev = await page.evaluate(() => window.__explorer.state.scenario.events.filter((e) => e.kind === 'msrp_loss').map((e) => e.at_ms));
  assert.equal(ev.length, 1, 'one msrp_loss event added');
  assert.ok(Math.abs(ev[0] - 3000) <= 300, `dropped near 3 s: ${ev[0]}`);
  const added = await trace(page);
  assert.notEqual(signature(added), signature(before), 'the ladder changed');
  await page.keyboard.press('End');
  const storedAdded = await page.locator('#queue li').count();
  assert.ok(storedAdded > 0, 'messages after the loss went through the store');
  await shot(page, '2-added-msrp-loss');

  // Move the marker to 9 s: fewer messages are stored.
  const marker = page.locator('.marker[data-kind="msrp_loss"]');
  const mb = await marker.boundingBox();
  const x9 = await page.evaluate(() => window.__explorer.timelineX(9000));
  await page.mouse.move(mb.x + mb.width / 2, mb.y + 6);
  await page.mouse.down();
  await page.mouse.move(mb.x + mb.width / 2 + 10, mb.y + 6, { steps: 2 });
  await page.mouse.move(x9, mb.y + 6, { steps: 10 });
  await page.mouse.up();
  await page.waitForTimeout(100);
  const moved = await trace(page);
  const at = await page.evaluate(() => window.__explorer.state.scenario.events.find((e) => e.kind === 'msrp_loss').at_ms);
  assert.ok(Math.abs(at - 9000) <= 300, `moved near 9 s: ${at}`);
  assert.notEqual(signature(moved), signature(added), 'the ladder changed again');
  await page.keyboard.press('End');
  const storedMoved = await page.locator('#queue li').count();
  assert.ok(storedMoved < storedAdded, `fewer stored after moving later: ${storedMoved} < ${storedAdded}`);
  await shot(page, '2-moved-msrp-loss');

  // Undo the move (Ctrl+Z), then undo the add; redo (Ctrl+Shift+Z) brings the add back.
  await page.locator('body').focus();
  await page.keyboard.press('Control+z');
  assert.equal(signature(await trace(page)), signature(added), 'undo of the move');
  await page.keyboard.press('Control+z');
  assert.equal(signature(await trace(page)), signature(before), 'undo of the add');
  await page.keyboard.press('Control+Shift+z');
  assert.equal(signature(await trace(page)), signature(added), 'redo');
  assert.deepEqual(errors, []);
});

test('click an arrow: the inspector shows its wire text and clause', async (t) => {
  const { page, errors } = await open(t, { scenario: lossScenario() });
  await page.keyboard.press('End');
  const tr = await trace(page);
  const i = tr.steps.findIndex((s) => s.protocol === 'SIP');
  assert.ok(i >= 0, 'a SIP step exists');
  await page.evaluate((k) => window.__explorer.ladder.reveal(k, true), i);
  await page.waitForTimeout(50);
  await page.locator(`#pane-main .step[data-step="${i}"] .hit`).click({ force: true });
  const raw = await page.locator('#insp-raw').textContent();
  assert.match(raw, /SIP\/2\.0/, 'wire text shown');
  assert.ok((await page.locator('#insp-clauses .clause').count()) >= 2, 'clause chips shown');
  const head = await page.locator('#insp-head').textContent();
  assert.ok(head.includes(tr.steps[i].label), 'header names the step');
  assert.equal(await page.locator(`#pane-main .step[data-step="${i}"]`).getAttribute('class').then((c) => c.includes('selected')), true);
  // A stored message in the queue selects its step too.
  const q = page.locator('#queue li').first();
  if (await q.count()) {
    await q.click();
    assert.ok((await page.locator('#insp-head').textContent()).length > 0);
    assert.ok(await q.evaluate((li) => li.classList.contains('selected')));
  }
  await shot(page, '3-inspector');
  assert.deepEqual(errors, []);
});

test('pre-cr loses messages that post-cr keeps', async (t) => {
  const { page, errors } = await open(t, { scenario: lossScenario() });
  const post = (await trace(page)).summary;
  assert.ok(post.stored > 0, 'post-cr stores');
  await page.check('input[name="rules"][value="pre-cr"]');
  const pre = (await trace(page)).summary;
  assert.ok(pre.lost > 0, `pre-cr loses: ${JSON.stringify(pre)}`);
  assert.ok(pre.lost + pre.stored < post.stored + post.lost + 1 || pre.stored < post.stored);
  assert.match(await page.locator('#summary').textContent(), /pre-cr/);
  // Side by side: counts and the first difference.
  await page.check('#compare');
  await page.waitForSelector('#compare-head:not([hidden])');
  assert.equal(await page.locator('#pane-alt').isVisible(), true);
  const diff = await page.locator('#first-diff').textContent();
  assert.match(diff, /First difference at/);
  const lostCells = await page.locator('#compare-head td[data-count="lost"]').allTextContents();
  assert.equal(lostCells.length, 2);
  assert.ok(lostCells.some((x) => Number(x) > 0));
  await page.click('#goto-diff');
  assert.ok((await page.locator('#insp-head').textContent()).length > 0, 'first difference selected');
  await shot(page, '4-compare');
  assert.deepEqual(errors, []);
});

test('keyboard only: pick a preset and walk through it', async (t) => {
  const { page, errors } = await open(t);
  // Tab to the preset picker and choose the second option with the keyboard.
  for (let i = 0; i < 5 && !(await page.evaluate(() => document.activeElement?.id === 'preset')); i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'preset', 'the preset picker is reachable by Tab');
  const n = await page.locator('#preset option').count();
  if (n > 2) {
    await page.keyboard.press('ArrowDown');
    await page.waitForTimeout(50);
  }
  // Leave the select (Escape-free): focus moves on with Tab; the walk keys work anywhere else.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Home');
  assert.match(await page.locator('#stepinfo').textContent(), /^step 0 \//);
  await page.keyboard.press('PageDown');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.match(await page.locator('#stepinfo').textContent(), /^step 3 \//);
  assert.equal(await page.locator('#insp-body').isVisible(), true, 'stepping selects the step');
  await page.keyboard.press('PageUp');
  assert.match(await page.locator('#stepinfo').textContent(), /^step 2 \//);
  await page.keyboard.press('ArrowLeft');
  assert.match(await page.locator('#stepinfo').textContent(), /^step 1 \//);
  // '.' plays (clicker key), space pauses.
  await page.keyboard.press('.');
  assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'true');
  await page.waitForTimeout(400);
  await page.keyboard.press(' ');
  assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'false');
  // Every control is reachable: Tab reaches the play button and a timeline marker.
  const reached = new Set();
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.getAttribute('class') || ''));
  }
  assert.ok(reached.has('play'), 'play reachable');
  assert.ok([...reached].some((c) => c.startsWith('marker')), 'a timeline marker reachable');
  // Enter on a marker opens the event editor.
  await page.locator('.marker').first().focus();
  await page.keyboard.press('Enter');
  // The editor's module is loaded on this first use (www/editor.js).
  await page.locator('#editor').waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await page.locator('#editor').isVisible(), true);
  await shot(page, '5-keyboard');
  assert.deepEqual(errors, []);
});

test('message text with HTML/script in it is shown literally and nothing executes', async (t) => {
  const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b> & "quotes"';
  const sc = lossScenario('<i>title</i><img src=y onerror="window.__pwned=3">');
  sc.events[2].text = evil;
  const { page, errors } = await open(t, { scenario: sc });
  await page.keyboard.press('End');
  const texts = await page.locator('#queue li .text').allTextContents();
  assert.ok(texts.includes(evil), `queue shows the literal text: ${JSON.stringify(texts)}`);
  assert.equal(await page.locator('#title').textContent(), sc.title);
  assert.equal(await page.locator('#queue img, #queue b, #queue script, #title i').count(), 0, 'no markup made from data');
  // The inspector's wire text carries it literally too.
  await page.locator('#queue li').first().click();
  await page.waitForTimeout(50);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing executed');
  // The editor shows it in a text field, as a value.
  const idx = await page.evaluate(() => window.__explorer.state.scenario.events.findIndex((e) => e.kind === 'message' && e.text.includes('<script>')));
  await page.locator(`.marker[data-ev="${idx}"]`).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#ed-text').inputValue(), evil);
  await shot(page, '6-html-literal');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing executed');
  assert.deepEqual(errors, []);
});

test('a Rust panic shows the error banner; reload restores the user timeline', async (t) => {
  const { page, errors } = await open(t, { scenario: chatScenario(), allow: [/panic/i, /unreachable/i, /RuntimeError/] });
  await page.click('#palette button[data-kind="group_ends"]');
  const n = await page.evaluate(() => window.__explorer.state.scenario.events.length);
  await page.evaluate(() => window.__explorer.panic());
  await page.waitForSelector('#banner:not([hidden])');
  assert.match(await page.locator('#banner-text').textContent(), /engine stopped/);
  await shot(page, '7-panic-banner');
  await page.click('#banner-reload');
  await page.waitForSelector('html[data-ready="yes"]');
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.events.length), n, 'timeline restored');
  assert.equal(await page.locator('#banner').isHidden(), true);
  assert.deepEqual(errors, []);
});

test('layouts: 1280×720 projector and laptop, large type, dark theme', async (t) => {
  const { page, errors } = await open(t, { scenario: lossScenario() });
  for (const [w, hgt, name] of [[1280, 720, 'projector-1280x720'], [1366, 768, 'laptop-1366x768'], [1024, 640, 'small-1024x640']]) {
    await page.setViewportSize({ width: w, height: hgt });
    await page.waitForTimeout(150);
    const over = await page.evaluate(() => Math.max(...[...document.querySelectorAll('body > *')].map((e) => e.getBoundingClientRect().right)) - window.innerWidth);
    assert.ok(over <= 0, `${name}: no horizontal page scroll (${over})`);
    const ladderH = await page.locator('#pane-main .ladder-scroll').evaluate((e) => e.clientHeight);
    assert.ok(ladderH >= 150, `${name}: ladder visible (${ladderH}px)`);
    await shot(page, `8-${name}`);
  }
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.click('#large');
  await page.click('#theme');
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('large')), true);
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  assert.ok(theme === 'dark' || theme === 'light');
  await shot(page, '8-large-type-theme');
  await page.click('#theme');
  await page.click('#large');
  assert.deepEqual(errors, []);
});
