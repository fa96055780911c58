// A time-boxed mutational fuzzer for share-link decoding (decodeShare in www/share.js), the page's
// companion of examples/fuzz.rs: `make fuzz`, or
//   node tests-web/fuzz/share-fuzz.mjs --seconds 60 [--seed S] [--iterations K]
// (--iterations runs a fixed count instead of a time box; the unit test does that).
//
// Seeds: links made with the page's own encodeShare from every preset (from the wasm module) in
// three views (rules, compare, playhead, cursor, scroll, selection, hideFuture); the third view's
// scenario is a version 2 file with a tour (issue 15), whose stops the json layer mutates too.
// Mutations at three layers, taken in turn, so that inputs get past each check of the decoder:
//   fragment    the base64url text: char flips, non-alphabet chars, inserts, deletes, truncation,
//               duplication, splices between seeds, long runs, a damaged "#s=" prefix
//   compressed  the deflate bytes (bit flips, inserts, deletes, truncation, splices), or mutated
//               JSON bytes in stored deflate blocks (reaches the UTF-8 check); then base64url
//   json        the page state: type confusion per field, odd numbers (1e999, -0, 2^64), huge and
//               hostile strings, __proto__/constructor keys, deep nesting, duplicated or missing
//               keys, wrong version; or JSON text mutations. Validly deflated, so it reaches the
//               shape checks and the engine.
//
// The contract (checkOutcome): decodeShare resolves to a state of the documented types, or
// rejects with a ShareError carrying a short sentence; in under 2 s; Object.prototype and
// Array.prototype unchanged. A state that resolves then goes where openLink sends it:
// JSON.stringify (engine.js scenarioJson), the wasm `check`, and a run when valid. A throw
// there other than the engine's own error (a panic, a trap, a RangeError) is a crash too.
// Crashes are saved as target/fuzz-crashes/share-<n>.txt (the fragment); exit code 1 if any.

import fs from 'node:fs';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { decodeShare, encodeShare, toBase64url, fromBase64url, PREFIX, MAX_UNPACKED } from '../../www/share.js';
import { needsSecond } from '../../www/engine.js';

const root = new URL('../../', import.meta.url);
export const SLOW_MS = 2000; // one input, decoded (or checked by the engine), must not take longer
const HANG_MS = 10000; // a decode that has not settled by then never will
const MAX_MESSAGE = 500; // a refusal is a sentence in the page's banner, not a dump of the link
const RUN_EVENTS = 400; // like examples/fuzz.rs: run only scenarios of up to this many events

/** splitmix64, as in examples/fuzz.rs: seedable, no Math.random, `--seed` reproduces a run. */
export class Rng {
  constructor(seed) {
    this.s = BigInt.asUintN(64, BigInt(seed));
  }
  next() {
    this.s = BigInt.asUintN(64, this.s + 0x9e3779b97f4a7c15n);
    let z = this.s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }
  below(n) {
    return n <= 0 ? 0 : Number(this.next() % BigInt(n));
  }
  pick(list) {
    return list[this.below(list.length)];
  }
}

// ---------------------------------------------------------------- the engine

const wasmModules = {};
let instances = 0;
/**
 * A fresh instance of the wasm glue (a new URL is a new module): after a panic the old one is in
 * an unknown state. `dir` pkg is the page's first module; pkg/export the second, which the page
 * checks a scenario with a tour with (the first is built without the tour checks, www/engine.js).
 */
export async function loadEngine(dir = 'pkg') {
  wasmModules[dir] ||= new WebAssembly.Module(fs.readFileSync(new URL(`${dir}/cpm_deferral_bg.wasm`, root)));
  const mod = await import(new URL(`${dir}/cpm_deferral.js?instance=${instances++}`, root).href);
  mod.initSync({ module: wasmModules[dir] });
  globalThis.__cpmPanic = undefined;
  return mod;
}

/** As Engine.call in www/engine.js: the engine's own errors are Errors; a panic or trap is not. */
export function engineCall(fn) {
  try {
    const value = fn();
    if (globalThis.__cpmPanic) return { panic: String(globalThis.__cpmPanic) };
    return { value };
  } catch (e) {
    const panic = globalThis.__cpmPanic;
    if (panic || e instanceof WebAssembly.RuntimeError || !(e instanceof Error)) return { panic: String(panic || e?.message || e) };
    return { error: e.message };
  }
}

