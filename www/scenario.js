// Pure scenario editing (docs/trace-contract.md, "Scenario"): event kinds and their parameters,
// immutable edits that keep events in time order, the Reason header builder, and undo/redo.

export const EVENT_KINDS = [
  { kind: 'message', label: 'Message', hint: 'a group chat message', params: ['from', 'text'] },
  { kind: 'bye', label: 'BYE', hint: "Carol's client sends BYE, with or without Reason", params: ['reason'] },
  { kind: 'leave', label: 'Leave', hint: 'a voluntary leave (Carol: BYE cause 200)', params: ['member'] },
  { kind: 'join', label: 'Join', hint: 'a member joins the group', params: ['member'] },
  { kind: 'unreachable', label: 'Unreachable', hint: "Carol's device vanishes, no BYE", params: [] },
  { kind: 'msrp_loss', label: 'MSRP loss', hint: "the MSRP connection to Carol breaks", params: [] },
  { kind: 'msrp_setup_fails', label: 'MSRP set-up fails', hint: 'the next MSRP set-up towards Carol fails', params: [] },
  { kind: 'invite_rejected', label: 'INVITE rejected', hint: 'the next INVITE to Carol gets this final answer', params: ['status'] },
  { kind: 'register', label: 'Register', hint: "Carol registers; the S-CSCF sends a 3rd-party REGISTER", params: ['reaction_ms'] },
  { kind: 'rejoin', label: 'Re-join', hint: "Carol's client sends a re-join INVITE", params: ['ids'] },
  { kind: 'group_ends', label: 'Group ends', hint: 'the CF ends the group session', params: [] },
  { kind: 'deregister', label: 'De-register', hint: "Carol de-registers (Expires: 0); the S-CSCF tells the PF", params: [] },
  { kind: 'cf_reinvite', label: 'CF re-INVITE', hint: "the focus refreshes Carol's leg with a re-INVITE (optionally a new Subject); Q16", params: ['subject'] },
  { kind: 'cf_update', label: 'CF UPDATE', hint: "the focus refreshes Carol's leg with an UPDATE; Q16", params: [] },
];
export const KIND = new Map(EVENT_KINDS.map((k) => [k.kind, k]));

/** The `ids` of a re-join (Q20, policy q20-other-contribution-id): what its INVITE carries. */
export const REJOIN_IDS = {
  same: "the session's own IDs",
  'new-contribution': 'a new Contribution-ID',
  'new-conversation': 'a new Conversation-ID and Contribution-ID',
};
/** The event kinds that may name Carol's tablet (`"device": "tablet"`, issue 11, Q15; Carol's `leave`, Q9). */
export const DEVICE_KINDS = ['register', 'deregister', 'unreachable', 'leave'];

/** Whether the scenario gives Carol a second device, her tablet (`"devices": ["phone", "tablet"]`). */
export function hasTablet(scenario) {
  return Array.isArray(scenario?.devices) && scenario.devices.includes('tablet');
}

/** The scenario with Carol's tablet (on) or without it: then no event names it any more. */
export function setTablet(scenario, on) {
  const s = clone(scenario);
  if (on) {
    s.devices = ['phone', 'tablet'];
    return s;
  }
  delete s.devices;
  s.events = (s.events || []).map((e) => {
    if (e.device === undefined) return e;
    const { device: _device, ...rest } = e;
    return rest;
  });
  return s;
}

export const REASON_PROTOCOLS = ['SIP', 'Q.850', 'RELEASE_CAUSE', 'FAILURE_CAUSE'];

/** Build a Reason header value; protocol "" (or null) means "no Reason" (a bare BYE). */
export function composeReason(protocol, cause, text) {
  if (!protocol) return null;
  let v = protocol;
  if (cause !== '' && cause != null && Number.isFinite(Number(cause))) v += `;cause=${Number(cause)}`;
  if (text) v += `;text="${String(text).replace(/["\\]/g, '')}"`;
  return v;
}

