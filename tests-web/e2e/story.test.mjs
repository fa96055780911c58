// Telling the story (issue 12) in Chromium: the dropped INVITE is drawn as never arriving, the
// inspector follows a step's identity across edits, Home scrolls the ladder back to the start,
// the player walks key step to key step, and a live region says where the playhead is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, shot } from '../harness.mjs';

const env = useBrowser();
const st = (page, expr, arg) => page.evaluate(expr, arg);

test('the INVITE that never reaches Carol stops short of her lane, with a cross (invite timeout)', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=invite-timeout-path-a' });
  const i = await st(page, () => window.__explorer.state.trace.steps.findIndex((s) => s.dropped && s.label === 'INVITE'));
  assert.ok(i >= 0, 'the preset has a dropped INVITE');
  await st(page, (i) => window.__explorer.ladder.reveal(i, true), i);
  const g = page.locator(`#pane-main g.step[data-step="${i}"]`);
  await g.waitFor({ state: "attached" });
  const { x2, carolX, label, cross } = await g.evaluate((el) => {
    const lad = window.__explorer.ladder;
    const carol = lad.model.lanes.find((l) => l.id === 'carol');
    return {
      x2: Number(el.querySelector('.ln').getAttribute('x2')),
      carolX: carol.x,
      label: el.querySelector('.lbl').textContent,
      cross: el.querySelector('.lost-x')?.textContent ?? null,
    };
  });
  assert.ok(Math.abs(x2 - carolX) > 30, `the arrow ends at ${x2}, Carol's lane is at ${carolX}`);
  assert.equal(cross, '×');
  assert.match(label, /never arrives/);
  assert.equal(await g.locator('.ln').getAttribute('marker-end'), null, 'no arrow head');
  assert.deepEqual(errors, []);
});

test('the inspector follows the step, not its index, when an earlier event is deleted', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const i = await st(page, () => window.__explorer.state.trace.steps.findIndex((s) => s.label === 'REGISTER'));
  await st(page, (i) => window.__explorer.api.selectStep('main', i, null, true), i);
  assert.match(await page.locator('#insp-head').textContent(), new RegExp(`^#${i} .*REGISTER`));
  // Delete the first event (a message at 2 s) from the timeline with the keyboard.
  await page.locator('.marker[data-ev="0"]').focus();
  await page.keyboard.press('Delete');
  await page.waitForFunction((n) => window.__explorer.state.trace.steps.findIndex((s) => s.label === 'REGISTER') !== n, i);
  const head = await page.locator('#insp-head').textContent();
  assert.match(head, /REGISTER/, `still the REGISTER: ${head}`);
  assert.doesNotMatch(head, new RegExp(`^#${i} `), 'with its new index');
  // Delete the REGISTER's own event: the inspector says the step is gone.
  const reg = await st(page, () => window.__explorer.state.scenario.events.findIndex((e) => e.kind === 'register'));
  await page.locator(`.marker[data-ev="${reg}"]`).focus();
  await page.keyboard.press('Delete');
  await page.waitForFunction(() => !window.__explorer.state.trace.steps.some((s) => s.label === 'REGISTER'));
  assert.equal(await page.locator('#insp-body').isHidden(), true);
  assert.match(await page.locator('#insp-empty').textContent(), /REGISTER\) is no longer in the ladder/);
  assert.deepEqual(errors, []);
});

for (const present of [false, true]) {
  test(`Home scrolls the ladder back to the start${present ? ' (presenter mode)' : ''}`, async (t) => {
    const { page, errors } = await openExplorer(t, env, { query: `?preset=showcase-invite-timeout${present ? '&present' : ''}`, viewport: { width: 1280, height: 720 } });
    if (present) await page.waitForSelector('.present-bar');
    if (!present) await page.locator('#prev').focus();
    await page.keyboard.press('End');
    const scroll = () => page.locator('#pane-main .ladder-scroll').evaluate((e) => e.scrollTop);
    await page.waitForFunction(() => document.querySelector('#pane-main .ladder-scroll').scrollTop > 100);
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.querySelector('#pane-main .ladder-scroll').scrollTop === 0, null, { timeout: 3000 }).catch(() => {});
    assert.equal(await scroll(), 0);
    assert.equal(await st(page, () => window.__explorer.state.cursor), 0);
    // The first rows are drawn.
    assert.ok(await page.locator('#pane-main g.step[data-step="0"]').count() === 1);
    assert.deepEqual(errors, []);
  });
}