// ---------------------------------------------------------------- the contract

const show = (v) => {
  try {
    return String(JSON.stringify(v)).slice(0, 80);
  } catch {
    return typeof v;
  }
};
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What is wrong with a state decodeShare resolved to, or null. */
export function checkState(st) {
  if (!isObject(st)) return `resolved to ${show(st)}, not a state object`;
  if (st.rules !== 'post-cr' && st.rules !== 'pre-cr') return `rules is ${show(st.rules)}`;
  if (typeof st.compare !== 'boolean') return `compare is ${show(st.compare)}`;
  if (typeof st.hideFuture !== 'boolean') return `hideFuture is ${show(st.hideFuture)}`;
  if (typeof st.preset !== 'string') return `preset is ${show(st.preset)}`;
  if (!(Number.isFinite(st.t) && st.t >= 0)) return `t is ${show(st.t)}`;
  if (!(st.cursor === null || (Number.isInteger(st.cursor) && st.cursor >= 0))) return `cursor is ${show(st.cursor)}`;
  if (!(st.scroll === null || (Number.isFinite(st.scroll) && st.scroll >= 0))) return `scroll is ${show(st.scroll)}`;
  const s = st.sel;
  if (s !== null) {
    if (!isObject(s)) return `sel is ${show(s)}`;
    if (s.side !== 'main' && s.side !== 'alt') return `sel.side is ${show(s.side)}`;
    if (!(Number.isInteger(s.step) && s.step >= 0)) return `sel.step is ${show(s.step)}`;
    if (!(s.chat === null || Number.isInteger(s.chat))) return `sel.chat is ${show(s.chat)}`;
  }
  if (!isObject(st.scenario)) return `scenario is ${show(st.scenario)}`;
  if (!Array.isArray(st.scenario.events)) return `scenario.events is ${show(st.scenario.events)}`;
  return null;
}

/**
 * Classifies one decode: `{ value }` (resolved) or `{ error }` (rejected), with `ms`.
 * @returns {string|null} why it breaks the contract, or null
 */
export function checkOutcome(o) {
  if (o.ms > SLOW_MS) return `took ${Math.round(o.ms)} ms (limit ${SLOW_MS} ms)`;
  if ('error' in o) {
    const e = o.error;
    if (!e || e.name !== 'ShareError') return `rejected with ${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 200)}`;
    if (typeof e.message !== 'string' || !e.message.trim()) return 'a ShareError with an empty message';
    if (e.message.length > MAX_MESSAGE) return `a ShareError message of ${e.message.length} characters: ${e.message.slice(0, 80)}…`;
    return null;
  }
  return checkState(o.value);
}

const PROTOS = [Object.prototype, Array.prototype];
const PROTO_BASELINE = PROTOS.map((p) => new Set(Reflect.ownKeys(p)));
/** Prototype pollution: what Object.prototype or Array.prototype gained, or null. */
export function pollution() {
  const added = PROTOS.flatMap((p, i) => Reflect.ownKeys(p).filter((k) => !PROTO_BASELINE[i].has(k)));
  return added.length ? `prototype pollution: ${PROTOS.map((p) => p.constructor.name).join('/')}.prototype gained ${added.map(String).join(', ')}` : null;
}
/** Removes what pollution() reports, so the inputs after it are judged on their own. */
export function unpollute() {
  PROTOS.forEach((p, i) => Reflect.ownKeys(p).filter((k) => !PROTO_BASELINE[i].has(k)).forEach((k) => delete p[k]));
}