/** Split a Reason header value back into protocol, cause and text (lenient). */
export function parseReason(value) {
  if (value == null || value === '') return { protocol: '', cause: '', text: '' };
  const parts = String(value).split(';');
  const out = { protocol: parts[0].trim(), cause: '', text: '' };
  for (const p of parts.slice(1)) {
    const m = /^\s*(cause|text)\s*=\s*(.*)$/i.exec(p);
    if (!m) continue;
    if (m[1].toLowerCase() === 'cause') out.cause = m[2].trim();
    else out.text = m[2].trim().replace(/^"|"$/g, '');
  }
  return out;
}

/** A new event of a kind with sensible defaults. */
export function newEvent(kind, at_ms, scenario) {
  const at = Math.max(0, Math.round(at_ms));
  const members = membersOf(scenario);
  switch (kind) {
    case 'message':
      return { at_ms: at, kind, from: members[0]?.id || 'alice', text: 'New message' };
    case 'bye':
      return { at_ms: at, kind, reason: 'SIP;cause=480;text="Temporarily Unavailable"' };
    case 'leave':
      return { at_ms: at, kind, member: 'carol' };
    case 'join':
      return { at_ms: at, kind, member: joinableAt(members, scenario?.events, at) };
    case 'invite_rejected':
      return { at_ms: at, kind, status: 480 };
    case 'register':
      return { at_ms: at, kind, reaction_ms: 500 };
    default:
      return { at_ms: at, kind };
  }
}

/**
 * A member a `join` at `at` may name: one outside the group then (out from the start when
 * `in_group` is false, or after a `leave`) whose next join/leave after `at` is not a join, so
 * the new event keeps the timeline valid (the engine refuses a join of a member already in,
 * issue 11 defect 9). An event at the same time as `at` counts as before it (a new event is
 * placed after those). With no such member, the last one (the page then says why it is refused).
 */
export function joinableAt(members, events, at) {
  const inside = new Map(members.map((m) => [m.id, m.in_group !== false]));
  const nextIsJoin = new Map();
  const sorted = (Array.isArray(events) ? events : []).map((e, i) => [e, i]).sort((a, b) => (a[0].at_ms - b[0].at_ms) || (a[1] - b[1]));
  for (const [e] of sorted) {
    const id = e.kind === 'join' ? e.member : e.kind === 'leave' && e.member !== 'carol' ? e.member : null;
    if (id == null || !inside.has(id)) continue;
    if (e.at_ms <= at) inside.set(id, e.kind === 'join');
    else if (!nextIsJoin.has(id)) nextIsJoin.set(id, e.kind === 'join');
  }
  const ok = members.find((m) => !inside.get(m.id) && !nextIsJoin.get(m.id));
  return ok?.id || members[members.length - 1]?.id || 'dave';
}

/** The scenario's members, with the format's default (Alice, Bob) when none are listed. */
export function membersOf(scenario) {
  const m = scenario?.members;
  if (Array.isArray(m) && m.length) return m;
  return [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
  ];
}

const clone = (x) => (typeof structuredClone === 'function' ? structuredClone(x) : JSON.parse(JSON.stringify(x)));