test('key steps: ⏭ and Shift+→ walk the story, a live region says each step', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const keyTitles = await st(page, () => window.__explorer.state.trace.steps.filter((s) => s.key !== undefined).map((s) => s.key));
  assert.ok(keyTitles.length >= 6, keyTitles.join(' | '));
  await page.click('#next-key');
  let s = await st(page, () => { const x = window.__explorer.state; return JSON.parse(JSON.stringify(x.trace.steps[x.cursor - 1])); });
  assert.match(s.key, /^Trigger: Carol's BYE/);
  assert.match(await page.locator('#announce').textContent(), /Key step: Trigger: Carol's BYE/);
  assert.equal(await page.locator('#announce').getAttribute('aria-live'), 'polite');
  await page.locator('#pane-main .ladder-scroll').focus();
  await page.keyboard.press('Shift+ArrowRight');
  s = await st(page, () => { const x = window.__explorer.state; return JSON.parse(JSON.stringify(x.trace.steps[x.cursor - 1])); });
  assert.equal(s.pf_state, 'Deferred');
  await page.keyboard.press('Shift+ArrowLeft');
  assert.match(await st(page, () => { const x = window.__explorer.state; return x.trace.steps[x.cursor - 1].key; }), /^Trigger/);
  // A single step is announced too, with the PF's state in words (not "DeliveringA").
  await page.keyboard.press('ArrowRight');
  assert.match(await page.locator('#announce').textContent(), /^Step \d+ of \d+: Carol's PF to IMS core, SIP 200 OK\. PF Active, store 0\.$/);
  let n = 0;
  while (await st(page, () => window.__explorer.state.cursor < window.__explorer.state.trace.steps.length) && n < 40) {
    await page.click('#next-key');
    n++;
  }
  assert.ok(n <= 14, `${n} presses to the end`);
  assert.doesNotMatch(await page.locator('#pfstate').textContent(), /DeliveringA|DeliveringB/);
  await shot(page, 'story-key-steps');
  assert.deepEqual(errors, []);
});

test('closing summary at the end: normal mode (with compare: both rule sets) and embed mode', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=invite-timeout-path-a' });
  assert.equal(await page.locator('#closing').isHidden(), true);
  await page.locator('#prev').focus();
  await page.keyboard.press('End');
  const text = await page.locator('#closing').textContent();
  assert.match(text, /^End of the story\. With the CR \(post-CR\): 3 messages stored for Carol, 3 delivered from the store, 0 lost; \d+ delivered live\.$/);
  await page.check('#compare');
  await page.locator('#prev').focus();
  await page.keyboard.press('End');
  assert.match(await page.locator('#closing').textContent(), /post-CR\): 3 messages stored .* Before the CR \(pre-CR\): 0 messages stored for Carol, 0 delivered from the store, 3 lost/);
  await page.keyboard.press('Home');
  assert.equal(await page.locator('#closing').isHidden(), true);
  const { page: emb, errors: e2 } = await openExplorer(t, env, { query: '?embed&preset=bye-480-path-b' });
  await emb.waitForSelector('.embed-bar');
  await emb.locator('#pane-main .ladder-scroll').focus();
  await emb.keyboard.press('End');
  await emb.locator('#prev').focus();
  await emb.keyboard.press('End');
  assert.match(await emb.locator('#caption .cap-closing').textContent(), /^End of the story\. With the CR \(post-CR\): 3 messages stored for Carol, 3 delivered/);
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
});

