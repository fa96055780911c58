// The story of a run: the engine's key steps (step.key, src/story.rs) as stops of the player and
// of the presenter's clicker, the step announced to screen readers, friendly PF state names, and
// finding a step again by its identity (step.sid) after an edit. Pure except `announce`.

/** PF states as a reader of §8.3.2.9 says them (the trace keeps the engine's names). */
const STATE_NAMES = {
  DeliveringA: 'Delivering (path A)',
  DeliveringB: 'Delivering (path B)',
  EndedWithBacklog: 'Ended, store kept',
};
export const stateName = (s) => STATE_NAMES[s] || String(s ?? '');

const stopsOf = new WeakMap();
/**
 * The key stops of a trace, as cursors (number of steps shown): a group of key steps at the same
 * time is one stop, shown up to its last step; the end of the run is the last stop.
 */
export function keyStops(trace) {
  let stops = stopsOf.get(trace);
  if (stops) return stops;
  stops = [];
  const steps = trace.steps;
  const n = steps.length;
  let prevT = -1;
  for (let i = 0; i < n; i++) {
    if (steps[i].key === undefined) continue;
    const t = steps[i].at_ms;
    if (t === prevT && stops.length) stops[stops.length - 1] = i + 1;
    else stops.push(i + 1);
    prevT = t;
  }
  if (n && stops[stops.length - 1] !== n) stops.push(n);
  stopsOf.set(trace, stops);
  return stops;
}

/** The next stop after `cursor` (or the end). */
export function nextStop(trace, cursor) {
  return keyStops(trace).find((c) => c > cursor) ?? trace.steps.length;
}
/** The stop before `cursor` (or 0, the start). */
export function prevStop(trace, cursor) {
  const s = keyStops(trace);
  for (let i = s.length - 1; i >= 0; i--) if (s[i] < cursor) return s[i];
  return 0;
}

/** The key steps of the stop that ends at `cursor` (empty when the cursor is not at a stop). */
export function keysAt(trace, cursor) {
  const steps = trace.steps;
  const last = steps[cursor - 1];
  if (!last) return [];
  const out = [];
  for (let i = cursor - 1; i >= 0 && steps[i].at_ms === last.at_ms; i--) if (steps[i].key !== undefined) out.unshift(steps[i]);
  return out;
}

/** The index of the step with this identity in `trace`, or -1. */
export function findSid(trace, sid) {
  const steps = trace?.steps || [];
  for (let i = 0; i < steps.length; i++) if (steps[i].sid === sid) return i;
  return -1;
}

/** The playhead in one sentence, for the live region. */
export function stepSentence(trace, cursor) {
  const n = trace.steps.length;
  if (!cursor) return `Start: step 0 of ${n}.`;
  const s = trace.steps[Math.min(cursor, n) - 1];
  const lane = (id) => trace.lanes.find((l) => l.id === id)?.label || id;
  const who = s.protocol === 'none' ? lane(s.from) : `${lane(s.from)} to ${lane(s.to)}`;
  const label = s.kind === 'state' ? stateName(s.label) : s.label;
  const key = s.key !== undefined ? ` Key step: ${s.key}.` : '';
  return `Step ${cursor} of ${n}: ${who}, ${s.protocol === 'none' ? '' : `${s.protocol} `}${label}${s.dropped ? ', never arrives' : ''}.${key} PF ${stateName(s.pf_state)}, store ${s.queue_len}.`;
}

/** Say `text` in the page's polite live region (#announce). */
export function announce(text) {
  const box = document.getElementById('announce');
  if (box && box.textContent !== text) box.textContent = text;
}

/** The closing summary of a run (and of the other rules' run when comparing), in words. */
export function closingSummary(trace, alt = null) {
  const one = (tr) => {
    const m = tr.summary || {};
    const rules = tr.rules === 'pre-cr' ? 'before the CR (pre-CR)' : 'with the CR (post-CR)';
    const n = (k, one, many) => `${m[k] ?? 0} ${(m[k] ?? 0) === 1 ? one : many}`;
    return `${rules[0].toUpperCase()}${rules.slice(1)}: ${n('stored', 'message stored', 'messages stored')} for Carol, ${m.delivered_from_store ?? 0} delivered from the store, ${m.lost ?? 0} lost${m.discarded ? `, ${m.discarded} discarded` : ''}${m.still_stored ? `, ${m.still_stored} still stored` : ''}; ${m.delivered_live ?? 0} delivered live.`;
  };
  return `End of the story. ${one(trace)}${alt ? ` ${one(alt)}` : ''}`;
}
