// Undo and redo (issue 13, item 5): the timeline's edits kept as changes, bounded in steps and
// in bytes. Loaded at start next to the engine (a dynamic import: no edit can happen before the
// engine is there).
import { scenarioJson, eventJson } from './scenario.js';

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
  const ea = a.events;
  const eb = b.events;
  // The same event object is the same event (an edit shares the ones it did not change): only
  // different objects are compared by their JSON texts.
  const eq = (x, y) => x === y || eventJson(x) === eventJson(y);
  let p = 0;
  while (p < ea.length && p < eb.length && eq(ea[p], eb[p])) p++;
  let q = 0;
  while (q < ea.length - p && q < eb.length - p && eq(ea[ea.length - 1 - q], eb[eb.length - 1 - q])) q++;
  const ma = ea.slice(p, ea.length - q).map(eventJson);
  const mb = eb.slice(p, eb.length - q).map(eventJson);
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