test('a first visit leads: what this is, a clear first step, dismissible and remembered', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '' });
  const lead = page.locator('#lead');
  await lead.waitFor();
  assert.match(await lead.textContent(), /Participating Function keeps Carol’s place .* Press ▶ to play/);
  // The start is not a faded wall: nothing is drawn as "future" while the playhead is at 0.
  assert.equal(await page.locator('#pane-main g.step').count() > 10, true);
  assert.equal(await page.locator('#pane-main g.step.future').count(), 0);
  await page.click('#lead-start');
  await lead.waitFor({ state: 'detached' });
  const s = await page.evaluate(() => { const x = window.__explorer.state; return JSON.parse(JSON.stringify(x.trace.steps[x.cursor - 1])); });
  assert.ok(s.key, 'the first key step');
  assert.ok(await page.locator('#pane-main g.step.future').count() > 0, 'now the rest is to come');
  await page.reload();
  await page.waitForSelector('html[data-ready="yes"]');
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  assert.equal(await page.locator('#lead').count(), 0, 'remembered');
  // The × dismisses it too.
  await page.evaluate(() => localStorage.removeItem('cpm-deferral-explorer:lead-seen'));
  await page.reload();
  await page.waitForSelector('#lead');
  await page.click('#lead-close');
  await page.reload();
  await page.waitForSelector('html[data-ready="yes"]');
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  assert.equal(await page.locator('#lead').count(), 0);
  assert.deepEqual(errors, []);
});

test('a 640×400 embed keeps a usable ladder: most of the height, every lane across, no sideways scroll', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?embed&preset=bye-480-path-a', viewport: { width: 640, height: 400 } });
  await page.waitForSelector('.embed-bar');
  await page.waitForTimeout(100);
  const m = await page.evaluate(() => {
    const sc = document.querySelector('#pane-main .ladder-scroll');
    return { rows: sc.clientHeight - 44, across: sc.scrollWidth <= sc.clientWidth + 1, page: document.documentElement.scrollWidth <= innerWidth };
  });
  assert.ok(m.rows >= 200, `${m.rows} px of ladder rows`);
  assert.ok(m.across, 'every lane in view');
  assert.ok(m.page, 'no sideways scroll');
  await page.locator('#pane-main .ladder-scroll').focus();
  await page.keyboard.press('Shift+ArrowRight');
  assert.match(await page.locator('#caption .cap-key').textContent(), /Trigger/);
  await shot(page, 'embed-640x400');
  assert.deepEqual(errors, []);
});

test('labels do not collide (timer names clear of notes and arrow labels) and no raw state name reaches the screen', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a', viewport: { width: 1280, height: 720 } });
  const found = await page.evaluate(async () => {
    const ex = window.__explorer;
    const clash = [];
    const raw = [];
    for (const p of ex.state.presets) {
      ex.load(JSON.parse(p.json));
      await new Promise((r) => setTimeout(r, 30));
      const lad = ex.ladder;
      for (let top = 0; top < lad.model.height; top += 250) {
        lad.scroll.scrollTop = top;
        lad._readTop = true;
        lad.render(true);
        const timers = [...lad.gRows.querySelectorAll('.timer text')].map((e) => [e.textContent, e.getBoundingClientRect()]);
        const labels = [...lad.gRows.querySelectorAll('.step .lbl')].map((e) => [e.textContent, e.getBoundingClientRect()]);
        for (const [a, r] of timers) for (const [b, q] of labels) {
          if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1 && q.top < r.bottom - 1) clash.push(`${p.name}: "${a}" on "${b}"`);
        }
        const shown = `${lad.gRows.textContent} ${document.getElementById('pfstate').textContent}`;
        for (const m of shown.matchAll(/\b(DeliveringA|DeliveringB|EndedWithBacklog)\b/g)) raw.push(`${p.name}: ${m[0]}`);
      }
    }
    return { clash: [...new Set(clash)], raw: [...new Set(raw)] };
  });
  assert.deepEqual(found.clash, []);
  assert.deepEqual(found.raw, []);
  // The "answer delay" timer of Carol's client and the "alerting" note of the same moment.
  assert.deepEqual(errors, []);
});
