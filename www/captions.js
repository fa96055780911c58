// Guided captions for presenter and embed mode, derived from the trace only: the step's `note`
// and `clauses`, the lanes' labels, and what the steps before it say (which case of §8.3.2.9
// started the deferral, and whether delivery goes by path A or path B). Pure: no DOM, so the
// Node unit tests cover it.
import { fmtMs } from './viewmodel.js';

export const CASES = {
  1: 'Case 1 of §8.3.2.9: Carol\'s BYE carries a Reason other than 200, so she did not leave on purpose',
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
      note: steps.length ? `${steps.length} steps. Step forward to start.` : '',
    };
  }
  const s = steps[Math.min(cursor, steps.length) - 1];
  // Until something happens to Carol, the preset's description says where the story goes.
  const lane = (id) => trace.lanes?.find((l) => l.id === id)?.label || id;
  const who = s.from === s.to || s.protocol === 'none' ? lane(s.from) : `${lane(s.from)} → ${lane(s.to)}`;
  const what = s.protocol === 'none' ? s.label : `${s.protocol} ${s.label}`;
  return {
    title,
    situation: sit || description,
    head: `${fmtMs(s.at_ms)} · ${who}: ${what}${s.dropped ? ' (never arrives)' : ''}`,
    note: s.note || '',
    cites: clauseText(s.clauses),
    policy: !!s.policy,
    step: s.index ?? cursor - 1,
  };
}
