import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GEOM, cursorAt, firstStepAtOrAfter, buildLadder, visibleRows, overlapping, queueAt, chatStateAt,
  rosterAt, rosterCompare, pfStateAt, firstDifference, summaryCounts, fmtMs, fmtDur, advance,
  timelineScale, layoutLanes, rowMid,
} from '../../www/viewmodel.js';
import { byeTrace } from './fixture.mjs';

test('cursorAt counts the steps at or before t', () => {
  const { steps } = byeTrace();
  assert.equal(cursorAt(steps, 0), 0);
  assert.equal(cursorAt(steps, 1000), 1);
  assert.equal(cursorAt(steps, 5010), 6); // both steps at 5010 are shown
  assert.equal(cursorAt(steps, 1e9), steps.length);
  assert.equal(firstStepAtOrAfter(steps, 5010), 4);
  assert.equal(firstStepAtOrAfter(steps, 1e9), steps.length);
});

test('lanes keep the trace order and a minimum gap', () => {
  const { lanes, gap, width } = layoutLanes(byeTrace().lanes, 300);
  assert.deepEqual(lanes.map((l) => l.id), ['carol', 'carol-pf', 'cf', 'bob', 'scscf']);
  assert.equal(gap, GEOM.minLaneGap);
  assert.ok(lanes.every((l, i) => i === 0 || l.x > lanes[i - 1].x));
  assert.ok(width >= lanes[4].x);
});

test('one arrow per step, internal steps marked, protocol classes', () => {
  const t = byeTrace();
  const m = buildLadder(t, 1200);
  const arrows = t.steps.map((_, i) => m.arrow(i));
  const bye = arrows[3];
  assert.equal(bye.cls, 'sip');
  assert.equal(bye.label, 'BYE');
  const carolX = m.lanes.find((l) => l.id === 'carol').x;
  const pfX = m.lanes.find((l) => l.id === 'carol-pf').x;
  assert.equal(bye.x1, carolX);
  assert.equal(bye.x2, pfX);
  assert.equal(arrows[0].cls, 'msrp');
  assert.equal(arrows[4].internal, true);
  assert.equal(arrows[4].cls, 'internal');
  assert.ok(arrows.every((a, i) => a.index === i && (i === 0 || a.y > arrows[i - 1].y)), 'rows go down in step order');
  assert.equal(m.height, GEOM.top * 2 + t.steps.length * GEOM.rowH);
});

test('stored messages are linked from store to replay along the PF lane', () => {
  const m = buildLadder(byeTrace(), 1200);
  assert.equal(m.links.length, 2);
  const [l2, l3] = m.links;
  assert.equal(l2.chat, 2);
  assert.equal(l2.fromStep, 8);
  assert.equal(l2.toStep, 15);
  assert.equal(l2.y1, rowMid(8));
  assert.equal(l2.y2, rowMid(15));
  assert.equal(l2.heldMs, 16000 - 8020);
  assert.notEqual(l2.x, l3.x, 'concurrent links do not overlap');
  const pfX = m.lanes.find((l) => l.role === 'pf').x;
  assert.ok(l2.x > pfX);
});

test('a message still stored at the end gets an open link to the bottom', () => {
  const t = byeTrace();
  Object.assign(t.chats[2], { in_flight_ms: null, in_flight_step: null, delivered_ms: null, delivered_step: null, outcome: 'still_stored' });
  const m = buildLadder(t, 1200);
  const l = m.links.find((x) => x.chat === 3);
  assert.equal(l.open, true);
  assert.equal(l.toStep, t.steps.length - 1);
});

test('timer spans cover their rows; PF band follows pf_state', () => {
  const m = buildLadder(byeTrace(), 1200);
  const b = m.timers.find((x) => x.name === 'Timer B');
  assert.equal(b.fromStep, 13);
  assert.equal(b.toStep, 14);
  assert.ok(b.y2 > b.y1);
  assert.deepEqual(m.bands.map((x) => x.state), ['Active', 'Deferred', 'DeliveringA', 'Replaying', 'Active']);
  assert.equal(m.bands[1].fromStep, 4);
  assert.equal(m.bands[1].toStep, 11);
  assert.equal(m.bands[1].y2, m.bands[2].y1, 'bands are contiguous');
  assert.equal(m.bandX, m.lanes.find((l) => l.role === 'pf').x);
});

