// Filters of the ladder (issue 12): hide MSRP 200s, SIP provisional responses, subscription
// traffic, the IMS core hops and the members' legs. They work on what every step says of itself
// (protocol, label, kind) and on the roles of its lanes (docs/trace-contract.md), so a lane the
// engine adds later (an IMS core proxy with role "ims") is covered without a change here. Key
// steps of the story are never hidden. Hidden steps collapse into one row per run with their
// count ("+12 MSRP 200"); they stay in the trace: the player steps through them, the inspector
// shows them (a click on the run's row), the text version lists them, marked.
// Loaded on use (the Filters menu, or a link / embed parameter that names filters).

import { ensureCss } from './lazy-css.js';

// Its styles are in extra.css (issue 10: the first load's weight): the module is ready once they are.
await ensureCss();

export const FILTERS = [
  { id: 'msrp-200', label: 'MSRP 200 OK (hop-by-hop acknowledgements)', short: 'MSRP 200', test: (s) => s.protocol === 'MSRP' && /^200\b/.test(s.label) },
  { id: 'provisional', label: 'SIP provisional responses (100 Trying, 180 Ringing…)', short: 'SIP 1xx', test: (s) => s.protocol === 'SIP' && /^1\d\d\b/.test(s.label) },
  { id: 'subscription', label: 'Subscription traffic (SUBSCRIBE, NOTIFY and their answers)', short: 'subscription', test: (s, c) => c.subscription(s) },
  // The IMS core lane folded away: a message through it is drawn as one arrow between Carol's
  // client and her PF (its first hop), its second hop and the core's own messages are hidden.
  { id: 'ims-core', label: 'Fold the IMS core (P-CSCF, S-CSCF) into Carol–PF arrows', short: 'IMS core', test: (s, c) => (c.role(s.from) === 'ims' || c.role(s.to) === 'ims') && !c.ends.has(s.index) },
  { id: 'members', label: 'The other members’ legs (Alice, Bob…)', short: 'members', test: (s, c) => c.role(s.from) === 'member' || c.role(s.to) === 'member' },
];
export const FILTER_IDS = FILTERS.map((f) => f.id);

/** Only the known filter ids of a list (from a link, a query, storage), in catalogue order. */
export const cleanFilters = (ids) => (Array.isArray(ids) ? FILTER_IDS.filter((id) => ids.includes(id)) : []);

const cache = new WeakMap();

/**
 * The rows of the ladder with `ids` applied: { rows (step index, or -(k+1) for marker k), rowOf
 * (step → row), markers [{ first, last, count, label }], hidden (step → filter index + 1, 0 when
 * shown), lanes (the lanes a shown step touches) }; null when no filter is on.
 */
export function filterRows(trace, ids) {
  const active = FILTERS.map((f, k) => [f, k]).filter(([f]) => ids.includes(f.id));
  if (!active.length || !trace) return null;
  const key = active.map(([f]) => f.id).join();
  const hit = cache.get(trace);
  if (hit && hit.key === key) return hit.view;
  const steps = trace.steps;
  const n = steps.length;
  const roles = new Map((trace.lanes || []).map((l) => [l.id, l.role]));
  const ends = ids.includes('ims-core') ? foldCore(steps, roles) : new Map();
  const ctx = {
    ends,
    role: (id) => roles.get(id) || '',
    subscription(s) {
      if (s.protocol !== 'SIP') return false;
      if (s.label === 'SUBSCRIBE' || s.label === 'NOTIFY') return true;
      if (!/^\d{3}\b/.test(s.label)) return false;
      // A response: the request it answers is the nearest earlier one the other way round.
      for (let j = s.index - 1; j >= 0 && j >= s.index - 16; j--) {
        const r = steps[j];
        if (r.protocol === 'SIP' && r.from === s.to && r.to === s.from && !/^\d{3}\b/.test(r.label)) return r.label === 'SUBSCRIBE' || r.label === 'NOTIFY';
      }
      return false;
    },
  };
  const hidden = new Uint8Array(n);
  const rows = [];
  const rowOf = new Int32Array(n);
  const markers = [];
  const lanes = new Set();
  let run = null;
  for (let i = 0; i < n; i++) {
    const s = steps[i];
    let by = 0;
    if (s.key === undefined) for (const [f, k] of active) if (f.test(s, ctx)) { by = k + 1; break; }
    hidden[i] = by;
    if (!by) {
      run = null;
      rowOf[i] = rows.length;
      rows.push(i);
      const e = ends.get(i);
      lanes.add(e ? e[0] : s.from);
      lanes.add(e ? e[1] : s.to);
      continue;
    }
    if (!run) {
      run = { first: i, last: i, count: 0, by: new Map() };
      markers.push(run);
      rows.push(-markers.length);
    }
    run.last = i;
    run.count++;
    run.by.set(by, (run.by.get(by) || 0) + 1);
    rowOf[i] = rows.length - 1;
  }
  for (const m of markers) {
    const parts = [...m.by].map(([k, c]) => (m.by.size === 1 ? FILTERS[k - 1].short : `${FILTERS[k - 1].short} ×${c}`));
    m.label = parts.join(' · ');
    delete m.by;
  }
  // Carol's client, her PF and the focus always keep their lanes.
  for (const l of trace.lanes || []) if (l.role === 'client' || l.role === 'pf' || l.role === 'cf') lanes.add(l.id);
  const view = { rows, rowOf, markers, hidden, lanes, ends };
  cache.set(trace, { key, view });
  return view;
}

