// Issue 13, acceptance: a property test in Chromium. 1,000 random sequences of edits (some out of
// range: 1e13, 1e308, -5, 12.5, NaN, an epoch time), undo, redo, real reloads, a second tab that
// saves, and quota exhaustion (localStorage filled and IndexedDB's quota at 0). After every
// sequence: no console or page error; the page's timeline is what a model of the accepted edits,
// undos and redos says; a refused edit changed nothing; and the last edit is recoverable (the
// saved record is the page's timeline, and after a reload the page shows it; under quota
// exhaustion the page says so and its download is the timeline).
//
// Seeded, so a failure names the seed and the sequence to replay. Many sequences share one page;
// a real reload happens only where a sequence asks for one (about one in twenty). Run by
// tests-web/e2e/robust-property-{a,b}.test.mjs, 500 sequences each (seeds 13 and 14), so each
// file stays well inside the runner's per-file timeout on a loaded machine;
// PROPERTY_SEQUENCES=N sets the count of each.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { newPage, openExplorer, ready, KEY } from './harness.mjs';

function rng(seed) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return { below: (n) => next() % n, pick: (a) => a[next() % a.length] };
}

const BASE = {
  format: 'cpm-deferral-scenario', version: 1, title: 'Property',
  members: [{ id: 'alice', name: 'Alice' }, { id: 'bob', name: 'Bob' }, { id: 'dave', name: 'Dave', in_group: false }],
  events: [
    { at_ms: 1000, kind: 'message', from: 'alice', text: 'one' },
    { at_ms: 3000, kind: 'bye', reason: 'SIP;cause=480' },
    { at_ms: 4000, kind: 'message', from: 'bob', text: 'two' },
    { at_ms: 6000, kind: 'join', member: 'dave' },
    { at_ms: 9000, kind: 'register', reaction_ms: 500 },
  ],
};
const OUT_OF_RANGE = [1733040000000, 1e13, 1e308, -5, 12.5, NaN, 2592000001];
const KINDS = ['message', 'bye', 'leave', 'unreachable', 'msrp_loss', 'rejoin', 'register', 'invite_rejected', 'group_ends'];

