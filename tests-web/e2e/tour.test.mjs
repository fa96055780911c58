// Tours (issue 15): record a tour in the page, share it, reopen the link, play it in presenter
// mode with the clicker keys; a stop whose step an edit removed says so; hostile captions are
// shown literally; a version 1 file still opens, a version 2 file with a tour round-trips
// through the file and the offline file; the engine names the field of a bad tour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useBrowser, openExplorer, newPage, ready, pick, axe, ROOT } from '../harness.mjs';

const env = useBrowser();
const HOSTILE = '<img src=x onerror="window.__pwned=1">\n<script>window.__pwned=2</script> & &amp; “quotes”';

/** Record a stop at the step the page is on, with this caption. */
async function addStop(page, caption) {
  await page.fill('#tour-caption', caption);
  await page.click('#tour-add');
  await page.waitForFunction((c) => [...document.querySelectorAll('#tour-stops .tour-cap')].some((e) => e.textContent === c), caption);
}
const cursor = (page) => page.evaluate(() => window.__explorer.state.cursor);
const stopText = (page) => page.evaluate(() => ({ n: document.querySelector('#tour-box .tour-n')?.textContent, text: document.querySelector('#tour-box .tour-text')?.textContent, stop: document.querySelector('#tour-box')?.dataset.stop }));

test('record a tour (add, edit, reorder, delete), share it, reopen the link, play it in presenter mode with PageDown/PageUp', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  // The tour module is not loaded until it is used.
  assert.equal(await page.evaluate(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('/tour.js'))), false, 'tour.js not loaded at start');
  await page.click('#file-menu summary');
  await page.click('#tour-edit');
  await page.waitForSelector('#tour-editor:not([hidden])');
  // Without a step (the playhead before the first one): the page says to go to one.
  await page.evaluate(() => window.__explorer.api.stepTo(0));
  await page.click('#tour-add');
  assert.match(await page.textContent('#tour-error'), /Go to a step first/);
  const keyed = [];
  for (let k = 0; k < 3; k++) {
    await page.click('#next-key');
    keyed.push(await cursor(page));
    await addStop(page, `stop ${k + 1}: ${k === 1 ? HOSTILE : 'plain'}`);
  }
  // Edit stop 3's caption, move it up, delete the then-last one.
  await page.click('#tour-stops li[data-stop="2"] [data-act="edit"]');
  assert.equal(await page.inputValue('#tour-caption'), 'stop 3: plain');
  await page.fill('#tour-caption', 'stop 3, edited');
  await page.selectOption('#tour-hl', 'panel:store');
  await page.click('#tour-add');
  await page.waitForFunction(() => document.querySelector('#tour-stops li[data-stop="2"] .tour-cap')?.textContent === 'stop 3, edited');
  await page.click('#tour-stops li[data-stop="2"] [data-act="up"]');
  await page.waitForFunction(() => document.querySelector('#tour-stops li[data-stop="1"] .tour-cap')?.textContent === 'stop 3, edited');
  // One more stop, then delete it again.
  await page.click('#next-key');
  await addStop(page, 'to be deleted');
  await page.click('#tour-stops li[data-stop="3"] [data-act="delete"]');
  await page.waitForFunction(() => document.querySelectorAll('#tour-stops li[data-stop]').length === 3);
  const tour = await page.evaluate(() => window.__explorer.state.scenario.tour);
  const version = await page.evaluate(() => window.__explorer.state.scenario.version);
  assert.equal(version, 2, 'a scenario with a tour is version 2');
  assert.deepEqual(tour.stops.map((s) => s.caption), ['stop 1: plain', 'stop 3, edited', `stop 2: ${HOSTILE}`]);
  assert.deepEqual(tour.stops[1].highlight, { panel: 'store' });
  // Preview in the page: stop 1, the playhead on its step.
  await page.click('#tour-preview');
  await page.waitForSelector('#tour-box:not([hidden])');
  assert.equal(await cursor(page), keyed[0]);
  assert.equal((await stopText(page)).text, 'stop 1: plain');

  // Share, reopen in presenter mode with ?tour.
  const link = await page.evaluate(() => window.__explorer.shareLink());
  const hash = link.slice(link.indexOf('#'));
  const { page: p2, errors: e2 } = await newPage(t, env);
  await p2.goto(`${env.base}?present&tour${hash}`);
  await ready(p2);
  await p2.waitForSelector('#tour-box:not([hidden])');
  assert.ok(await p2.evaluate(() => document.documentElement.classList.contains('present')), 'presenter mode');
  assert.deepEqual(await p2.evaluate(() => window.__explorer.state.scenario.tour), tour, 'the tour survives the link');
  assert.deepEqual(await stopText(p2), { n: 'stop 1 of 3', text: 'stop 1: plain', stop: '0' });
  assert.equal(await cursor(p2), keyed[0]);
  await p2.keyboard.press('PageDown');
  assert.deepEqual(await stopText(p2), { n: 'stop 2 of 3', text: 'stop 3, edited', stop: '1' });
  assert.equal(await cursor(p2), keyed[2], 'PageDown: the next stop, not the next key step');
  assert.ok(await p2.evaluate(() => document.querySelector('.queue').classList.contains('tour-hl')), 'the store panel is highlighted');
  await p2.keyboard.press('PageDown');
  const s3 = await stopText(p2);
  assert.equal(s3.text, `stop 2: ${HOSTILE}`, 'the hostile caption is shown literally');
  assert.equal(await p2.evaluate(() => document.querySelector('#tour-box .tour-text').children.length), 0, 'no markup in the caption');
  assert.equal(await p2.evaluate(() => window.__pwned), undefined);
  assert.equal(await cursor(p2), keyed[1]);
  await p2.keyboard.press('PageUp');
  assert.equal((await stopText(p2)).stop, '1');
  assert.equal(await cursor(p2), keyed[2]);
  await p2.keyboard.press('PageUp');
  await p2.keyboard.press('PageUp');
  assert.equal((await stopText(p2)).stop, '0', 'PageUp stays at the first stop');
  assert.deepEqual(e2, []);
  assert.deepEqual(errors, []);
});