/** A refusal's first words, for the histogram (numbers and quoted values folded). */
export function refusalKey(message) {
  return message.split(/[(,:"{[]/)[0].trim().split(/\s+/).slice(0, 6).join(' ').replace(/-?(Infinity|\d[\d.e+-]*)/g, 'N');
}

// ---------------------------------------------------------------- seeds

const VIEWS = [
  (name) => ({ rules: 'post-cr', compare: false, preset: name, t: 0, cursor: null, sel: null, hideFuture: false, scroll: 0 }),
  (name) => ({ rules: 'pre-cr', compare: true, preset: name, t: 12345, cursor: 17, sel: { side: 'alt', step: 12, chat: 1 }, hideFuture: true, scroll: 480 }),
  () => ({ rules: 'post-cr', compare: true, preset: '', t: 2000.5, cursor: 0, sel: { side: 'main', step: 0, chat: null }, hideFuture: false, scroll: 7.5 }),
];

/**
 * A preset as a version 2 scenario with a tour (issue 15), every kind of switch used. The steps
 * are identities of the documented shape (the engine checks their text, not that they exist).
 */
function withTour(p) {
  const sc = JSON.parse(p.json);
  const kinds = [
    (i) => ({ caption: `<img src=x onerror=alert(1)> stop ${i}`, ask: { id: `q${i}`, question: '<b>Which?</b>', choices: ['a', 'b'], answer: 1, explain: 'x' } }),
    () => ({ caption: 'x', rules: 'pre-cr', compare: true, highlight: { arrow: true } }),
    () => ({ filters: ['msrp-200', 'members'], highlight: { sentence: 'case1' } }),
    (i) => ({ policies: { 'q8-group-ends': 'discard' }, highlight: { panel: 'store' }, ask: { id: `t${i}`, question: 'Lose nothing', rules: 'pre-cr', expect: [{ count: 'lost', max: 0 }, { key: 'Deferred', present: false }, { state_at: 9000, state: 'Deferred' }] } }),
  ];
  const stops = sc.events.map((e, i) => ({ step: `${e.kind}#0/0000000${i % 10}/0`, ...kinds[i % 4](i) }));
  return { ...sc, version: 2, tour: { title: 'Tour', stops } };
}

/** Every preset in every view, as the page would share it: { state, text, bytes, payload }. */
async function makeSeeds(engine) {
  const seeds = [];
  for (const p of engine.presets()) {
    for (const view of VIEWS) {
      const hash = await encodeShare({ scenario: view === VIEWS[2] ? withTour(p) : JSON.parse(p.json), ...view(p.name) });
      const payload = hash.slice(PREFIX.length);
      const bytes = fromBase64url(payload);
      const state = JSON.parse(new TextDecoder().decode(await inflateAll(bytes)));
      seeds.push({ state, text: new TextEncoder().encode(JSON.stringify(state)), bytes, payload });
    }
  }
  return seeds;
}

async function inflateAll(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// ---------------------------------------------------------------- layer 1: the fragment text

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ODD = ['=', '==', '+', '/', '%', '%41', ' ', '\n', '\t', '#', '#s=', '.', '~', '!', '\0', 'é', '😀', '\u2028', '\ufeff', '&s=', '?'];
const PREFIXES = ['#S=', '#s', 's=', '#', '', '#s==', '#s=#s=', '#t=', ' #s=', '#s=%20'];

function mutateFragment(rng, seeds) {
  let prefix = PREFIX;
  let p = rng.pick(seeds).payload;
  for (let k = 0, n = 1 + rng.below(4); k < n; k++) {
    const len = p.length;
    const i = rng.below(len + 1);
    switch (rng.below(11)) {
      case 0:
      case 1: // an alphabet char changed (often still base64url; may still inflate)
        if (len) p = p.slice(0, i % len) + rng.pick(B64) + p.slice((i % len) + 1);
        break;
      case 2:
        p = p.slice(0, i) + rng.pick(ODD) + p.slice(i);
        break;
      case 3: {
        let s = '';
        for (let j = 1 + rng.below(8); j > 0; j--) s += rng.pick(B64);
        p = p.slice(0, i) + s + p.slice(i);
        break;
      }
      case 4:
        p = p.slice(0, i) + p.slice(i + 1 + rng.below(64));
        break;
      case 5:
        p = p.slice(0, i);
        break;
      case 6: {
        const chunk = p.slice(i, i + 1 + rng.below(256));
        const at = rng.below(len + 1);
        p = p.slice(0, at) + chunk.repeat(1 + rng.below(3)) + p.slice(at);
        break;
      }
      case 7: {
        const other = rng.pick(seeds).payload;
        p = p.slice(0, i) + other.slice(rng.below(other.length + 1));
        break;
      }
      case 8: // long runs, some past the 64 KB cap
        p = p.slice(0, i) + rng.pick([rng.pick(B64), rng.pick(ODD), 'A', '_']).repeat(rng.pick([100, 3000, 40000, 70000])) + p.slice(i);
        break;
      case 9: // whole link doubled: trailing data after the deflate end
        p += p.slice(0, rng.below(len + 1));
        break;
      default:
        prefix = rng.pick(PREFIXES);
    }
  }
  return prefix + p;
}

// ---------------------------------------------------------------- layer 2: the deflate bytes

const BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x03, 0xc0, 0xed, 0xef, 0xbb, 0xbf, 0xc3, 0x28, 0x22, 0x5c, 0x7b, 0x5b];

function mutateBytes(rng, input, others) {
  const v = Array.from(input);
  for (let k = 0, n = 1 + rng.below(4); k < n; k++) {
    const len = v.length;
    const i = rng.below(len);
    switch (rng.below(8)) {
      case 0:
        if (len) v[i] ^= 1 << rng.below(8);
        break;
      case 1:
        if (len) v[i] = rng.pick(BYTES);
        break;
      case 2:
        v.splice(rng.below(len + 1), 0, ...Array.from({ length: 1 + rng.below(8) }, () => rng.below(256)));
        break;
      case 3:
        if (len) v.splice(i, 1 + rng.below(Math.min(64, len - i)));
        break;
      case 4:
        v.length = rng.below(len + 1);
        break;
      case 5: {
        const chunk = v.slice(i, i + 1 + rng.below(256));
        v.splice(rng.below(len + 1), 0, ...chunk);
        break;
      }
      case 6: {
        const other = rng.pick(others);
        v.length = rng.below(len + 1);
        v.push(...other.subarray(rng.below(other.length + 1)));
        break;
      }
      default: // junk after the end of the stream
        v.push(...Array.from({ length: 1 + rng.below(16) }, () => rng.below(256)));
    }
  }
  return Uint8Array.from(v);
}

/** Bytes as stored (uncompressed) deflate blocks: any bytes at all reach the UTF-8 and JSON checks. */
export function storedDeflate(bytes) {
  const out = [];
  let at = 0;
  do {
    const n = Math.min(65535, bytes.length - at);
    const last = at + n >= bytes.length ? 1 : 0;
    out.push(last, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff, ...bytes.subarray(at, at + n));
    at += n;
  } while (at < bytes.length);
  return Uint8Array.from(out);
}

function mutateCompressed(rng, seeds) {
  const seed = rng.pick(seeds);
  if (rng.below(4) === 0) {
    const text = mutateBytes(rng, seed.text, seeds.map((s) => s.text));
    return PREFIX + toBase64url(storedDeflate(text));
  }
  return PREFIX + toBase64url(mutateBytes(rng, seed.bytes, seeds.map((s) => s.bytes)));
}

// ---------------------------------------------------------------- layer 3: the JSON

// Values JSON.stringify cannot write (1e999, -0, deep nesting, own __proto__ keys) go in as a
// marker string, replaced by their text after stringify.
const RAW = '\u0000raw';
const raw = (text) => ({ [RAW]: text });
const deep = (rng) => {
  const d = rng.pick([10, 100, 127, 128, 129, 500, 1000, 5000, 20000, 200000]);
  return rng.below(2) ? raw('['.repeat(d) + ']'.repeat(d)) : raw('{"a":'.repeat(d) + '1' + '}'.repeat(d));
};
const VALUES = [
  () => 0, () => -1, () => 1, () => 0.5, () => 17, () => 2 ** 31, () => 2 ** 53 + 2, () => Number.MAX_VALUE, () => -Number.MAX_VALUE, () => 5e-324,
  () => raw('1e999'), () => raw('-1e999'), () => raw('1e-999'), () => raw('-0'), () => raw('18446744073709551616'),
  () => 1733040000000, () => raw('1e13'), () => raw('1000.0'), () => raw('486.0'), () => '\uFFFE\uFFFF', // issue 13's classes
  () => raw('NaN'), () => raw('Infinity'), () => raw('0x10'), () => raw('01'), () => raw('1.'), () => raw('undefined'),
  () => '', () => 'NaN', () => 'Infinity', () => '1', () => '-1', () => '0', () => 'post-cr', () => 'pre-cr', () => 'POST-CR', () => 'main', () => 'alt', () => 'true', () => 'null',
  () => '<img src=x onerror=alert(1)>', () => '"><script>alert(1)</script>', () => 'javascript:alert(1)', () => '${alert(1)}',
  () => '\u0000\u2028\u2029\ufeff\u202e', () => '😀'.repeat(1000),
  (rng) => 'x'.repeat(rng.pick([1000, 100000, 1500000, 2500000])), // near and past the 2 MB cap
  () => true, () => false, () => null, () => [], () => ({}), () => [1, 2, 3], () => [[[]]], () => ({ events: [] }),
  () => ({ side: 'main', step: 1, chat: 2 }), () => ({ side: 'alt', step: -1 }), () => ({ side: 'main', step: '1' }),
  deep, deep,
  () => raw('{"__proto__":{"polluted":"yes","events":[]},"events":[]}'),
  () => raw('{"constructor":{"prototype":{"polluted":"yes"}},"events":[]}'),
  () => raw('{"__proto__":null,"toString":1,"valueOf":"x","hasOwnProperty":null,"events":[]}'),
  () => raw('{"a":1,"a":2,"events":[],"events":{}}'),
];
const STATE_PATHS = ['v', 'scenario', 'rules', 'compare', 'preset', 't', 'cursor', 'scroll', 'hideFuture', 'sel', 'sel.side', 'sel.step', 'sel.chat', '__proto__', 'constructor'];
const SCENARIO_KEYS = ['format', 'version', 'title', 'description', 'setup', 't1_ms', 'members', 'policies', 'events', 'tour'];
const STOP_KEYS = ['step', 'caption', 'rules', 'policies', 'filters', 'compare', 'highlight', 'highlight.arrow', 'highlight.panel', 'highlight.sentence', 'ask', 'ask.id', 'ask.choices', 'ask.answer', 'ask.expect', 'ask.expect.0', 'ask.expect.0.count', 'ask.rules'];
const EVENT_KEYS = ['at_ms', 'kind', 'from', 'text', 'reason', 'member', 'status', 'reaction_ms'];

/** A path into the state: a field of the state, of the scenario, or of one event. */
function pickPath(rng, state) {
  const r = rng.below(4);
  if (r === 0) return rng.pick(STATE_PATHS).split('.');
  if (r === 1) return ['scenario', rng.pick(SCENARIO_KEYS)];
  if (r === 3) {
    // A field of a tour stop (scenario version 2, issue 15), or of the tour itself.
    const n = Array.isArray(state?.scenario?.tour?.stops) ? state.scenario.tour.stops.length : 0;
    return rng.below(4) ? ['scenario', 'tour', 'stops', String(rng.below(n + 1)), ...rng.pick(STOP_KEYS).split('.')] : ['scenario', 'tour', rng.pick(['title', 'stops'])];
  }
  const n = Array.isArray(state?.scenario?.events) ? state.scenario.events.length : 0;
  return ['scenario', 'events', String(rng.below(n + 1)), rng.pick(EVENT_KEYS)].slice(0, 3 + rng.below(2));
}

function setPath(obj, path, value, remove) {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (o === null || typeof o !== 'object') return;
    if (!Object.hasOwn(o, k) || o[k] === null || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  const last = path[path.length - 1];
  if (o === null || typeof o !== 'object') return;
  if (remove) delete o[last];
  else Object.defineProperty(o, last, { value, enumerable: true, writable: true, configurable: true }); // own even for __proto__
}

/** Texts longer than this are not worth building: the decoder refuses anything over MAX_UNPACKED. */
const MAX_TEXT = 8 * MAX_UNPACKED;
/** What a state's JSON text would be at least (string lengths and one per value), counted up to `limit`. */
function sizeAtLeast(value, limit) {
  let n = 0;
  const stack = [value];
  while (stack.length && n <= limit) {
    const v = stack.pop();
    n += 1;
    if (typeof v === 'string') n += v.length;
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) stack.push(k, v[k]);
  }
  return n;
}
/** A text the decoder must refuse for its size (what a state too big to write stands for). */
const OVERSIZE = () => `{"v":1,"scenario":{"events":[],"title":"${'x'.repeat(MAX_UNPACKED)}"}}`;

/**
 * The state as JSON text, with raw values written in place of their markers. A state whose text
 * would pass MAX_TEXT (3,000 copies of an event carrying a 2.5 MB text is 7.5 G characters, past
 * V8's longest string) becomes OVERSIZE instead of a RangeError from the mutator itself.
 */
export function stringify(state) {
  if (sizeAtLeast(state, MAX_TEXT) > MAX_TEXT) return OVERSIZE();
  const raws = [];
  const text = JSON.stringify(state, (k, v) => {
    if (v && typeof v === 'object' && Object.keys(v).length === 1 && typeof v[RAW] === 'string') {
      raws.push(v[RAW]);
      return `@@raw${raws.length - 1}@@`;
    }
    return v;
  });
  const out = raws.reduce((t, r, i) => t.replace(`"@@raw${i}@@"`, () => r), text ?? 'undefined');
  return out.length > MAX_TEXT ? OVERSIZE() : out;
}

const TOKENS = ['1e999', '-0', 'NaN', 'null', 'true', '[]', '{}', '"', '\\', '\\u0000', '\\ud800', ',', ':', '"v":1,', '"v":2,', '"rules":"pre-cr",', '"scenario":{"events":[]},', '"__proto__":{"polluted":1},', '\u0000', '\ufeff', '😀', '[[[[[[[[', '}}}}'];

function mutateJsonText(rng, text) {
  let t = text;
  for (let k = 0, n = 1 + rng.below(3); k < n; k++) {
    const i = rng.below(t.length + 1);
    switch (rng.below(5)) {
      case 0:
        t = t.slice(0, i) + rng.pick(TOKENS) + t.slice(i);
        break;
      case 1:
        t = t.slice(0, i) + t.slice(i + 1 + rng.below(32));
        break;
      case 2: // a duplicated key, first or last wins
        t = rng.below(2) ? `{${rng.pick(TOKENS.filter((x) => x.endsWith(',')))}${t.slice(1)}` : `${t.slice(0, -1)},${rng.pick(['"v":1', '"v":"1"', '"scenario":[]', '"rules":"x"', '"sel":{"side":"main","step":3,"chat":null}', '"t":-5'])}}`;
        break;
      case 3:
        t = t.slice(0, i);
        break;
      default: {
        const chunk = t.slice(i, i + 1 + rng.below(128));
        t = t.slice(0, i) + chunk + chunk + t.slice(i);
      }
    }
  }
  return t;
}

async function mutateJson(rng, seeds) {
  const seed = rng.pick(seeds);
  let text;
  if (rng.below(4) === 0) {
    text = mutateJsonText(rng, JSON.stringify(seed.state));
  } else {
    let state = structuredClone(seed.state);
    for (let k = 0, n = 1 + rng.below(3); k < n; k++) {
      const r = rng.below(16);
      if (r === 0) {
        state = rng.pick(VALUES)(rng); // the whole state replaced
      } else if (r === 1 && Array.isArray(state?.scenario?.events)) {
        const ev = state.scenario.events; // many events, or none, or shuffled
        const m = rng.below(3);
        // Only objects are spread: an event that a mutation made a 2.5 MB string would spread
        // into 2.5 M properties, 3,000 times (the fuzzer ran out of heap after 511 s).
        const spread = (e) => (e !== null && typeof e === 'object' && !Array.isArray(e) ? e : {});
        if (m === 0) state.scenario.events = Array.from({ length: rng.pick([0, 50, 401, 3000]) }, (_, i) => ({ ...spread(ev[i % (ev.length || 1)]), at_ms: i * 10 }));
        else if (m === 1) state.scenario.events = ev.slice().reverse();
        else ev.splice(rng.below(ev.length + 1), 0, rng.pick(VALUES)(rng));
      } else if (r === 2) {
        const other = rng.pick(seeds).state; // a field from another seed
        const path = pickPath(rng, state);
        setPath(state, path, structuredClone(path.reduce((o, p) => (o && typeof o === 'object' && Object.hasOwn(o, p) ? o[p] : undefined), other) ?? null));
      } else {
        setPath(state, pickPath(rng, state), rng.pick(VALUES)(rng), r === 3);
      }
    }
    text = stringify(state);
  }
  // The fuzzer's own deflate is zlib's, in one call (the same deflate-raw format as the page's
  // CompressionStream; the stream's set-up cost a third of this layer's time). Decoding still
  // goes through the page's own DecompressionStream.
  return PREFIX + toBase64url(new Uint8Array(zlib.deflateRawSync(new TextEncoder().encode(text))));
}

// ---------------------------------------------------------------- the loop

export const LAYERS = ['fragment', 'compressed', 'json'];
const GENERATORS = { fragment: mutateFragment, compressed: mutateCompressed, json: mutateJson };

function settle(promise, ms) {
  let timer;
  const hang = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ hang: true }), ms);
  });
  return Promise.race([promise.then((value) => ({ value }), (error) => ({ error })), hang]).finally(() => clearTimeout(timer));
}