/** Installs the page-side helper that applies one operation and answers with the timeline. */
const install = (page) => page.evaluate(async () => {
  const m = await import('./scenario.js');
  const x = window.__explorer;
  window.__prop = (op, a, b) => {
    const s = x.state.scenario;
    let why = null;
    if (op === 'move') why = x.api.edit(m.updateEvent(s, a % s.events.length, { at_ms: b === null ? NaN : b }, { exact: true }).scenario, { selEvent: null });
    else if (op === 'add') why = x.api.edit(m.addEvent(s, m.newEvent(b, a, s)).scenario, { selEvent: null });
    else if (op === 'delete') why = x.api.edit(m.deleteEvent(s, a % s.events.length), { selEvent: null });
    else if (op === 'text') why = x.api.edit(m.updateEvent(s, a % s.events.length, { text: b }).scenario, { selEvent: null });
    else if (op === 'reset') why = x.api.edit(b, { selEvent: null });
    else if (op === 'undo') document.getElementById('undo').click();
    else if (op === 'redo') document.getElementById('redo').click();
    return { why, json: m.scenarioJson(x.state.scenario), canUndo: x.state.history.canUndo(), canRedo: x.state.history.canRedo() };
  };
});
const scenarioJson = (page) => page.evaluate(async () => (await import('./scenario.js')).scenarioJson(window.__explorer.state.scenario));
const settled = (page) => page.evaluate(() => window.__explorer.settled());
/** The page's own banner about keeping the timeline (null when hidden). Runs in the page. */
function bannerFn() {
  const b = document.getElementById('keep-banner');
  return b.hidden ? null : { text: b.querySelector('#keep-text')?.textContent || '', buttons: [...b.querySelectorAll('button')].map((x) => x.id) };
}
/** The saved record's scenario as JSON text (localStorage, or the IndexedDB pointer). Runs in the page. */
async function storedFn(k) {
  const raw = localStorage.getItem(k);
  if (raw == null) return null;
  const rec = JSON.parse(raw);
  if (rec.stored !== 'indexeddb') return JSON.stringify(rec.scenario);
  const d = await new Promise((res, rej) => { const r = indexedDB.open('cpm-deferral-explorer', 1); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  return new Promise((res) => { const q = d.transaction('saved').objectStore('saved').get('scenario'); q.onsuccess = async () => { d.close(); const v = q.result; res(v?.text ?? (v?.blob ? await v.blob.text() : null)); }; });
}
/** Every save written, then the banner and the saved record, in one round trip. Runs in the page. */
async function settledFn(k) {
  await window.__explorer.settled();
  const b = document.getElementById('keep-banner');
  const banner = b.hidden ? null : { text: b.querySelector('#keep-text')?.textContent || '', buttons: [...b.querySelectorAll('button')].map((x) => x.id) };
  const raw = localStorage.getItem(k);
  if (raw == null) return { banner, stored: null };
  const rec = JSON.parse(raw);
  if (rec.stored !== 'indexeddb') return { banner, stored: JSON.stringify(rec.scenario) };
  const d = await new Promise((res, rej) => { const r = indexedDB.open('cpm-deferral-explorer', 1); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  return new Promise((res) => { const q = d.transaction('saved').objectStore('saved').get('scenario'); q.onsuccess = async () => { d.close(); const v = q.result; res({ banner, stored: v?.text ?? (v?.blob ? await v.blob.text() : null) }); }; });
}
const bannerOf = (page) => page.evaluate(bannerFn);
const storedJson = (page) => page.evaluate(storedFn, KEY);

export async function runProperty(t, env, { sequences, seed }) {
  const SEQUENCES = Number(process.env.PROPERTY_SEQUENCES || sequences);
  const SEED = seed;
  const r = rng(SEED);
  const { page, errors } = await openExplorer(t, env, { scenario: BASE });
  await install(page);
  const { page: tab2, errors: errors2 } = await newPage(t, env);
  await tab2.goto(env.base);
  await ready(tab2);
  const cdp = await page.context().newCDPSession(page);
  t.after(() => cdp.send('Storage.overrideQuotaForOrigin', { origin: env.origin }).catch(() => {}));

  // The model: the timeline now and the undo/redo stacks of the accepted changes.
  let cur = await scenarioJson(page);
  let past = [];
  let future = [];
  const counts = { move: 0, refused: 0, add: 0, delete: 0, text: 0, undo: 0, redo: 0, reload: 0, tab: 0, quota: 0, reset: 0 };
  const base = JSON.stringify(BASE);

  const apply = async (op, a, b, where) => {
    const out = await page.evaluate(([o, x, y]) => window.__prop(o, x, y), [op, a, b]);
    if (op === 'undo' || op === 'redo') {
      const [from, to] = op === 'undo' ? [past, future] : [future, past];
      if (from.length) {
        to.push(cur);
        cur = from.pop();
      }
      counts[op]++;
    } else if (out.why) {
      counts.refused++;
    } else if (out.json !== cur) {
      past.push(cur);
      if (past.length > 200) past.shift();
      future = [];
      cur = out.json;
      counts[op]++;
    } else {
      counts[op]++;
      past.push(cur); // an edit that changed nothing is still a step to undo
      future = [];
    }
    assert.equal(out.json, cur, `${where}: ${op}(${a}, ${JSON.stringify(b)}) left ${out.json.slice(0, 200)}, the model says ${cur.slice(0, 200)}`);
    assert.equal(out.canUndo, past.length > 0, `${where}: undo ${out.canUndo}, model ${past.length}`);
    assert.equal(out.canRedo, future.length > 0, `${where}: redo ${out.canRedo}, model ${future.length}`);
  };

  for (let seq = 0; seq < SEQUENCES; seq++) {
    const where = `seed ${SEED}, sequence ${seq}`;
    const kind = r.below(100);
    const quota = kind < 3; // storage full for this sequence
    const second = kind >= 3 && kind < 8; // another tab saves during it
    const reload = kind >= 8 && kind < 13;
    if (quota) {
      counts.quota++;
      await page.evaluate(() => {
        for (let n = 6e6; n > 1000; n = Math.floor(n * 0.9)) {
          try {
            localStorage.setItem('junk', 'j'.repeat(n));
            return;
          } catch {
            /* smaller */
          }
        }
      });
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: env.origin, quotaSize: 0 });
    }
    if (JSON.parse(cur).events.length > 30 || JSON.parse(cur).events.length < 2) {
      await apply('reset', 0, BASE, where);
      counts.reset++;
    }
    for (let k = 0, n = 2 + r.below(6); k < n; k++) {
      const op = r.pick(['move', 'move', 'move', 'add', 'delete', 'text', 'undo', 'undo', 'redo']);
      if (op === 'move') {
        const bad = r.below(4) === 0;
        await apply('move', r.below(1000), bad ? r.pick(OUT_OF_RANGE) : r.below(60000), where);
      } else if (op === 'add') await apply('add', r.below(60000), r.pick(KINDS), where);
      else if (op === 'delete') await apply('delete', r.below(1000), null, where);
      else if (op === 'text') {
        const i = JSON.parse(cur).events.findIndex((e) => e.kind === 'message');
        if (i >= 0) await apply('text', i, r.pick(['hi', 'x'.repeat(2001), 'bell\u0007', '\uFFFE\uFFFF', '<img src=x onerror=alert(1)>', '']), where);
      } else await apply(op, 0, null, where);
      if (second && k === 0) {
        // The other tab saves (an edit there); this tab is told and the user chooses.
        counts.tab++;
        await settled(page);
        await tab2.evaluate(() => window.__explorer.benchMove(0, 500 + Math.floor(Math.random() * 400)));
        await tab2.evaluate(() => window.__explorer.settled());
        if (await tab2.locator('#keep-mine').isVisible()) {
          await tab2.click('#keep-mine');
          await tab2.evaluate(() => window.__explorer.settled());
        }
        await page.waitForSelector('#keep-banner:not([hidden]) #keep-mine', { timeout: 5000 });
        if (r.below(2)) {
          await page.click('#keep-mine');
        } else {
          await page.click('#keep-load');
          await page.waitForFunction(() => document.getElementById('keep-banner').hidden);
          past.push(cur);
          future = [];
          cur = await scenarioJson(page);
        }
        await settled(page);
      }
    }
    // One round trip: every save written, then the banner and the saved record.
    let { banner, stored } = await page.evaluate(settledFn, KEY);
    if (quota) {
      // Nothing can be kept: the page says so, and its download is the timeline now.
      if (cur !== stored) {
        assert.ok(banner && /cannot be kept in this browser/.test(banner.text), `${where}: quota: ${JSON.stringify(banner)}`);
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#keep-download')]);
        assert.equal(JSON.stringify(JSON.parse(fs.readFileSync(await dl.path(), 'utf8'))), JSON.stringify(JSON.parse(cur)), `${where}: the download is the timeline`);
      }
      await page.evaluate(() => localStorage.removeItem('junk'));
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: env.origin });
      // Room again: the next edit is kept and the message goes.
      await apply('move', 0, 100 + r.below(500), where);
      await settled(page);
      banner = await bannerOf(page);
      stored = await storedJson(page);
      assert.equal(banner, null, `${where}: the message went once the timeline was kept`);
    } else {
      assert.equal(banner, null, `${where}: ${JSON.stringify(banner)}`);
    }
    assert.equal(stored, cur, `${where}: the saved timeline is the page's`);
    if (reload) {
      counts.reload++;
      await page.reload();
      await ready(page);
      await install(page);
      assert.equal(await scenarioJson(page), cur, `${where}: after a reload the page shows the last edit`);
      past = [];
      future = [];
    }
    assert.deepEqual(errors, [], where);
    assert.deepEqual(errors2, [], where);
  }
  const n = SEQUENCES;
  assert.ok(counts.refused > n / 20 && counts.reload > n / 50 && counts.tab > n / 50 && counts.quota > n / 100, JSON.stringify(counts));
  assert.notEqual(cur, base, 'the timeline changed along the way');
  console.log(`# property: ${SEQUENCES} sequences, seed ${SEED}: ${JSON.stringify(counts)}`);
  return counts;
}
