import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENT_KINDS, composeReason, parseReason, newEvent, addEvent, updateEvent, moveEvent, deleteEvent,
  setPolicy, describeEvent, membersOf, scenarioJson, DEVICE_KINDS, hasTablet, setTablet,
} from '../../www/scenario.js';
import { addMember, memberId } from '../../www/members.js';
import { History } from '../../www/history.js';

const base = () => ({
  format: 'cpm-deferral-scenario', version: 1, title: 't', setup: 'established', t1_ms: 500,
  events: [
    { at_ms: 1000, kind: 'message', from: 'alice', text: 'a' },
    { at_ms: 5000, kind: 'bye', reason: 'SIP;cause=480' },
    { at_ms: 9000, kind: 'register', reaction_ms: 500 },
  ],
});

test('every event kind of the scenario format is in the palette', () => {
  const kinds = EVENT_KINDS.map((k) => k.kind).sort();
  assert.deepEqual(kinds, ['bye', 'cf_reinvite', 'cf_update', 'deregister', 'group_ends', 'invite_rejected', 'join', 'leave', 'message', 'msrp_loss',
    'msrp_setup_fails', 'register', 'rejoin', 'unreachable']);
  for (const k of kinds) assert.equal(newEvent(k, 12.4, base()).kind, k);
});

test('Reason header round trip', () => {
  assert.equal(composeReason('SIP', 480, 'Temporarily Unavailable'), 'SIP;cause=480;text="Temporarily Unavailable"');
  assert.equal(composeReason('', 480, 'x'), null);
  assert.equal(composeReason('Q.850', '16', ''), 'Q.850;cause=16');
  assert.deepEqual(parseReason('SIP;cause=480;text="Temporarily Unavailable"'), { protocol: 'SIP', cause: '480', text: 'Temporarily Unavailable' });
  assert.deepEqual(parseReason(null), { protocol: '', cause: '', text: '' });
});

test('add keeps time order and places equal times after existing ones', () => {
  const { scenario, index } = addEvent(base(), { at_ms: 5000, kind: 'msrp_loss' });
  assert.equal(index, 2);
  assert.deepEqual(scenario.events.map((e) => e.kind), ['message', 'bye', 'msrp_loss', 'register']);
  assert.equal(base().events.length, 3, 'input not mutated');
});

test('move re-sorts and reports the new index', () => {
  const { scenario, index } = moveEvent(base(), 0, 7000.6);
  assert.deepEqual(scenario.events.map((e) => e.at_ms), [5000, 7001, 9000]);
  assert.equal(index, 1);
  assert.equal(moveEvent(base(), 1, -50).scenario.events[0].at_ms, 0);
});

test('update patches parameters; delete removes', () => {
  const { scenario } = updateEvent(base(), 1, { reason: null });
  assert.equal(scenario.events[1].reason, null);
  assert.equal(deleteEvent(base(), 1).events.length, 2);
});

test('members: default pair, add a newcomer with a unique id', () => {
  assert.deepEqual(membersOf(base()).map((m) => m.id), ['alice', 'bob']);
  const { scenario, id } = addMember(base(), 'Alice');
  assert.equal(id, 'alice-2');
  assert.equal(scenario.members.at(-1).in_group, false);
});

test('policy values: defaults are left out', () => {
  let s = setPolicy(base(), 'q1', 'b', 'a');
  assert.deepEqual(s.policies, { q1: 'b' });
  s = setPolicy(s, 'q1', 'a', 'a');
  assert.deepEqual(s.policies, {});
});

test('descriptions', () => {
  assert.equal(describeEvent({ kind: 'bye', reason: null }), 'BYE without Reason');
  assert.equal(describeEvent({ kind: 'message', from: 'bob', text: 'x' }, new Map([['bob', 'Bob']])), 'Bob: “x”');
});

test('undo/redo', () => {
  const h = new History();
  let s = base();
  h.push(s);
  s = deleteEvent(s, 0);
  h.push(s);
  s = deleteEvent(s, 0);
  assert.equal(s.events.length, 1);
  s = h.undo(s);
  assert.equal(s.events.length, 2);
  s = h.undo(s);
  assert.equal(s.events.length, 3);
  assert.equal(h.undo(s), null);
  s = h.redo(s);
  assert.equal(s.events.length, 2);
  h.push(s);
  assert.equal(h.canRedo(), false, 'a new edit drops the redo branch');
});