/**
 * Runs the fuzzer for `seconds` (or exactly `iterations` inputs) and returns the stats.
 * `decode` replaces decodeShare (the tests pass a broken one); `crashDir: null` saves nothing.
 */
export async function fuzzShare({ seconds = 60, iterations = null, seed = 0xc0ffee, decode = decodeShare, crashDir = new URL('target/fuzz-crashes/', root), log = () => {} } = {}) {
  const rng = new Rng(seed);
  let engine = await loadEngine();
  let full = await loadEngine('pkg/export');
  const seeds = await makeSeeds(engine);
  const stats = {
    seed: BigInt(seed).toString(), seeds: seeds.length, execs: 0, ms: 0, crashes: 0, crashList: [], refusals: {},
    layers: Object.fromEntries(LAYERS.map((l) => [l, { execs: 0, ms: 0, accepted: 0, refused: 0, crashes: 0 }])),
    engine: { checked: 0, valid: 0, invalid: 0, runs: 0, runErrors: 0, panics: 0, tours: 0, tourRefused: 0 },
  };
  // Errors nobody awaited (a stream's, say) are reported with the input in progress.
  const strays = [];
  const onStray = (e) => strays.push(e);
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);

  const crash = (layer, hash, reason) => {
    stats.crashes++;
    stats.layers[layer].crashes++;
    let file = null;
    if (crashDir) {
      fs.mkdirSync(crashDir, { recursive: true });
      file = new URL(`share-${stats.crashes}.txt`, crashDir);
      fs.writeFileSync(file, hash);
    }
    stats.crashList.push({ layer, reason, hash, file: file && file.pathname });
    log(`  crash (${layer}): ${reason}${file ? ` -> ${file.pathname}` : ''}`);
  };

  const start = performance.now();
  try {
    for (let i = 0; iterations == null ? performance.now() - start < seconds * 1000 : i < iterations; i++) {
      const layer = LAYERS[i % LAYERS.length];
      const L = stats.layers[layer];
      const t0 = performance.now();
      const hash = await GENERATORS[layer](rng, seeds);
      const d0 = performance.now();
      const out = await settle(Promise.resolve().then(() => decode(hash)), HANG_MS);
      out.ms = performance.now() - d0;
      stats.execs++;
      L.execs++;
      const reason = out.hang ? `no answer after ${HANG_MS} ms` : checkOutcome(out) || pollution();
      if (reason) {
        crash(layer, hash, reason);
        unpollute();
      } else if ('error' in out) {
        L.refused++;
        const key = refusalKey(out.error.message);
        stats.refusals[key] = (stats.refusals[key] || 0) + 1;
      } else {
        L.accepted++;
        // Where openLink sends the state: engine.check of the scenario as written in the link
        // (scenarioText), then a run of it (JSON.stringify of the parsed scenario, as the page runs it).
        const e0 = performance.now();
        let problem = null;
        let panic = null;
        let json = null;
        try {
          json = JSON.stringify(out.value.scenario);
        } catch (e) {
          problem = `JSON.stringify(scenario) threw ${e.name}: ${e.message} (openLink would throw it, not show a message)`;
        }
        if (json != null) {
          stats.engine.checked++;
          // As the page: a scenario with a tour, chunking or a policy is checked (and run) by
          // the second module (www/engine.js needsSecond).
          const eng = needsSecond(out.value.scenarioText ?? out.value.scenario) ? full : engine;
          const c = engineCall(() => eng.check(out.value.scenarioText ?? json));
          if (c.panic) panic = `check panicked: ${c.panic}`;
          else if (c.error) problem = `check threw: ${c.error}`; // check returns its message, it never throws
          else if (c.value != null) {
            stats.engine.invalid++;
            if (/^tour/.test(c.value)) stats.engine.tourRefused++;
          } else {
            stats.engine.valid++;
            if (out.value.scenario.tour) stats.engine.tours++;
            if (out.value.scenario.events.length <= RUN_EVENTS) {
              stats.engine.runs++;
              const r = engineCall(() => eng.run(json, out.value.rules));
              if (r.panic) panic = `run (${out.value.rules}) panicked: ${r.panic}`;
              else if (r.error) stats.engine.runErrors++;
            }
          }
        }
        const ms = performance.now() - e0;
        if (panic) {
          stats.engine.panics++;
          engine = await loadEngine();
          full = await loadEngine('pkg/export');
        }
        problem ||= panic || (ms > SLOW_MS ? `the engine took ${Math.round(ms)} ms (limit ${SLOW_MS} ms)` : null);
        if (problem) crash(layer, hash, problem);
      }
      if (strays.length) {
        crash(layer, hash, `unhandled ${strays.map((e) => `${e?.name}: ${e?.message}`).join('; ')}`);
        strays.length = 0;
      }
      L.ms += performance.now() - t0;
    }
  } finally {
    process.off('uncaughtException', onStray);
    process.off('unhandledRejection', onStray);
  }
  stats.ms = performance.now() - start;
  return stats;
}