test('a stop whose step disappears after an edit says so (list and player); the others still play', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  // A stop at a chat message's "stored" step (that message's own steps) and one at the BYE.
  const tr = await page.evaluate(() => {
    const st = window.__explorer.state;
    const sc = st.scenario;
    const i = sc.events.findIndex((e, k) => e.kind === 'message' && k > sc.events.findIndex((x) => x.kind === 'bye'));
    const s = st.trace.steps.find((x) => x.event === i && x.queue_len > 0) || st.trace.steps.find((x) => x.event === i);
    const bye = st.trace.steps.find((x) => x.key !== undefined);
    return { i, sid: s.sid, bye: bye.sid };
  });
  await page.evaluate((x) => {
    const sc = window.__explorer.state.scenario;
    window.__explorer.load({ ...sc, version: 2, tour: { title: 'Gone', stops: [{ step: x.bye, caption: 'the BYE' }, { step: x.sid, caption: 'that message' }] } });
  }, tr);
  await page.waitForSelector('#tour-start');
  // Delete the message the second stop is about.
  await page.evaluate((i) => {
    const sc = window.__explorer.state.scenario;
    window.__explorer.load({ ...sc, events: sc.events.filter((_, k) => k !== i) });
  }, tr.i);
  await page.click('#file-menu summary');
  await page.click('#tour-edit');
  await page.waitForSelector('#tour-stops li.gone');
  assert.match(await page.textContent('#tour-stops li[data-stop="1"] .tour-step'), /no longer in the ladder/);
  assert.doesNotMatch(await page.textContent('#tour-stops li[data-stop="0"] .tour-step'), /no longer/);
  await page.click('#tour-start');
  const c0 = await cursor(page);
  await page.keyboard.press('PageDown');
  assert.equal((await stopText(page)).stop, '1');
  assert.ok(await page.isVisible('#tour-box .tour-gone'));
  assert.match(await page.textContent('#tour-box .tour-gone'), /no longer in the ladder: an edit of the timeline removed it/);
  assert.equal(await cursor(page), c0, 'the playhead stays where it was');
  await page.keyboard.press('PageUp');
  assert.equal(await page.isVisible('#tour-box .tour-gone'), false);
  // While a stop is shown, an edit that removes its step is said at once (here: the BYE's).
  await page.evaluate(() => {
    const sc = window.__explorer.state.scenario;
    window.__explorer.load({ ...sc, events: sc.events.filter((e) => e.kind !== 'bye') });
  });
  assert.ok(await page.isVisible('#tour-box .tour-gone'), 'the shown stop says its step is gone');
  assert.deepEqual(errors, []);
});