// Scenarios are treated as immutable values (every edit below returns a new object and never
// changes its input), so the JSON text of one can be computed once and reused: by the engine
// call, the undo history and the saved state, which would otherwise each serialise a
// 1,000-event scenario again on every edit.
// An edit also keeps every event it does not touch (updateEvent shares them), so a big
// scenario's JSON is joined from the events' own cached texts: moving one marker on a
// 10,000-event timeline serialises one event, not 10,000. The text is exactly JSON.stringify's.
const jsonCache = new WeakMap();
const eventCache = new WeakMap();
export function eventJson(ev) {
  if (ev === null || typeof ev !== 'object') return JSON.stringify(ev) ?? 'null';
  let j = eventCache.get(ev);
  if (j === undefined) {
    j = JSON.stringify(ev) ?? 'null';
    eventCache.set(ev, j);
  }
  return j;
}
function joinedJson(s) {
  const parts = [];
  for (const k of Object.keys(s)) {
    let v;
    if (k === 'events') {
      const ev = s.events;
      const items = new Array(ev.length);
      for (let i = 0; i < ev.length; i++) items[i] = eventJson(ev[i]);
      v = `[${items.join(',')}]`;
    } else {
      v = JSON.stringify(s[k]);
    }
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${v}`);
  }
  return `{${parts.join(',')}}`;
}
/** JSON text of a scenario object (as JSON.stringify), computed once per object. */
export function scenarioJson(s) {
  if (typeof s === 'string') return s;
  if (s === null || typeof s !== 'object') return JSON.stringify(s);
  let j = jsonCache.get(s);
  if (j === undefined) {
    const plain = !Array.isArray(s) && Object.getPrototypeOf(s) === Object.prototype && Array.isArray(s.events) && typeof s.toJSON !== 'function';
    j = plain ? joinedJson(s) : JSON.stringify(s);
    jsonCache.set(s, j);
  }
  return j;
}

/** Stable sort by at_ms (keeps the order of equal times, which the engine honours). */
function sortEvents(events) {
  return events
    .map((e, i) => [e, i])
    .sort((a, b) => a[0].at_ms - b[0].at_ms || a[1] - b[1])
    .map((p) => p[0]);
}

/**
 * Insert an event; returns { scenario, index } where index is the new event's position.
 * An event at the same time as existing ones goes after them.
 */
export function addEvent(scenario, ev) {
  const s = clone(scenario);
  s.events = s.events || [];
  let i = s.events.length;
  while (i > 0 && s.events[i - 1].at_ms > ev.at_ms) i--;
  s.events.splice(i, 0, clone(ev));
  return { scenario: s, index: i };
}

/** Replace the event at index with a patched copy, re-sorting; returns { scenario, index }. */
export function updateEvent(scenario, index, patch, { exact = false } = {}) {
  // No deep copy: the other events are shared with the input, which nothing mutates.
  const s = scenario;
  const ev = { ...s.events[index], ...clone(patch) };
  // exact: the value as typed (the event editor), for the engine to accept or refuse by name.
  if (!exact) {
    if (!Number.isFinite(ev.at_ms) || ev.at_ms < 0) ev.at_ms = 0;
    ev.at_ms = Math.round(ev.at_ms);
  }
  const marked = s.events.map((e, i) => (i === index ? ev : e));
  const sorted = sortEvents(marked);
  return { scenario: { ...s, events: sorted }, index: sorted.indexOf(ev) };
}

export const moveEvent = (scenario, index, at_ms) => updateEvent(scenario, index, { at_ms });

export function deleteEvent(scenario, index) {
  const s = clone(scenario);
  s.events.splice(index, 1);
  return s;
}

/** Set one policy value (a policy is never in the CR: the UI says so). */
export function setPolicy(scenario, id, value, defaultValue) {
  const s = clone(scenario);
  s.policies = { ...(s.policies || {}) };
  if (value === defaultValue) delete s.policies[id];
  else s.policies[id] = value;
  return s;
}

/** One-line description of an event, for marker titles and the editor. */
export function describeEvent(ev, names = new Map()) {
  const who = (id) => (id === 'carol' ? 'Carol' : names.get(id) || id);
  if (ev.device === 'tablet') return `${describeEvent({ ...ev, device: undefined }, names)} (her tablet)`;
  switch (ev.kind) {
    case 'message':
      return `${who(ev.from)}: “${ev.text}”`;
    case 'bye':
      return ev.reason ? `BYE, Reason: ${ev.reason}` : 'BYE without Reason';
    case 'leave':
      return `${who(ev.member)} leaves`;
    case 'join':
      return `${who(ev.member)} joins`;
    case 'invite_rejected':
      return `next INVITE to Carol answered ${ev.status}`;
    case 'register':
      return `Carol registers (PF reacts after ${ev.reaction_ms ?? 0} ms)`;
    case 'rejoin':
      // Q20: a re-join with other session IDs (the scenario's `ids`, default `same`).
      return ev.ids && ev.ids !== 'same' ? `Carol re-joins with ${REJOIN_IDS[ev.ids] || ev.ids}` : KIND.get('rejoin').hint;
    default:
      return KIND.get(ev.kind)?.hint || ev.kind;
  }
}
