// The CR sentence a step carries out (www/cr-text.js sentenceFor): a step that cites our reading
// of a clause (`reading:8.3.2.9`, `reading:8.2.2.3`; issue 11, defect 10) still belongs to that
// clause's sentence, so the CR panel and the presenter find it; a step citing only policies has
// none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sentenceFor } from '../../www/cr-text.js';

const step = (clauses, extra = {}) => ({ clauses, note: '', key: undefined, kind: 'message', from: 'carol-pf', to: 'scscf', ...extra });

test('a reading of a clause belongs to its sentence, as the plain clause does', () => {
  assert.equal(sentenceFor(step(['reading:8.2.2.3', 'RFC 3261 §15.1.2'])), 'bye');
  assert.equal(sentenceFor(step(['8.2.2.3'])), 'bye');
  assert.equal(sentenceFor(step(['reading:8.3.2.9'], { kind: 'deliver' })), 'msrp');
  assert.equal(sentenceFor(step(['reading:8.3.2.9'], { kind: 'state', note: 'Case 2 of §8.3.2.9: timeout of the SIP INVITE sent to Carol.' })), 'case2');
  assert.equal(sentenceFor(step(['reading:8.3.2.9'], { note: 'Path B: the PF accepts the re-join itself instead of relaying it.' })), 'use-rejoin');
  assert.equal(sentenceFor(step(['policy:q7-never-returns'])), null);
});

test("Carol's BYE cites RFC 3261, not §8.2.2.3, and still belongs to the BYE sentence", () => {
  const bye = (key) => step(['RFC 3261 §15.1.1', 'RFC 3326 §2'], { key, from: 'carol', to: 'scscf' });
  assert.equal(sentenceFor(bye('BYE with Reason SIP cause 200: a normal leave')), 'bye');
  assert.equal(sentenceFor(bye('BYE without Reason: a normal leave')), 'bye');
  assert.equal(sentenceFor(bye("Trigger: Carol's BYE has Reason SIP with a cause other than 200")), 'case1');
});
