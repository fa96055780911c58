// Filters of the ladder (issue 12): MSRP 200s, provisional responses, subscription traffic, IMS
// core hops, the members' legs. Hidden runs collapse into a counted row; the hidden steps stay
// reachable from the inspector and the text version; key steps are never hidden; filters live in
// share links and embed parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, ready, shot } from '../harness.mjs';

const env = useBrowser();
const shownSteps = (page) => page.evaluate(() => {
  const lad = window.__explorer.ladder;
  const m = lad.model;
  const out = [];
  for (let r = 0; r < m.nRows; r++) { const x = m.rowStep(r); if (typeof x === 'number') out.push(x); }
  return out;
});

test('filters hide kinds of steps, count them, keep key steps, and the hidden ones stay reachable', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const all = await page.evaluate(() => window.__explorer.state.trace.steps.map((s) => ({ i: s.index, p: s.protocol, l: s.label, k: s.key ?? null, from: s.from, to: s.to })));
  assert.equal((await shownSteps(page)).length, all.length);
  await page.click('#filters summary');
  await page.check('#filter-msrp-200');
  await page.waitForFunction(() => window.__explorer.ladder.model.nRows < window.__explorer.state.trace.steps.length);
  const msrp200 = all.filter((s) => s.p === 'MSRP' && s.l === '200 OK' && !s.k).map((s) => s.i);
  const shown = new Set(await shownSteps(page));
  assert.ok(msrp200.length > 10);
  assert.ok(msrp200.every((i) => !shown.has(i)), 'every MSRP 200 is hidden');
  assert.equal(shown.size, all.length - msrp200.length);
  const markers = await page.locator('#pane-main g.hidden-run .lbl').allTextContents();
  assert.ok(markers.length > 0 && markers.every((m) => /^\+\d+ MSRP 200$/.test(m)), markers.join(' | '));
  const counted = await page.evaluate(() => window.__explorer.state.view.markers.reduce((a, m) => a + m.count, 0));
  assert.equal(counted, msrp200.length, 'the markers count every hidden step');
  assert.equal(await page.locator('#filter-mark').textContent(), '1 on');
  // A hidden step from the inspector: click its run's row.
  await page.locator('#pane-main g.hidden-run').first().click();
  assert.match(await page.locator('#insp-head').textContent(), /MSRP 200 OK/);
  assert.match(await page.locator('#insp-clauses').textContent(), /hidden in the ladder by the filter “MSRP 200”/);
  // … and from the text version.
  await page.click('#text-toggle');
  await page.waitForSelector('#textview li');
  const lines = await page.locator('#textview li').allTextContents();
  assert.equal(lines.length, all.length, 'the text version lists every step');
  assert.equal(lines.filter((l) => l.endsWith('(hidden in the ladder by a filter)')).length, msrp200.length);
  // Members' legs: the member lanes go; the IMS core: the S-CSCF's hops, except key steps.
  await page.click('#filters summary'); // an outside click closed it
  await page.check('#filter-members');
  await page.check('#filter-ims-core');
  await page.check('#filter-subscription');
  await page.check('#filter-provisional');
  const lanes = await page.evaluate(() => window.__explorer.ladder.model.lanes.map((l) => l.id));
  assert.deepEqual(lanes.filter((l) => l === 'alice' || l === 'bob'), [], 'member lanes hidden');
  const left = new Set(await shownSteps(page));
  for (const s of all) {
    if (s.k) assert.ok(left.has(s.i), `key step ${s.i} (${s.k}) stays`);
    else if (['alice', 'bob'].includes(s.from) || ['alice', 'bob'].includes(s.to)) assert.ok(!left.has(s.i), `member leg ${s.i} hidden`);
    else if (s.from === 'scscf' || s.to === 'scscf') {
      // Folded: a hop into the core is drawn between Carol's client and her PF, the rest hidden.
      const e = await page.evaluate((i) => window.__explorer.state.view.ends.get(i) ?? null, s.i);
      assert.ok(!left.has(s.i) || (e && !e.includes('scscf')), `IMS hop ${s.i} hidden or folded`);
    }
    else if (s.l === 'NOTIFY') assert.ok(!left.has(s.i), `NOTIFY ${s.i} hidden`);
  }
  // The player still walks every step.
  await page.click('#text-toggle');
  await page.locator('#prev').focus();
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => window.__explorer.state.cursor), all.length);
  await shot(page, 'filters-all');
  // A share link carries the filters.
  const link = await page.evaluate(() => window.__explorer.shareLink());
  const { page: p2, errors: e2 } = await openExplorer(t, env, { query: '' });
  await p2.goto(link);
  await ready(p2);
  await p2.waitForFunction(() => window.__explorer.state.view != null);
  assert.deepEqual(await p2.evaluate(() => window.__explorer.state.filters), ['msrp-200', 'provisional', 'subscription', 'ims-core', 'members']);
  assert.deepEqual(await shownSteps(p2), [...left].sort((a, b) => a - b));
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
});