/** The summary, in the style of examples/fuzz.rs. */
export function summary(stats, secs) {
  const lines = [`share-fuzz: ${secs} over ${LAYERS.length} layers, seed ${stats.seed} (${stats.seeds} seed links)`];
  for (const [name, L] of Object.entries(stats.layers)) {
    const rate = L.ms ? (L.execs * 1000) / L.ms : 0;
    lines.push(`  ${name.padEnd(12)} ${String(L.execs).padStart(9)} executions  ${rate.toFixed(0).padStart(7)}/s  ${String(L.accepted).padStart(7)} accepted  ${String(L.refused).padStart(7)} refused  ${L.crashes} crashes`);
  }
  const e = stats.engine;
  lines.push(`  engine       ${String(e.checked).padStart(9)} scenarios checked: ${e.valid} valid (${e.runs} runs, ${e.runErrors} run errors; ${e.tours} with a tour), ${e.invalid} refused by check (${e.tourRefused} for the tour), ${e.panics} panics`);
  lines.push(`  all          ${String(stats.execs).padStart(9)} executions  ${((stats.execs * 1000) / stats.ms).toFixed(0).padStart(7)}/s in ${(stats.ms / 1000).toFixed(1)} s`);
  lines.push('  refusals (ShareError, first words):');
  for (const [k, n] of Object.entries(stats.refusals).sort((a, b) => b[1] - a[1])) lines.push(`    ${String(n).padStart(8)}  ${k}`);
  lines.push(`  ${stats.crashes} crashes`);
  lines.push(`RESULT share_execs=${stats.execs} crashes=${stats.crashes}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const iterations = opt('--iterations') != null ? Number(opt('--iterations')) : null;
  const seconds = Number(opt('--seconds') ?? 60);
  const seed = opt('--seed') ?? 0xc0ffee;
  if ((iterations != null && !(iterations >= 0)) || !(seconds >= 0) || !/^(\d+|0x[0-9a-f]+)$/i.test(String(seed))) {
    console.error('usage: node tests-web/fuzz/share-fuzz.mjs --seconds N [--seed S] [--iterations K]');
    process.exit(2);
  }
  const stats = await fuzzShare({ seconds, iterations, seed, log: (l) => console.error(l) });
  console.log(summary(stats, iterations != null ? `${iterations} inputs` : `${seconds} s`));
  if (stats.crashes) {
    console.error('share-fuzz: inputs that crashed are in target/fuzz-crashes/share-*.txt');
    process.exit(1);
  }
}
