// Guided captions for presenter and embed mode, derived from the trace only: the step's `note`
// and `clauses`, the lanes' labels, and what the steps before it say (which case of §8.3.2.9
// started the deferral, and whether delivery goes by path A or path B). Pure: no DOM, so the
// Node unit tests cover it.
import { fmtMs } from './viewmodel.js';
import { keysAt, keyStops, stateName } from './story.js';
import { sentence, sentenceFor, amended, original, policiesOf } from './cr-text.js';

export const CASES = {
  1: 'Case 1 of §8.3.2.9: Carol\'s BYE carries a Reason with protocol SIP and a cause other than 200, so she did not leave on purpose',
  2: 'Case 2 of §8.3.2.9: the INVITE to Carol timed out',
  3: 'Case 3 of §8.3.2.9: the MSRP connection to Carol failed',
};
export const PATHS = {
  A: 'Path A: Carol registers, the S-CSCF sends a 3rd-party REGISTER, and the PF invites her back',
  B: 'Path B: Carol\'s client re-joins the group session itself',
};

const CASE_RE = /\bCase ([123]) of §8\.3\.2\.9/;

/** What the steps before `cursor` established: { case, path, left, deferred }. */
export function situation(trace, cursor) {
  const out = { case: null, path: null, left: false, deferred: false };
  const steps = trace?.steps || [];
  for (let i = 0; i < Math.min(cursor, steps.length); i++) {
    const s = steps[i];
    const m = CASE_RE.exec(s.note || '');
    if (m) out.case = Number(m[1]);
    const st = String(s.pf_state || '');
    if (/^Defer/i.test(st)) out.deferred = true;
    if (st === 'DeliveringA') out.path = 'A';
    else if (st === 'DeliveringB') out.path = 'B';
    if (s.kind === 'state' && /^Left/i.test(st)) out.left = true;
  }
  return out;
}

/** Plain-words line for a situation, or '' before anything happened to Carol. */
export function situationText(sit) {
  const parts = [];
  if (sit.case) parts.push(CASES[sit.case]);
  else if (sit.deferred) parts.push('The PF has deferred delivery for Carol (§8.3.2.9)');
  else if (sit.left) parts.push('Carol left: the CR\'s rule does not apply, no deferral');
  if (sit.path) parts.push(PATHS[sit.path]);
  return parts.join(' · ');
}

/** Citations in plain words: the CR's clause, the base spec, RFCs, and policies (not in the CR). */
export function clauseText(clauses = []) {
  return clauses.map((c) => {
    if (c.startsWith('policy:')) return `${c.slice(7)} (a policy of this emulator, not in the CR)`;
    // Issue 11, defect 10: behaviour that is our reading of a clause, not its text.
    if (c.startsWith('reading:')) return `our reading of ${/^\d+(\.\d+)+$/.test(c.slice(8)) ? '§' : ''}${c.slice(8)} (an interpretation, not the CR's text)`;
    if (c === '8.3.2.9') return '§8.3.2.9 (the CR)';
    if (/^\d+(\.\d+)+$/.test(c)) return `§${c}`;
    return c;
  });
}

/**
 * The caption at a playhead: the last step shown (cursor - 1) narrated, with the situation.
 * `description` is the preset's one-line description, shown before the first step.
 * @returns {{ title: string, situation: string, head: string, note: string, cites: string[], policy: boolean, step: number|null }}
 */
export function captionAt(trace, cursor, description = '') {
  const steps = trace?.steps || [];
  const title = trace?.title || '';
  const sit = situationText(situation(trace, cursor));
  if (!cursor || !steps.length) {
    return {
      title, situation: sit, head: description || title, step: null, policy: false, cites: [],
      note: steps.length ? `${steps.length} steps, ${keyStops(trace).length} key steps. Step forward to start: → or PageDown for the next key step, ↓ for one step.` : '',
    };
  }
  const s = steps[Math.min(cursor, steps.length) - 1];
  const story = storyAt(trace, cursor);
  // Until something happens to Carol, the preset's description says where the story goes.
  const lane = (id) => trace.lanes?.find((l) => l.id === id)?.label || id;
  const who = s.from === s.to || s.protocol === 'none' ? lane(s.from) : `${lane(s.from)} → ${lane(s.to)}`;
  const what = s.protocol === 'none' ? (s.kind === 'state' ? stateName(s.label) : s.label) : `${s.protocol} ${s.label}`;
  return {
    title,
    situation: sit || description,
    head: `${fmtMs(s.at_ms)} · ${who}: ${what}${s.dropped ? ' (never arrives)' : ''}`,
    note: s.note || '',
    cites: clauseText(s.clauses),
    policy: !!s.policy,
    step: s.index ?? cursor - 1,
    story,
  };
}

/**
 * At a key stop (www/story.js keyStops): the key steps' titles, the CR sentence each carries out
 * (as amended; under pre-CR rules as it read before, when the CR changed it) or the open
 * questions (policies) behind it, and what changed since the previous step: the PF state and
 * the store's size. null when the cursor is not at a key stop.
 */
export function storyAt(trace, cursor) {
  const keys = keysAt(trace, cursor);
  if (!keys.length) return null;
  const cites = [];
  for (const k of keys) {
    const id = sentenceFor(k);
    if (id && !cites.some((c) => c.sentence === id)) {
      const sn = sentence(id);
      const pre = trace.rules === 'pre-cr' && original(sn) !== amended(sn);
      cites.push({ sentence: id, text: pre ? original(sn) || '(not in the text before the CR)' : amended(sn), pre });
    }
    for (const p of policiesOf(trace, k)) if (!cites.some((c) => c.policy === p.id)) cites.push({ policy: p.id, text: `${p.question}: ${p.title} (policy ${p.value}, not in the CR)` });
  }
  const last = keys[keys.length - 1];
  const before = trace.steps[keys[0].index - 1];
  const from = before ? stateName(before.pf_state) : '';
  const to = stateName(last.pf_state);
  const changed = `${from && from !== to ? `PF ${from} → ${to}` : `PF ${to}`} · store ${last.queue_len}`;
  return { titles: keys.map((k) => k.key), cites, changed };
}