test('scenarioJson is exactly JSON.stringify, also when joined from cached event texts', () => {
  const odd = {
    title: 'odd "quotes" \u2028 </script>', skip: undefined, fn: () => 1, format: 'cpm-deferral-scenario', version: 1,
    events: [{ at_ms: 1, kind: 'message', text: 'é😀\n' }, null, 7, 'x', [1, { a: undefined }], { toJSON: 'not a function' }, undefined],
    after: { nested: [undefined, () => 0] },
  };
  const holes = { events: [] };
  holes.events[3] = { at_ms: 3, kind: 'bye' };
  for (const s of [base(), odd, holes, { events: [] }, { title: 'no events' }]) assert.equal(scenarioJson(s), JSON.stringify(s));
  // An edit shares the untouched events: their cached texts are reused and the result still equals.
  let s = base();
  for (let i = 0; i < 30; i++) s.events.push({ at_ms: 10000 + i, kind: 'message', from: 'bob', text: `m${i}` });
  assert.equal(scenarioJson(s), JSON.stringify(s));
  const moved = moveEvent(s, 1, 20000).scenario;
  assert.equal(scenarioJson(moved), JSON.stringify(moved));
  assert.notEqual(scenarioJson(moved), scenarioJson(s));
});

// Issue 13, item 6: ids the engine accepts (src/scenario.rs valid_id), unique, never reserved.
test('member ids from any name', () => {
  const cases = { 'Alexandra Richardson': 'alexandra-richar', '2nd shift': 'm-2nd-shift', CF: 'cf-2', 'Carol PF': 'carol-pf-2', scscf: 'scscf-2', carol: 'carol-2', 'Zoë': 'zoe', '李': 'member', '---': 'member' };
  for (const [name, id] of Object.entries(cases)) assert.equal(memberId(name), id, name);
  assert.equal(memberId('Alexandra Richardson', (x) => x === 'alexandra-richar'), 'alexandra-rich-2');
  let s = base();
  const seen = new Set();
  for (let k = 0; k < 10; k++) {
    const r = addMember(s, 'Same Name Again And Again');
    assert.match(r.id, /^[a-z][a-z0-9-]{0,15}$/);
    assert.ok(!seen.has(r.id));
    seen.add(r.id);
    s = r.scenario;
  }
});

test('a new join names a member outside the group at its time, so the timeline stays valid (issue 11 defect 9)', () => {
  const s = {
    ...base(),
    members: [
      { id: 'alice', name: 'Alice' }, { id: 'bob', name: 'Bob' },
      { id: 'dave', name: 'Dave', in_group: false }, { id: 'erin', name: 'Erin', in_group: false },
    ],
    events: [
      { at_ms: 1000, kind: 'join', member: 'dave' },
      { at_ms: 3000, kind: 'leave', member: 'dave' },
      { at_ms: 8000, kind: 'join', member: 'erin' },
    ],
  };
  // At 500 ms Dave is outside, but his own join follows at 1000 ms, and Erin's at 8000 ms: no
  // member can join then without breaking the timeline, so the fallback (the last member).
  assert.equal(newEvent('join', 500, s).member, 'erin');
  // At 2000 ms Dave is in and Erin joins later: the same.
  assert.equal(newEvent('join', 2000, s).member, 'erin');
  // At 5000 ms Dave has left and has no later join.
  assert.equal(newEvent('join', 5000, s).member, 'dave');
  // After Erin's join at 8000 ms, Dave is still the one outside.
  assert.equal(newEvent('join', 9000, s).member, 'dave');
  // Default members are both in from the start: the fallback is the last one.
  assert.equal(newEvent('join', 100, base()).member, 'bob');
});

// Q20: a re-join's `ids` (policy q20-other-contribution-id) is a parameter of the event, and
// its description says which IDs differ; `same` (or none) is the CR's re-join.
test('a re-join with other session IDs', () => {
  assert.deepEqual(EVENT_KINDS.find((k) => k.kind === 'rejoin').params, ['ids']);
  assert.equal(describeEvent({ at_ms: 1, kind: 'rejoin' }), "Carol's client sends a re-join INVITE");
  assert.equal(describeEvent({ at_ms: 1, kind: 'rejoin', ids: 'same' }), "Carol's client sends a re-join INVITE");
  assert.equal(describeEvent({ at_ms: 1, kind: 'rejoin', ids: 'new-contribution' }), 'Carol re-joins with a new Contribution-ID');
  assert.equal(describeEvent({ at_ms: 1, kind: 'rejoin', ids: 'new-conversation' }), 'Carol re-joins with a new Conversation-ID and Contribution-ID');
});

test("Carol's tablet (issue 11, Q15): devices on and off, an event's device, and its description", () => {
  assert.deepEqual(DEVICE_KINDS, ['register', 'deregister', 'unreachable', 'leave']);
  assert.equal(hasTablet(base()), false);
  const on = setTablet(base(), true);
  assert.deepEqual(on.devices, ['phone', 'tablet']);
  assert.equal(hasTablet(on), true);
  const u = updateEvent(on, 2, { device: 'tablet' });
  assert.equal(u.scenario.events[2].device, 'tablet');
  assert.equal(describeEvent(u.scenario.events[2]), 'Carol registers (PF reacts after 500 ms) (her tablet)');
  const off = setTablet(u.scenario, false);
  assert.equal(off.devices, undefined);
  assert.ok(off.events.every((e) => e.device === undefined), 'no event names the tablet any more');
  assert.equal(base().devices, undefined, 'input not mutated');
});