test('visible rows and overlapping spans', () => {
  const { first, last } = visibleRows(8000, 26 * 1000, 520, GEOM, 0);
  assert.equal(first, 999);
  assert.ok(last >= 1019 && last <= 1021);
  assert.deepEqual(visibleRows(5, 0, 10000), { first: 0, last: 4 });
  const spans = [{ fromStep: 0, toStep: 3 }, { fromStep: 5, toStep: 9 }, { fromStep: 12, toStep: 20 }];
  assert.deepEqual(overlapping(spans, 4, 12), spans.slice(1));
});

test('queue rises while deferred and drains on delivery', () => {
  const t = byeTrace();
  const counts = [];
  for (let c = 0; c <= t.steps.length; c++) counts.push(queueAt(t, c).waiting);
  assert.equal(counts[8], 0, 'nothing stored before step 8');
  assert.equal(counts[9], 1);
  assert.equal(counts[12], 2);
  assert.equal(Math.max(...counts), 2);
  assert.equal(counts[t.steps.length], 0, 'drained at the end');
  const mid = queueAt(t, 16);
  assert.deepEqual(mid.rows.map((r) => [r.chat, r.state]), [[2, 'in flight'], [3, 'stored']]);
  assert.equal(mid.rows[0].fromName, 'Bob');
  assert.equal(mid.rows[0].text, 'still there?');
  const end = queueAt(t, t.steps.length);
  assert.deepEqual(end.rows.map((r) => r.state), ['delivered', 'delivered']);
  assert.equal(end.delivered, 2);
  // the live message is never in the store
  assert.ok(!end.rows.some((r) => r.chat === 1));
});

test('queue state per the contract: removed messages leave the store', () => {
  const c = { stored_step: 3, in_flight_step: null, delivered_step: null, removed_step: 7 };
  assert.equal(chatStateAt(c, 3), null);
  assert.equal(chatStateAt(c, 4), 'stored');
  assert.equal(chatStateAt(c, 8), null);
});

test('rosters: what the PF holds versus what the client last knew', () => {
  const t = byeTrace();
  assert.equal(rosterAt(t, 'pf', 0), null);
  assert.equal(rosterAt(t, 'pf', 5).step, 0);
  assert.equal(rosterAt(t, 'pf', 8).step, 7);
  const mid = rosterCompare(t, 10);
  assert.equal(mid.differences, 1);
  const alice = mid.rows.find((r) => r.id === 'alice');
  assert.deepEqual([alice.pf, alice.client, alice.differs], ['disconnected', 'connected', true]);
  assert.equal(rosterCompare(t, t.steps.length).differences, 0);
});

test('PF state at a cursor', () => {
  const t = byeTrace();
  assert.equal(pfStateAt(t, 0), 'Active');
  assert.equal(pfStateAt(t, 5), 'Deferred');
  assert.equal(pfStateAt(t, 999), 'Active');
});

test('first difference between two traces', () => {
  const a = byeTrace();
  const b = byeTrace();
  assert.equal(firstDifference(a, b), null);
  b.steps[4] = { ...b.steps[4], label: 'Left', pf_state: 'Left' };
  assert.deepEqual(firstDifference(a, b), { a: 4, b: 4, at_ms: 5010 });
  const c = byeTrace();
  c.steps = c.steps.slice(0, 10);
  assert.equal(firstDifference(a, c).a, 10);
});

test('summary counts keep a fixed order', () => {
  const rows = summaryCounts(byeTrace());
  assert.deepEqual(rows.slice(1, 4), [['stored', 2], ['delivered from store', 2], ['lost', 0]]);
});

test('time formatting', () => {
  assert.equal(fmtMs(0), '0:00.000');
  assert.equal(fmtMs(65250), '1:05.250');
  assert.equal(fmtMs(null), '–');
  assert.equal(fmtDur(480), '480 ms');
  assert.equal(fmtDur(32000), '32 s');
  assert.equal(fmtDur(65000), '1 min 5 s');
});

test('playback skips long idle gaps but not short ones', () => {
  const { steps } = byeTrace();
  assert.equal(advance(steps, 1000, 16), 1016);
  // from 1020 the next step is at 5000: jump to 500 ms before it
  assert.equal(advance(steps, 1020, 16), 5000 - 500);
  assert.equal(advance(steps, 4900, 16), 4916);
});

test('timeline scale covers all events with a round tick', () => {
  const { span, tick } = timelineScale(95000, [{ at_ms: 99000 }]);
  assert.ok(span >= 99000);
  assert.equal(span % tick, 0);
  assert.ok(span / tick <= 12);
});