test('one keyboard toggle folds the IMS core lane: its hops become Carol–PF arrows, the rest counted markers, in the link', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const all = await page.evaluate(() => window.__explorer.state.trace.steps.map((s) => ({ i: s.index, p: s.protocol, l: s.label, from: s.from, to: s.to, k: s.key ?? null })));
  const lanesNow = () => page.evaluate(() => window.__explorer.ladder.model.lanes.map((l) => l.id));
  assert.ok((await lanesNow()).includes('scscf'), 'the IMS core lane is drawn');
  const bye = all.find((s) => s.l === 'BYE' && s.from === 'carol');
  assert.equal(bye.to, 'scscf', "Carol's BYE goes to the core");
  // Keyboard only: open the menu, reach the checkbox, toggle it with Space.
  await page.locator('#filters summary').focus();
  await page.keyboard.press('Enter');
  await page.locator('#filter-ims-core').focus();
  await page.keyboard.press('Space');
  await page.waitForFunction(() => window.__explorer.state.filters.includes('ims-core') && window.__explorer.state.view != null);
  assert.ok(!(await lanesNow()).includes('scscf'), 'the IMS core lane is folded away');
  // Her BYE is one arrow from her client to her PF (on its first hop, or on the second when
  // that one is the key step); the other hop is hidden.
  const second = all.find((s) => s.i > bye.i && s.from === 'scscf' && s.to === 'carol-pf' && s.l === 'BYE');
  const shown = new Set(await shownSteps(page));
  const drawn = [bye.i, second.i].filter((i) => shown.has(i));
  assert.equal(drawn.length, 1, 'one of the two hops is drawn');
  const arrow = await page.evaluate((i) => { const a = window.__explorer.ladder.model.arrow(i); const l = window.__explorer.ladder.model.lanes; return { x1: a.x1, x2: a.x2, carol: l.find((x) => x.id === 'carol').x, pf: l.find((x) => x.id === 'carol-pf').x }; }, drawn[0]);
  assert.deepEqual([arrow.x1, arrow.x2], [arrow.carol, arrow.pf], 'her BYE is drawn from her client to her PF');
  const markers = await page.locator('#pane-main g.hidden-run .lbl').allTextContents();
  assert.ok(markers.some((m) => /^\+\d+ IMS core$/.test(m)), markers.join(' | '));
  const hiddenCore = all.filter((s) => !shown.has(s.i) && (s.from === 'scscf' || s.to === 'scscf')).length;
  const counted = await page.evaluate(() => window.__explorer.state.view.markers.reduce((a, m) => a + m.count, 0));
  assert.ok(hiddenCore > 10);
  assert.equal(counted, hiddenCore, 'every hidden core step is counted in a marker');
  for (const i of shown) {
    const a = await page.evaluate((k) => window.__explorer.ladder.model.arrow(k), i);
    assert.ok(Number.isFinite(a.x1) && Number.isFinite(a.x2), `step ${i} is drawn on a lane`);
  }
  for (const s of all) if (s.k) assert.ok(shown.has(s.i), `key step ${s.i} stays`);
  await shot(page, 'ims-core-folded');
  // In the share link, and off again with one more press.
  const link = await page.evaluate(() => window.__explorer.shareLink());
  const { page: p2, errors: e2 } = await openExplorer(t, env, { query: '' });
  await p2.goto(link);
  await ready(p2);
  await p2.waitForFunction(() => window.__explorer.state.view != null);
  assert.deepEqual(await p2.evaluate(() => window.__explorer.state.filters), ['ims-core']);
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !window.__explorer.state.filters.includes('ims-core'));
  assert.ok((await lanesNow()).includes('scscf'));
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
});

test('embed parameter: ?embed&filter=msrp-200,members (an unknown id is ignored)', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?embed&preset=msrp-loss-path-b&filter=msrp-200,members,nonsense' });
  await page.waitForFunction(() => window.__explorer.state.view != null);
  assert.deepEqual(await page.evaluate(() => window.__explorer.state.filters), ['msrp-200', 'members']);
  const markers = await page.locator('#pane-main g.hidden-run .lbl').allTextContents();
  assert.ok(markers.some((m) => /^\+\d+ /.test(m)));
  assert.deepEqual(errors, []);
});