test('stop switches: rules, compare, filters and a policy apply at their stop; ending the tour drops the policy', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=group-ends-while-away' });
  const sids = await page.evaluate(() => window.__explorer.state.trace.steps.filter((s) => s.key !== undefined).map((s) => s.sid));
  const pre = await page.evaluate(async () => {
    const sc = window.__explorer.state.scenario;
    // A policy other than the default runs on the second module (www/engine.js needsSecond).
    await window.__explorer.api.state.engine.loadFast();
    return window.__explorer.api.state.engine.run({ ...sc, policies: { ...(sc.policies || {}), 'q8-group-ends': 'discard' } }, 'post-cr').steps.filter((s) => s.key !== undefined).map((s) => s.sid);
  });
  const last = pre[pre.length - 1];
  await page.evaluate((x) => {
    const sc = window.__explorer.state.scenario;
    window.__explorer.load({ ...sc, version: 2, tour: { stops: [
      { step: x.first, caption: 'pre-CR, compared, no MSRP 200', rules: 'pre-cr', compare: true, filters: ['msrp-200'] },
      { step: x.last, caption: 'discard at group end', rules: 'post-cr', compare: false, filters: [], policies: { 'q8-group-ends': 'discard' }, highlight: { sentence: 'case1' } },
    ] } });
  }, { first: sids[0], last });
  await page.goto(`${env.base}?tour`);
  await ready(page);
  await page.waitForSelector('#tour-box:not([hidden])');
  let st = await page.evaluate(() => ({ rules: window.__explorer.state.rules, compare: window.__explorer.state.compare, filters: window.__explorer.state.filters }));
  assert.deepEqual(st, { rules: 'pre-cr', compare: true, filters: ['msrp-200'] });
  await page.keyboard.press('PageDown');
  st = await page.evaluate(() => ({ rules: window.__explorer.state.rules, compare: window.__explorer.state.compare, q8: window.__explorer.state.trace.policies.find((p) => p.id === 'q8-group-ends')?.value }));
  assert.deepEqual(st, { rules: 'post-cr', compare: false, q8: 'discard' });
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.policies?.['q8-group-ends']), undefined, 'the timeline itself is unchanged');
  await page.waitForSelector('#cr-case1.tour-hl');
  await page.click('#tour-end');
  assert.notEqual(await page.evaluate(() => window.__explorer.state.trace.policies.find((p) => p.id === 'q8-group-ends')?.value), 'discard');
  assert.deepEqual(errors, []);
});

