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
  { kind: 'rejoin', label: 'Re-join', hint: "Carol's client sends a re-join INVITE", params: [] },
  { kind: 'group_ends', label: 'Group ends', hint: 'the CF ends the group session', params: [] },
];
export const KIND = new Map(EVENT_KINDS.map((k) => [k.kind, k]));

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
    case 'join': {
      const outside = members.find((m) => m.in_group === false);
      return { at_ms: at, kind, member: outside?.id || members[members.length - 1]?.id || 'dave' };
    }
    case 'invite_rejected':
      return { at_ms: at, kind, status: 480 };
    case 'register':
      return { at_ms: at, kind, reaction_ms: 500 };
    default:
      return { at_ms: at, kind };
  }
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
function eventJson(ev) {
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

/** Ids the scenario format keeps for the actors (src/scenario.rs RESERVED_IDS). */
export const RESERVED_IDS = ['carol', 'carol-pf', 'cf', 'scscf'];
const MAX_ID = 16;
/**
 * A member id from a display name that the engine accepts (src/scenario.rs valid_id: 1-16 of
 * a-z, 0-9, '-', starting with a letter, not reserved) and that `taken` does not hold:
 * "Alexandra Richardson" → "alexandra-richar", "2nd shift" → "m-2nd-shift", "CF" → "cf-2".
 */
export function memberId(name, taken = () => false) {
  let base = String(name).normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (base && !/^[a-z]/.test(base)) base = `m-${base}`;
  const fit = (b, room) => b.slice(0, room).replace(/-+$/, '');
  base = fit(base, MAX_ID) || 'member';
  const free = (id) => !RESERVED_IDS.includes(id) && !taken(id);
  if (free(base)) return base;
  for (let k = 2; ; k++) {
    const id = `${fit(base, MAX_ID - String(k).length - 1)}-${k}`;
    if (free(id)) return id;
  }
}

/** Add a member who is not in the group yet (for join events); returns { scenario, id }. */
export function addMember(scenario, name) {
  const s = clone(scenario);
  s.members = membersOf(s).slice();
  const id = memberId(name, (x) => s.members.some((m) => m.id === x));
  s.members.push({ id, name: String(name), in_group: false });
  return { scenario: s, id };
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
    default:
      return KIND.get(ev.kind)?.hint || ev.kind;
  }
}

/**
 * Undo/redo kept as changes, bounded in steps and in bytes (issue 13, item 5). An entry is what
 * turns one scenario into the other: the scenario without its events (a few KB at most) and
 * splices of the event list, found from the events' cached JSON texts (a marker moved is one
 * event taken out and one put in, whatever the timeline's size). Snapshots of 200 whole
 * 8 MB scenarios took 1.6 GB. A push without the new scenario (a preset or a link replacing
 * everything) keeps the old one whole, counted in the same byte budget.
 */
export class History {
  constructor(limit = 200, maxBytes = 64 * 1024 * 1024) {
    this.limit = limit;
    this.maxBytes = maxBytes;
    this.past = [];
    this.future = [];
    this.bytes = 0;
  }
  /** Record the state *before* an edit; `next` (the state after it) lets it keep only the change. */
  push(prev, next) {
    // An edit that changed nothing (the same file opened again) is still a step to undo.
    const c = next ? diff(next, prev) || none(prev) : whole(prev);
    this.past.push(c);
    this.bytes += c.bytes;
    for (const f of this.future) this.bytes -= f.bytes;
    this.future = [];
    this.trim();
  }
  trim() {
    while (this.past.length && (this.past.length > this.limit || this.bytes > this.maxBytes)) this.bytes -= this.past.shift().bytes;
  }
  canUndo() {
    return this.past.length > 0;
  }
  canRedo() {
    return this.future.length > 0;
  }
  undo(current) {
    return this.step(this.past, this.future, current);
  }
  redo(current) {
    return this.step(this.future, this.past, current);
  }
  step(from, to, current) {
    if (!from.length) return null;
    const c = from.pop();
    this.bytes -= c.bytes;
    const s = apply(current, c);
    const back = diff(s, current) || none(current);
    to.push(back);
    this.bytes += back.bytes;
    this.trim();
    return s;
  }
  clear() {
    this.past = [];
    this.future = [];
    this.bytes = 0;
  }
}

/** The scenario without its events as JSON (key order kept: events stays where it was). */
function headJson(s) {
  const o = {};
  for (const k of Object.keys(s)) o[k] = k === 'events' ? null : s[k];
  return JSON.stringify(o);
}
const size = (text) => 2 * text.length; // UTF-16: the most a JS string can take
function whole(s) {
  const text = scenarioJson(s);
  return { text, bytes: size(text) + 64 };
}
/** The change that changes nothing. */
function none(s) {
  if (!s || !Array.isArray(s.events)) return whole(s);
  const head = headJson(s);
  return { head, ops: [], bytes: size(head) + 64 };
}
/** The change that turns scenario `a` into `b`: apply(a, diff(a, b)) is b (null: no change). */
function diff(a, b) {
  if (!a || !b || !Array.isArray(a.events) || !Array.isArray(b.events)) return b ? whole(b) : null;
  const head = headJson(b);
  const ea = a.events.map(eventJson);
  const eb = b.events.map(eventJson);
  let p = 0;
  while (p < ea.length && p < eb.length && ea[p] === eb[p]) p++;
  let q = 0;
  while (q < ea.length - p && q < eb.length - p && ea[ea.length - 1 - q] === eb[eb.length - 1 - q]) q++;
  const ma = ea.slice(p, ea.length - q);
  const mb = eb.slice(p, eb.length - q);
  if (!ma.length && !mb.length && head === headJson(a)) return null;
  let ops;
  const n = ma.length;
  const same = (x, y, len) => { for (let i = 0; i < len; i++) if (x[i] !== y[i]) return false; return true; };
  if (n >= 2 && n === mb.length && same(ma.slice(1), mb, n - 1)) {
    // The run's first event went to its end (a marker moved later): one out, one in.
    ops = [{ at: p, remove: 1, insert: [] }, { at: p + n - 1, remove: 0, insert: [mb[n - 1]] }];
  } else if (n >= 2 && n === mb.length && same(ma, mb.slice(1), n - 1)) {
    // The run's last event came to its front (a marker moved earlier).
    ops = [{ at: p + n - 1, remove: 1, insert: [] }, { at: p, remove: 0, insert: [mb[0]] }];
  } else {
    ops = [{ at: p, remove: ma.length, insert: mb }];
  }
  let bytes = size(head) + 64;
  for (const o of ops) for (const t of o.insert) bytes += size(t) + 16;
  return { head, ops, bytes };
}
/** Scenario `a` changed by `c` (a diff from `a`); the events it keeps are shared with `a`. */
function apply(a, c) {
  if (c.text != null) return JSON.parse(c.text);
  const events = a.events.slice();
  for (const o of c.ops) events.splice(o.at, o.remove, ...o.insert.map((t) => JSON.parse(t)));
  const s = JSON.parse(c.head);
  s.events = events;
  return s;
}
