// Captions (www/captions.js): the case of §8.3.2.9 and the path come from the steps' notes and
// PF states, the step line from the lanes, the citations from the clauses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captionAt, situation, situationText, clauseText } from '../../www/captions.js';
import { byeTrace } from './fixture.mjs';

test('before the first step: the preset description', () => {
  const c = captionAt(byeTrace(), 0, 'Case 1: BYE 480, then path A');
  assert.equal(c.head, 'Case 1: BYE 480, then path A');
  assert.equal(c.step, null);
  assert.match(c.note, /Step forward/);
});

test('the case and the path are read from what happened so far', () => {
  const tr = byeTrace();
  const iDef = tr.steps.findIndex((s) => s.pf_state === 'Deferred');
  tr.steps[iDef].note = 'Case 1 of §8.3.2.9: the BYE carries Reason protocol SIP with a cause other than 200.';
  const iDel = tr.steps.findIndex((s) => /^Delivering/.test(s.pf_state));
  assert.ok(iDef > 0 && iDel > iDef, 'fixture has a deferral and a delivery');
  for (const s of tr.steps) if (/^Delivering/.test(s.pf_state)) s.pf_state = 'DeliveringA';
  assert.deepEqual(situation(tr, iDef), { case: null, path: null, left: false, deferred: false });
  assert.equal(situation(tr, iDef + 1).case, 1);
  assert.equal(situation(tr, iDel + 1).path, 'A');
  assert.match(situationText(situation(tr, iDel + 1)), /^Case 1 of §8\.3\.2\.9.*Path A: .*3rd-party REGISTER/);
  // Issue 11, defect 9: the case-1 condition is the CR's, a Reason with protocol SIP.
  assert.match(situationText({ case: 1 }), /a Reason with protocol SIP and a cause other than 200/);
  const c = captionAt(tr, iDef + 1, '');
  assert.equal(c.step, iDef);
  assert.match(c.head, /^0:05\.010 · Carol's PF: Deferred$/);
  assert.equal(c.note, tr.steps[iDef].note);
  const m = captionAt(tr, 1, '');
  assert.match(m.head, /Bob → CF \(focus\): MSRP SEND/);
});

test('path B and voluntary leave', () => {
  const tr = byeTrace();
  for (const s of tr.steps) if (/^Delivering/.test(s.pf_state)) s.pf_state = 'DeliveringB';
  assert.equal(situation(tr, tr.steps.length).path, 'B');
  assert.match(situationText({ case: 3, path: 'B' }), /MSRP connection.*Path B: Carol's client re-joins/);
  assert.match(situationText({ left: true }), /left/);
});

test('citations in plain words; policies say they are not in the CR', () => {
  assert.deepEqual(clauseText(['8.3.2.9', '8.2.2.3', 'RFC 4975 §7.2', 'policy:q13-participant-info']), [
    '§8.3.2.9 (the CR)', '§8.2.2.3', 'RFC 4975 §7.2', 'q13-participant-info (a policy of this emulator, not in the CR)',
  ]);
});

test('an interpretation is labelled as one (issue 11, defect 10)', () => {
  assert.deepEqual(clauseText(['reading:8.3.2.9', 'policy:q7-never-returns', '8.3.2.9']), [
    "our reading of §8.3.2.9 (an interpretation, not the CR's text)",
    'q7-never-returns (a policy of this emulator, not in the CR)',
    '§8.3.2.9 (the CR)',
  ]);
});
