// The CR's own words: §8.3.2.9 "Deferred CPM Group Session handling" as the change request for
// CONRR comment D130 shows it (OMA CPM Conversation Functions), sentence by sentence, with the
// words it inserts and removes. Copied from the CR's text (/work/shared/spec, not part of this
// repository). That plain text runs the track changes together ("then Tthe", "stayremain",
// "cases:."); which words are inserted and which removed is read from those joins and from the
// CR's own summary (the trigger list is what it adds): an inference, and the panel says so.
// Pure data and functions, no DOM: the CR panel (crpanel.js) and the captions (captions.js) use it.

/** One segment: [text, 'ins' | 'del' | ''] (inserted by the CR, removed by it, or unchanged). */
export const CR_SENTENCES = [
  { id: 'bye', parts: [['Upon receiving a SIP BYE request associated with an existing CPM Session, the CPM Participating Function SHALL proceed as described in sect. 8.2.2.3 “Handle a SIP BYE Request”.', '']] },
  {
    id: 'remain',
    parts: [
      ['If the SIP BYE was received on the session dialog with the CPM Client with a Reason header field with the reason-protocol set to SIP and a reason-cause set to a value that is different than 200, indicating that the CPM User has not left the session voluntarily, then ', 'del'],
      ['T', 'ins'], ['t', 'del'],
      ['he CPM Participating Function SHALL ', ''], ['stay', 'del'], ['remain', 'ins'],
      [' in the media path of the CPM Group Session with the CPM Controlling Function, in view of a deferred delivery to the CPM User of all further CPM Messages exchanged within the CPM Group Session', ''],
      [' in the following cases:', 'ins'], ['.', 'del'],
    ],
  },
  { id: 'case1', parts: [['1. The SIP BYE was received on the session dialog with the CPM Client with a Reason header field with the reason-protocol set to SIP and a reason-cause set to a value that is different than 200, indicating that the CPM User has not left the session voluntarily;', 'ins']] },
  { id: 'case2', parts: [['2. Timeout of the SIP INVITE sent to the CPM user;', 'ins']] },
  { id: 'case3', parts: [['3. The MSRP connection setup towards the CPM Client fails, or the existing MSRP connection is lost.', 'ins']] },
  { id: 'note', parts: [['Editor’s Note: It needs to be clarified when an existing MSRP connection is considered to be lost.', 'ins']] },
  { id: 'subscribe', parts: [['The CPM Participating Function SHALL also subscribe to the focus of the CPM Group Session as described 8.2.2.6.2 “CPM Long-lived Group Session”, to obtain the latest Participant Information that will be delivered together with the CPM Group Session data during the deferred delivery.', '']] },
  { id: 'two-ways', parts: [['The deferred delivery of a CPM Group Session is triggered in two ways:', '']] },
  { id: 'path-a', parts: [['A) CPM Participating Function initiates it when the CPM Client becomes available, i.e. upon receiving 3rd party register;', '']] },
  { id: 'path-b', parts: [['B) The CPM Client sends a re-join request as soon as it comes back online, and the CPM Participating Function receives the re-join before reacting on the 3rd party register and issuing an invitation to the CPM Client, then the CPM Participating Function:', '']] },
  { id: 'no-invite', parts: [['· SHALL not send any SIP INVITE to the CPM Client for the deferred delivery of the CPM Group Session,', '']] },
  { id: 'use-rejoin', parts: [['· it SHALL use the session setup following the received re-join request also for deferred delivery purposes.', '']] },
  { id: 'msrp', parts: [['The deferred delivery of the missed CPM Group Session data is performed over MSRP.', '']] },
];

/** A sentence as the CR reads after it is applied (inserted words kept, removed ones dropped). */
export const amended = (sn) => sn.parts.filter(([, k]) => k !== 'del').map(([t]) => t).join('');
/** A sentence as it read before the CR ('' when the CR adds all of it). */
export const original = (sn) => sn.parts.filter(([, k]) => k !== 'ins').map(([t]) => t).join('');
export const sentence = (id) => CR_SENTENCES.find((s) => s.id === id) || null;

const CASE_RE = /\bCase ([123]) of §8\.3\.2\.9/;

/**
 * The CR sentence a step carries out, or null. From what the engine wrote on the step: its key
 * title, its clauses (8.3.2.9, 8.2.2.3, 8.2.2.6.2) and its note, which names the case and the path.
 * A step whose citations are all policies has no sentence: it answers an open question.
 */
export function sentenceFor(s) {
  // Our reading of a clause (`reading:8.3.2.9`, issue 11 defect 10) still belongs to its sentence.
  const cl = (s.clauses || []).map((c) => (c.startsWith('reading:') ? c.slice(8) : c));
  if (!cl.length || cl.every((c) => c.startsWith('policy:'))) return null;
  const key = s.key || '';
  const note = s.note || '';
  if (/^Trigger: Carol's BYE/.test(key)) return 'case1';
  // Carol's BYE itself cites RFC 3261 (issue 11, defect 10): the PF handles it as §8.2.2.3 says.
  if (/^BYE\b/.test(key)) return 'bye';
  if (/Timer B fired: (no deferral|the INVITE)|^Trigger: Timer B/.test(key)) return 'case2';
  if (/MSRP connection (to Carol )?failed/.test(key)) return 'case3';
  const m = CASE_RE.exec(note);
  if (m && s.kind === 'state') return `case${m[1]}`;
  if (/subscribes|Participant information/i.test(key) || (cl.includes('8.2.2.6.2') && s.from === 'carol-pf')) return 'subscribe';
  if (/SHALL NOT send its own INVITE|no INVITE of its own/.test(note + key)) return 'no-invite';
  if (/^Path B/.test(note) || /^Path B/.test(key)) return 'use-rejoin';
  if (/REGISTER|^Path A/.test(key) || /^Path A/.test(note)) return 'path-a';
  if (s.kind === 'deliver' || s.pf_state === 'Replaying' || /deferred delivery|Replay/i.test(key + note)) return 'msrp';
  if (cl.includes('8.3.2.9') || /new participant|not in the group|leaves the group|lost/.test(key)) return 'remain';
  if (cl.includes('8.2.2.3')) return 'bye';
  return null;
}

/** The policies a step cites: [{ id, question, title, value }] from the trace's policy list. */
export function policiesOf(trace, s) {
  return (s.clauses || []).filter((c) => c.startsWith('policy:')).map((c) => {
    const id = c.slice(7);
    const p = (trace.policies || []).find((x) => x.id === id);
    return { id, question: p?.question || '', title: p?.title || id, value: p?.value || '' };
  });
}
