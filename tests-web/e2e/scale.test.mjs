// Scrubbing a big timeline (3,000 messages, ~26,000 steps): the ladder keeps the cursor's row
// in view with only the rows in view in the DOM, the store panel shows what the view model says,
// and a playhead move reads no layout after the page's own writes (such a read forces a
// synchronous style + layout; the timings themselves live in the benchmark, not here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, shot } from '../harness.mjs';
import { bigScenario } from '../big-scenario.mjs';

const env = useBrowser();


/**
 * In the page: count what a call does that forces a synchronous layout. Layout reads
 * (getBoundingClientRect, scrollTop, clientHeight, …) during the call, and scrollTop writes
 * after the call has changed the DOM (the write needs an up-to-date layout). A MutationObserver's
 * takeRecords() tells, synchronously, whether the DOM has changed since the call began.
 */
function installLayoutProbe() {
  const probe = { on: false, reads: [], latewrites: 0, mo: new MutationObserver(() => {}) };
  probe.mo.observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  const count = (name) => {
    if (probe.on) probe.reads.push(name);
  };
  const wrapGetter = (proto, name) => {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    Object.defineProperty(proto, name, {
      ...d,
      get() {
        count(name);
        return d.get.call(this);
      },
    });
  };
  for (const n of ['scrollTop', 'scrollLeft', 'scrollHeight', 'scrollWidth', 'clientHeight', 'clientWidth', 'clientTop', 'clientLeft']) wrapGetter(Element.prototype, n);
  for (const n of ['offsetHeight', 'offsetWidth', 'offsetTop', 'offsetLeft', 'innerText']) wrapGetter(HTMLElement.prototype, n);
  for (const n of ['getBoundingClientRect', 'getClientRects']) {
    const f = Element.prototype[n];
    Element.prototype[n] = function (...a) {
      count(n);
      return f.apply(this, a);
    };
  }
  const gcs = window.getComputedStyle;
  window.getComputedStyle = function (...a) {
    count('getComputedStyle');
    return gcs.apply(this, a);
  };
  const st = Object.getOwnPropertyDescriptor(Element.prototype, 'scrollTop');
  Object.defineProperty(Element.prototype, 'scrollTop', {
    ...st,
    set(v) {
      if (probe.on && probe.mo.takeRecords().length) probe.latewrites++;
      st.set.call(this, v);
    },
  });
  /** Run fn with the probe on: returns what it counted. */
  probe.run = (fn) => {
    probe.mo.takeRecords();
    probe.reads = [];
    probe.latewrites = 0;
    probe.on = true;
    try {
      fn();
    } finally {
      probe.on = false;
    }
    return { reads: probe.reads, latewrites: probe.latewrites };
  };
  window.__probe = probe;
}

/** After the next frame (and its rAF callbacks: the ladder's scroll handler). */
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0)))));

/** What the page shows against what the view model says, for the main ladder and the store panel. */
const check = (page) => page.evaluate(async () => {
  const vm = await import('./viewmodel.js');
  const ex = window.__explorer;
  const s = ex.state;
  const lad = ex.ladder;
  const out = { cursor: s.cursor, t: s.t };
  // The ladder: the cursor's row is drawn and inside the scroll viewport (below the sticky head).
  const steps = [...lad.gRows.querySelectorAll('g.step')].map((g) => Number(g.dataset.step));
  out.rows = steps.length;
  out.ladderRowDrawn = s.cursor === 0 || steps.includes(s.cursor - 1);
  const sc = lad.scroll.getBoundingClientRect();
  const head = lad.head.getBoundingClientRect();
  const row = s.cursor > 0 ? lad.gRows.querySelector(`g.step[data-step="${s.cursor - 1}"] .hit, g.step[data-step="${s.cursor - 1}"] .box`) : null;
  if (row) {
    const r = row.getBoundingClientRect();
    out.ladderRowInView = r.top >= head.bottom - 1 && r.bottom <= sc.bottom + 1;
  } else {
    out.ladderRowInView = s.cursor === 0;
  }
  // Rows drawn cover the viewport: the first and last drawn rows reach beyond its edges.
  const g = lad.geom;
  const top = lad.scroll.scrollTop;
  const viewH = lad.scroll.clientHeight - (head.bottom - head.top);
  const firstVisible = Math.max(0, Math.floor((top - g.top) / g.rowH));
  const lastVisible = Math.min(s.trace.steps.length - 1, Math.floor((top + viewH - g.top) / g.rowH));
  out.covers = steps.length > 0 && Math.min(...steps) <= firstVisible && Math.max(...steps) >= lastVisible;
  // At t = 0 nothing is faded yet (issue 12: the start is not a faded wall).
  out.future = [...lad.gRows.querySelectorAll('g.step')].every((e) => e.classList.contains('future') === (s.t > 0 && Number(e.dataset.step) >= s.cursor));
  out.playhead = Number(lad.playhead.getAttribute('y1')) === g.top + s.cursor * g.rowH;
  // The store panel: the first 200 rows of queueAt, in order, with their states; the line
  // counting the others; the counts.
  const q = vm.queueAt(s.trace, s.cursor);
  const selChat = s.sel?.side === 'main' ? s.sel.chat : null;
  const want = q.rows.slice(0, 200).map((r) => `${r.chat}:${r.state}`);
  const extra = q.rows.length > 200 && selChat != null ? q.rows.slice(200).find((r) => r.chat === selChat) : null;
  if (extra) want.push(`${extra.chat}:${extra.state}`);
  const lis = [...document.querySelectorAll('#queue > li')];
  out.queueMatches = JSON.stringify(lis.filter((li) => !li.classList.contains('more')).map((li) => `${li.dataset.chat}:${li.dataset.state}`)) === JSON.stringify(want);
  out.queueRows = lis.length;
  const more = lis.findIndex((li) => li.classList.contains('more'));
  out.moreOk = q.rows.length > 200
    ? more === 200 && lis[more].textContent.includes(`${q.rows.length - 200} more`)
    : more === -1;
  out.countOk = document.getElementById('queue-count').textContent === `${q.waiting} waiting (${q.stored} stored, ${q.inFlight} in flight) · ${q.delivered} delivered`;
  out.waiting = q.waiting;
  out.held = q.rows.length;
  const shownSel = selChat != null && (extra || q.rows.slice(0, 200).some((r) => r.chat === selChat)) ? String(selChat) : '';
  out.selectedOk = lis.filter((li) => li.classList.contains('selected')).map((li) => li.dataset.chat).join() === shownSel;
  out.emptyOk = document.getElementById('queue-empty').hidden === lis.length > 0;
  return out;
});

