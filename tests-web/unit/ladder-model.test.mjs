// The ladder model (viewmodel.js buildLadder) finds the stored → delivered links and PF state bands of
// the rows in view only (linksIn, bandsIn: issue 13 item 9, a 20,000-message ladder's
// model was ~18 ms of one task). What they give for any rows must be what the whole lists gave
// (the model before this change, written out here as the reference), with and without filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { unpackTrace } from '../../www/engine.js';
import { buildLadder, overlapping, cursorAt, firstStepAtOrAfter, rowTop, rowMid, GEOM } from '../../www/viewmodel.js';
import { filterRows, FILTER_IDS } from '../../www/filters.js';
import { bigScenario } from '../big-scenario.mjs';

const root = new URL('../../', import.meta.url);
const mod = await import(new URL('pkg/export/cpm_deferral.js', root).href);
mod.initSync({ module: fs.readFileSync(new URL('pkg/export/cpm_deferral_bg.wasm', root)) });

/** The eager model of links, timers and bands as buildLadder made it before (the reference). */
function reference(trace, m, view, g = GEOM) {
  const steps = trace.steps;
  const rowOf = view ? (i) => view.rowOf[i] : (i) => i;
  const nRows = view ? view.rows.length : steps.length;
  const pfLane = m.lanes.find((l) => l.role === 'pf');
  const laneX = new Map(m.lanes.map((l) => [l.id, l.x]));
  const xOf = (id) => (laneX.has(id) ? laneX.get(id) : g.gutter);
  const last = steps.length - 1;
  const links = [];
  let slot = 0;
  for (const c of trace.chats || []) {
    if (c.stored_step == null) continue;
    const leave = c.in_flight_step ?? c.removed_step ?? null;
    const endStep = leave ?? last;
    links.push({
      chat: c.id, from: c.from, x: (pfLane ? pfLane.x : g.gutter) + Math.round(m.gap * 0.36) + (slot++ % 4) * 5,
      y1: rowMid(rowOf(c.stored_step), g), y2: leave == null ? rowTop(nRows, g) : rowMid(rowOf(endStep), g),
      fromStep: c.stored_step, toStep: endStep, fromRow: rowOf(c.stored_step), toRow: leave == null ? nRows - 1 : rowOf(endStep),
      open: leave == null, outcome: c.outcome, heldMs: (c.in_flight_ms ?? c.removed_ms ?? trace.end_ms) - c.stored_ms,
    });
  }
  const timers = [];
  const perLane = new Map();
  for (const tm of trace.timers || []) {
    const a = firstStepAtOrAfter(steps, tm.start_ms);
    const b = Math.max(a, cursorAt(steps, tm.end_ms) - 1);
    const k = perLane.get(tm.lane) || 0;
    perLane.set(tm.lane, k + 1);
    timers.push({
      ...tm, x: xOf(tm.lane) - 12 - (k % 3) * 7, y1: rowTop(rowOf(Math.min(a, last)), g) + 3, y2: rowTop(rowOf(Math.min(b, last)) + 1, g) - 3,
      fromStep: a, toStep: b, fromRow: rowOf(Math.min(a, last)), toRow: rowOf(Math.min(b, last)),
    });
  }
  const bands = [];
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i].pf_state;
    const r = rowOf(i);
    const prev = bands[bands.length - 1];
    if (prev && (prev.state === st || prev.toRow === r)) {
      prev.toStep = i;
      prev.toRow = r;
      prev.y2 = rowTop(r + 1, g);
    } else {
      bands.push({ state: st, fromStep: i, toStep: i, fromRow: r, toRow: r, y1: rowTop(r, g), y2: rowTop(r + 1, g) });
    }
  }
  return { links, timers, bands };
}

/** Bands as the renderer draws them for rows [first, last]: cut to those rows. */
const cut = (bands, first, last, g = GEOM) => bands.map((b) => `${b.state}:${Math.max(b.y1, g.top + first * g.rowH)}-${Math.min(b.y2, g.top + (last + 1) * g.rowH)}`);

function compare(trace, view, label) {
  const m = buildLadder(trace, 1100, GEOM, view);
  const ref = reference(trace, m, view);
  assert.deepEqual(m.links, ref.links, `${label}: links`);
  assert.deepEqual(m.timers, ref.timers, `${label}: timers`);
  assert.deepEqual(m.bands, ref.bands, `${label}: bands`);
  const n = m.nRows;
  // Every window of 30 rows at 40 places, the first and last rows, a window wider than the ladder.
  const windows = [[0, Math.min(n - 1, 29)], [Math.max(0, n - 30), n - 1], [0, n + 10], [n - 1, n - 1]];
  for (let k = 0; k < 40; k++) {
    const first = Math.floor((k / 40) * n);
    windows.push([first, Math.min(n - 1, first + 29)]);
  }
  for (const [first, last] of windows) {
    assert.deepEqual(m.linksIn(first, last), overlapping(ref.links, first, last), `${label}: links of rows ${first}-${last}`);
    assert.deepEqual(cut(m.bandsIn(first, last), first, last), cut(overlapping(ref.bands, first, last), first, last), `${label}: bands of rows ${first}-${last}`);
    // The links that only pass through the rows, asked of `through`, are the ones not given.
    const through = [];
    const given = m.linksIn(first, last, (x, fromStep, chat) => (through.push(chat), true));
    const all = overlapping(ref.links, first, last);
    assert.deepEqual(given.map((l) => l.chat), all.filter((l) => !(l.fromRow < first && l.toRow > last)).map((l) => l.chat));
    assert.deepEqual(through, all.filter((l) => l.fromRow < first && l.toRow > last).map((l) => l.chat));
  }
}

test('links, timers and bands of the rows in view are those of the whole lists: every preset, both rule sets, with and without filters', () => {
  for (const p of mod.presets()) {
    for (const rules of ['post-cr', 'pre-cr']) {
      const trace = unpackTrace(mod.run(p.json, rules));
      compare(trace, null, `${p.name} ${rules}`);
      for (const ids of [FILTER_IDS, ['msrp-200'], ['ims-core', 'members']]) compare(trace, filterRows(trace, ids), `${p.name} ${rules} ${ids}`);
    }
  }
});

test('the same on a 600-message timeline (stored messages passing through the rows in view)', () => {
  const trace = unpackTrace(mod.run(JSON.stringify(bigScenario(600)), 'post-cr'));
  assert.ok(trace.chats.filter((c) => c.stored_step != null).length > 100);
  compare(trace, null, '600 messages');
  compare(trace, filterRows(trace, ['msrp-200', 'members']), '600 messages, filtered');
});