/**
 * The IMS core folded (src/ims/, its glue src/world/ims.rs): each SIP message from Carol's client or her PF to the
 * core whose next hop leaves the core for the other side at its arrival (same label) is drawn
 * from its sender to that other side (step → [from, to]); everything else on the core's lane
 * (the second hops, its own 100 Trying, CANCEL, ACK, 408, the REGISTERs) is hidden and counted,
 * except key steps, drawn on the lane they leave or reach.
 */
function foldCore(steps, roles) {
  const ends = new Map();
  const used = new Set();
  const ua = (id) => roles.get(id) === 'client' || roles.get(id) === 'pf';
  const other = (id) => [...roles].find(([l, r]) => l !== id && (r === 'client' || r === 'pf'))?.[0];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.protocol !== 'SIP' || !ua(s.from) || roles.get(s.to) !== 'ims' || s.label === 'REGISTER') continue;
    const to = other(s.from);
    for (let j = i + 1; j < steps.length && j < i + 64; j++) {
      const f = steps[j];
      if (f.at_ms > s.arrive_ms) break;
      if (!used.has(j) && f.protocol === 'SIP' && roles.get(f.from) === 'ims' && f.to === to && f.label === s.label && f.at_ms === s.arrive_ms) {
        used.add(j);
        // One arrow per message: on its first hop, or on the second if that is the key step.
        ends.set(f.key !== undefined && s.key === undefined ? j : i, [s.from, to]);
        break;
      }
    }
  }
  // A key step on the core's lane (the 3rd-party REGISTER, an answer the core keeps) is never
  // hidden: folded, it is drawn on the lane of Carol's client or PF that it leaves or reaches.
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.key === undefined || ends.has(i) || used.has(i) || (roles.get(s.from) !== 'ims' && roles.get(s.to) !== 'ims')) continue;
    const end = roles.get(s.from) === 'ims' ? s.to : s.from;
    ends.set(i, [end, end]);
  }
  return ends;
}

/** Why step i is hidden ('' when shown). */
export function hiddenBy(view, i) {
  const k = view?.hidden[i];
  return k ? FILTERS[k - 1].short : '';
}

/** The Filters menu's checkboxes (drawn once, on first open). */
export function drawList(api) {
  const { h, $, state } = api;
  const list = $('filter-list');
  list.replaceChildren(
    h('p', { class: 'menu-h', text: 'Hide in the ladder (key steps always stay)' }),
    ...FILTERS.map((f) => {
      const box = h('input', { type: 'checkbox', id: `filter-${f.id}`, checked: state.filters.includes(f.id) });
      box.addEventListener('change', api.guard(() => api.setFilters(box.checked ? [...state.filters, f.id] : state.filters.filter((x) => x !== f.id))));
      return h('label', { class: 'filter' }, box, document.createTextNode(` ${f.label}`));
    }));
}