function assertView(v, label, { cursorInView = true } = {}) {
  if (cursorInView) {
    assert.ok(v.ladderRowDrawn, `${label}: the cursor's row is drawn (cursor ${v.cursor})`);
    assert.ok(v.ladderRowInView, `${label}: the cursor's row is in the ladder's viewport`);
  }
  assert.ok(v.covers, `${label}: the rows drawn cover the viewport`);
  assert.ok(v.rows > 0 && v.rows <= 200, `${label}: ${v.rows} step rows in the DOM (only those in view)`);
  assert.ok(v.future, `${label}: rows at or after the cursor are marked future, the others not`);
  assert.ok(v.playhead, `${label}: the ladder's playhead is below the cursor's row`);
  assert.ok(v.queueMatches, `${label}: the store panel lists queueAt's first 200 rows in order, with their states`);
  assert.ok(v.moreOk, `${label}: the '… and N more' line (${v.held} held)`);
  assert.ok(v.countOk, `${label}: the store counts`);
  assert.ok(v.selectedOk, `${label}: the selected message is marked in the store panel`);
  assert.ok(v.emptyOk, `${label}: 'Nothing stored' only when the list is empty`);
}

/** Scrub through the timeline's own callback with the probe on; then check what is shown. */
async function scrubTo(page, frac, label) {
  const probe = await page.evaluate((f) => {
    const ex = window.__explorer;
    const t = f * ex.state.trace.end_ms;
    return window.__probe.run(() => ex.timeline.cb.onScrub(t, false));
  }, frac);
  assert.deepEqual(probe.reads, [], `${label}: a playhead move reads no layout`);
  assert.equal(probe.latewrites, 0, `${label}: the ladder scrolls before anything is drawn`);
  await settle(page);
  const v = await check(page);
  assertView(v, label);
  return v;
}

const FRACS = [0.05, 0.5, 0.2, 0.45, 0.55, 0.8, 0.7, 0.95, 0.3, 0.6, 0.999, 0];

