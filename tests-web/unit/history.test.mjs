// Undo/redo as changes (issue 13, item 5): 300 random edits with undo/redo in between, then
// every undo gives back exactly the scenario before each edit; a move costs a few hundred
// bytes whatever the timeline's size; the byte budget holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateEvent, addEvent, deleteEvent, scenarioJson, setPolicy } from '../../www/scenario.js';
import { History } from '../../www/history.js';

test('random edits, undos and redos: every undo gives back the scenario before the edit', () => {
let s = { format: 'cpm-deferral-scenario', version: 1, title: 't', events: Array.from({ length: 50 }, (_, i) => ({ at_ms: i * 100, kind: 'message', from: 'alice', text: `m${i}` })) };
const h = new History();
const states = [scenarioJson(s)];
let seed = 1; const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
for (let k = 0; k < 300; k++) {
  let next;
  const r = rnd(4);
  if (r === 0) next = updateEvent(s, rnd(s.events.length), { at_ms: rnd(6000) }).scenario;
  else if (r === 1) next = addEvent(s, { at_ms: rnd(6000), kind: 'rejoin' }).scenario;
  else if (r === 2 && s.events.length > 2) next = deleteEvent(s, rnd(s.events.length));
  else next = setPolicy(s, 'q8-group-ends', rnd(2) ? 'keep' : 'discard', 'keep');
  if (scenarioJson(next) === scenarioJson(s)) continue; h.push(s, next); s = next; states.push(scenarioJson(s));
  if (rnd(5) === 0) { // undo a few then redo
    const m = 1 + rnd(3); const back = [];
    for (let j = 0; j < m && h.canUndo(); j++) { s = h.undo(s); back.push(scenarioJson(s)); states.pop(); assert.equal(scenarioJson(s), states[states.length - 1], `undo at ${k}`); }
    for (let j = 0; j < back.length; j++) { s = h.redo(s); states.push(scenarioJson(s)); }
  }
}
let n = 0; while (h.canUndo()) { s = h.undo(s); states.pop(); assert.equal(scenarioJson(s), states[states.length - 1], `undo ${n}`); n++; }
  assert.equal(n, 200, 'the 200 most recent edits can be undone');
});

test('a move on a big timeline keeps a change of a few hundred bytes, and the budget holds', () => {
  const text = 'ł'.repeat(1900); // not Latin-1: two bytes a character in a JS string
  let s = { format: 'cpm-deferral-scenario', version: 1, events: Array.from({ length: 2000 }, (_, i) => ({ at_ms: i * 10, kind: 'message', from: 'alice', text })) };
  const first = scenarioJson(s);
  const h = new History(200, 8 * 1024 * 1024);
  for (let k = 0; k < 200; k++) {
    const next = updateEvent(s, (k * 37) % 2000, { at_ms: ((k * 7919) % 2000) * 10 + 5 }).scenario;
    h.push(s, next);
    s = next;
  }
  assert.ok(h.bytes < 200 * 2 * 4000, `200 moves keep ${h.bytes} bytes (one event's JSON each, not 200 copies of ${first.length} characters)`);
  while (h.canUndo()) s = h.undo(s);
  assert.equal(scenarioJson(s), first);
  // The byte budget: whole snapshots (preset loads) past it are dropped, oldest first.
  const small = new History(200, 3 * (first.length * 2 + 64));
  for (let k = 0; k < 10; k++) small.push(s);
  assert.ok(small.bytes <= 3 * (first.length * 2 + 64) && small.past.length === 3, `${small.bytes} bytes in ${small.past.length} entries`);
});