test('files: a version 1 file opens unchanged; a version 2 file with a tour saves and opens again; a bad tour is refused by field', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const v1 = JSON.parse(fs.readFileSync(path.join(ROOT, 'scenarios/bye-480-path-a.json'), 'utf8'));
  await pick(page, { name: 'v1.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(v1)) });
  await page.waitForFunction((title) => window.__explorer.state.scenario?.title === title, v1.title);
  assert.deepEqual(await page.evaluate(() => window.__explorer.state.scenario), v1, 'opened as written (version 1, no tour)');
  const sid = await page.evaluate(() => window.__explorer.state.trace.steps.find((s) => s.key !== undefined).sid);
  const v2 = { ...v1, version: 2, tour: { title: 'T', stops: [{ step: sid, caption: HOSTILE, highlight: { arrow: true } }] } };
  await pick(page, { name: 'v2.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(v2)) });
  await page.waitForSelector('#tour-start');
  const [download] = await Promise.all([page.waitForEvent('download'), (async () => { await page.click('#file-menu summary'); await page.click('#save-file'); })()]);
  const saved = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(saved, v2, 'saved as opened');
  assert.equal(saved.version, 2);
  // Refused by the engine, by field name.
  const bad = { ...v2, tour: { stops: [{ step: sid, caption: 'x', filters: ['loud'] }] } };
  await pick(page, { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bad)) });
  await page.waitForFunction(() => /tour\.stops\[0\]\.filters\[0\]: "loud" is out of range/.test(document.getElementById('banner-text').textContent));
  const inV1 = { ...v1, tour: { stops: [] } };
  await pick(page, { name: 'bad1.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(inV1)) });
  await page.waitForFunction(() => /tour: a tour needs "version": 2/.test(document.getElementById('banner-text').textContent));
  assert.deepEqual(await page.evaluate(() => window.__explorer.state.scenario), v2, 'the refused files changed nothing');
  assert.deepEqual(errors, []);
});

test('the offline single file plays a tour from a share link', async (t) => {
  const file = path.join(ROOT, 'dist/cpm-deferral-explorer.html');
  if (!fs.existsSync(file)) return t.skip('dist/ not built (scripts/build-offline.sh)');
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const sid = await page.evaluate(() => window.__explorer.state.trace.steps.filter((s) => s.key !== undefined).map((s) => s.sid));
  await page.evaluate((x) => {
    const sc = window.__explorer.state.scenario;
    window.__explorer.load({ ...sc, version: 2, tour: { stops: [{ step: x.s[0], caption: 'one' }, { step: x.s[2], caption: x.h }] } });
  }, { s: sid, h: HOSTILE });
  const link = await page.evaluate(() => window.__explorer.shareLink());
  const { page: off, errors: e2 } = await newPage(t, env);
  await off.goto(`file://${file}?tour${link.slice(link.indexOf('#'))}`);
  await ready(off);
  await off.waitForSelector('#tour-box:not([hidden])');
  assert.equal((await stopText(off)).text, 'one');
  await off.keyboard.press('PageDown');
  assert.equal((await stopText(off)).text, HOSTILE);
  assert.equal(await off.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(e2, []);
  void errors;
});

test('axe: the tour editor, the tour bar and an exercise have no serious or critical violations (both themes)', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=invite-timeout-path-a' });
  await page.click('#file-menu summary');
  await page.click('#tour-edit');
  await page.waitForSelector('#tour-ready:not([hidden])');
  await page.click('#tour-ready');
  await page.waitForSelector('#tour-stops li[data-stop]');
  await page.click('#tour-preview');
  await page.waitForSelector('#tour-box .ex');
  for (const theme of ['light', 'dark']) {
    await page.evaluate((th) => { document.documentElement.dataset.theme = th; }, theme);
    const r = await axe(page, env);
    assert.deepEqual(r.serious, [], `${theme}: ${JSON.stringify(r.serious)}`);
  }
  assert.deepEqual(errors, []);
});

test('with a tour (▶ Tour in the player): no control off-screen, no sideways scroll at 1280×720 and 1366×768, normal and large type, normal and presenter mode', async (t) => {
  const { page, errors } = await newPage(t, env);
  for (const [width, height] of [[1280, 720], [1366, 768]]) {
    await page.setViewportSize({ width, height });
    for (const q of ['?preset=bye-480-path-a', '?present&preset=bye-480-path-a']) {
      await page.goto(env.base + q);
      await ready(page);
      await page.evaluate(() => window.__explorer.load({ ...window.__explorer.state.scenario, version: 2, tour: { stops: [{ step: window.__explorer.state.trace.steps[3].sid, caption: 'x' }] } }));
      await page.waitForSelector('#tour-start');
      for (const large of [false, true]) {
        if (large !== (await page.evaluate(() => document.documentElement.classList.contains('large')))) await page.evaluate(() => document.getElementById('large').click());
        const r = await page.evaluate(() => ({
          off: [...document.querySelectorAll('.player button, .player select, .player input, #pfstate')].filter((e) => e.offsetParent && e.getBoundingClientRect().right > innerWidth + 0.5).map((e) => e.id || e.tagName),
          sideways: document.documentElement.scrollWidth > innerWidth,
        }));
        assert.deepEqual(r, { off: [], sideways: false }, `${width}×${height} ${q} large=${large}`);
      }
    }
  }
  assert.deepEqual(errors, []);
});