test('3,000 messages: scrubbing keeps the cursor in view, the ladder virtualised and the store panel right, without forced layouts', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: bigScenario(3000) });
  await page.evaluate(installLayoutProbe);
  const info = await page.evaluate(() => ({ steps: window.__explorer.state.trace.steps.length, stored: window.__explorer.state.trace.summary.stored }));
  assert.ok(info.steps > 20000, `a big trace (${info.steps} steps)`);
  assert.ok(info.stored > 400, `more held than the panel lists (${info.stored} stored)`);
  let maxHeld = 0;
  for (const f of FRACS) maxHeld = Math.max(maxHeld, (await scrubTo(page, f, `t = ${f} of the span`)).held);
  assert.ok(maxHeld > 200, `the '… and N more' line was exercised (${maxHeld} held at most)`);

  // Scrubbing with the mouse on the timeline: the playhead follows the pointer.
  const span = await page.evaluate(() => window.__explorer.state.trace.end_ms);
  const xAt = (t) => page.evaluate((tt) => window.__explorer.timelineX(tt), t);
  const y = await page.evaluate(() => {
    const r = window.__explorer.timeline.bg.getBoundingClientRect();
    return r.top + r.height / 2;
  });
  await page.mouse.move(await xAt(0.2 * span), y);
  await page.mouse.down();
  for (const f of [0.3, 0.45, 0.6, 0.7]) {
    const x = await xAt(f * span);
    await page.mouse.move(x, y, { steps: 3 });
    await settle(page);
    const v = await check(page);
    assertView(v, `mouse scrub to ${f}`);
    const pxMs = span / 800; // about one pixel of the timeline, in ms
    assert.ok(Math.abs(v.t - f * span) < 2 * pxMs, `mouse scrub to ${f}: t = ${v.t}, want ≈ ${f * span}`);
  }
  await page.mouse.up();

  // Small moves (a drag): the same rows mostly stay, a few states change.
  const base = 0.68;
  for (let k = 0; k < 8; k++) await scrubTo(page, base + k * 0.002, `drag step ${k}`);

  // A selected message behind the first 200 rows is listed after the '… and N more' line, and
  // stays selected while scrubbing; clicking a row in the panel selects its step.
  await scrubTo(page, 0.6, 'before selecting');
  const sel = await page.evaluate(async () => {
    const vm = await import('./viewmodel.js');
    const s = window.__explorer.state;
    const r = vm.queueAt(s.trace, s.cursor).rows[250];
    window.__explorer.api.selectStep('main', r.step, r.chat, true);
    return r.chat;
  });
  await settle(page);
  // (Selecting reveals the selected step, not the cursor.)
  assertView(await check(page), 'a row behind the first 200 selected', { cursorInView: false });
  assert.ok(await page.evaluate((c) => {
    const lad = window.__explorer.ladder;
    const s = window.__explorer.state;
    return s.sel.chat === c && !!lad.gRows.querySelector(`g.step.selected[data-step="${s.sel.step}"]`);
  }, sel), 'the selected step is drawn, marked');
  assert.equal(await page.locator('#queue > li').nth(201).getAttribute('data-chat'), String(sel), 'listed after the line');
  for (const f of [0.62, 0.5, 0.9]) await scrubTo(page, f, `t = ${f} with a message selected`);
  await scrubTo(page, 0.6, 'back');
  const pick = page.locator('#queue > li').nth(3);
  const chat = Number(await pick.getAttribute('data-chat'));
  await pick.click();
  const picked = await page.evaluate(() => window.__explorer.state.sel);
  assert.equal(picked.chat, chat, 'a click on a store row selects its message');
  await settle(page);
  assertView(await check(page), 'after a click in the store panel', { cursorInView: false });
  await page.locator('#queue > li').nth(5).focus();
  await page.keyboard.press('Enter');
  assert.equal((await page.evaluate(() => window.__explorer.state.sel)).chat, Number(await page.locator('#queue > li').nth(5).getAttribute('data-chat')), 'Enter on a store row selects it');

  // Keyboard stepping and a taller window: still the cursor in view and the view covered.
  await page.evaluate(() => document.activeElement?.blur());
  for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
  await settle(page);
  assertView(await check(page), 'after stepping with the keyboard');
  await page.setViewportSize({ width: 1280, height: 1000 });
  await settle(page);
  await settle(page);
  assertView(await check(page), 'after the window grew taller');
  await scrubTo(page, 0.4, 'in the taller window');
  await page.setViewportSize({ width: 900, height: 600 });
  await settle(page);
  await settle(page);
  // (A resize does not scroll: the cursor's row may now be below the view, as before.)
  assertView(await check(page), 'after the window shrank', { cursorInView: false });
  await scrubTo(page, 0.85, 'in the smaller window');
  await shot(page, 'scale-3000');
  assert.deepEqual(errors, []);
});

test('3,000 messages, both rule sets: the second ladder follows the playhead too, without forced layouts', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: bigScenario(3000) });
  await page.evaluate(installLayoutProbe);
  await page.check('#compare');
  await page.waitForSelector('#pane-alt:not([hidden])');
  await settle(page);
  for (const f of [0.5, 0.1, 0.75, 0.3]) {
    await scrubTo(page, f, `compare, t = ${f}`);
    const alt = await page.evaluate(() => {
      const ex = window.__explorer;
      const lad = ex.api.altLadder;
      const c = lad.cursor;
      const g = lad.gRows.querySelector(`g.step[data-step="${c - 1}"]`);
      const sc = lad.scroll.getBoundingClientRect();
      const r = g?.getBoundingClientRect();
      return { c, drawn: !!g, inView: !!r && r.top >= sc.top && r.bottom <= sc.bottom + 1, rows: lad.gRows.querySelectorAll('g.step').length };
    });
    assert.ok(alt.drawn && alt.inView, `compare, t = ${f}: the other ladder shows its cursor's row (${JSON.stringify(alt)})`);
    assert.ok(alt.rows <= 200, `compare, t = ${f}: the other ladder is virtualised too`);
  }
  assert.deepEqual(errors, []);
});
