// Loads the wasm engine (pkg/, wasm-bindgen --target web) and wraps its calls. A scenario error
// comes back as { error }, a Rust panic (or any wasm trap) as a thrown EngineCrash: after a
// panic the module is in an unknown state, so the page offers a reload.

import { scenarioJson } from './scenario.js';

export class EngineCrash extends Error {
  constructor(message) {
    super(message);
    this.name = 'EngineCrash';
  }
}

const NONE = 0xffffffff; // an absent number in the packed columns (src/packed.rs NONE)

/** The trace's strings: one text and the UTF-16 end of each; a string is cut out when first read. */
export class Strings {
  constructor(text, ends) {
    this.text = text;
    this.ends = ends;
    this.cache = new Array(ends.length);
  }
  get(i) {
    let s = this.cache[i];
    if (s === undefined) {
      s = this.text.slice(i > 0 ? this.ends[i - 1] : 0, this.ends[i]);
      this.cache[i] = s;
    }
    return s;
  }
}

// One step of a packed trace: the fields of docs/trace-contract.md as getters over the engine's
// number column, so a 10,000-message run (~87,000 steps) costs one small object per step and
// no strings until something is shown. `toJSON` gives the contract's plain object.
export class PackedStep {
  constructor(t, index) {
    this.t = t;
    this.index = index;
  }
  get at_ms() { return this.t.u[this.index * this.t.F]; }
  get arrive_ms() { return this.t.u[this.index * this.t.F + 1]; }
  get from() { return this.t.s.get(this.t.u[this.index * this.t.F + 2]); }
  get to() { return this.t.s.get(this.t.u[this.index * this.t.F + 3]); }
  get protocol() { return this.t.s.get(this.t.u[this.index * this.t.F + 4]); }
  get label() { return this.t.s.get(this.t.u[this.index * this.t.F + 5]); }
  /** The step's explanation; from the second module when the run's module has none (Engine.notesFor). */
  get note() { return this.t.notes ? this.t.notes[this.index] : this.t.s.get(this.t.u[this.index * this.t.F + 6]); }
  get clauses() { return this.t.sets[this.t.u[this.index * this.t.F + 7]]; }
  get kind() { return this.t.s.get(this.t.u[this.index * this.t.F + 8]); }
  get pf_state() { return this.t.s.get(this.t.u[this.index * this.t.F + 9]); }
  get queue_len() { return this.t.u[this.index * this.t.F + 10]; }
  get chat() { const v = this.t.u[this.index * this.t.F + 11]; return v === NONE ? undefined : v; }
  get event() { const v = this.t.u[this.index * this.t.F + 12]; return v === NONE ? undefined : v; }
  get policy() { return (this.t.u[this.index * this.t.F + 13] & 1) === 1; }
  get dropped() { return (this.t.u[this.index * this.t.F + 13] & 2) === 2 ? true : undefined; }
  /** A key step's short title (src/story.rs), or undefined. */
  get key() { const v = this.t.u[this.index * this.t.F + 14]; return v === NONE ? undefined : this.t.s.get(v); }
  get cause() { return this.t.s.get(this.t.u[this.index * this.t.F + 15]); }
  get sig() { return this.t.u[this.index * this.t.F + 16]; }
  get nth() { return this.t.u[this.index * this.t.F + 17]; }
  /** The step's identity, `cause/sig/nth` (sig as 8 hex digits; Step::sid in src/story.rs). */
  get sid() { return `${this.cause}/${this.sig.toString(16).padStart(8, '0')}/${this.nth}`; }
  /** The wire text is fetched on demand (Engine.raw), never carried here. */
  get raw() { return ''; }
  toJSON() {
    const o = {
      index: this.index, at_ms: this.at_ms, arrive_ms: this.arrive_ms, from: this.from, to: this.to, protocol: this.protocol,
      label: this.label, raw: '', clauses: this.clauses, note: this.note, kind: this.kind, policy: this.policy,
      pf_state: this.pf_state, queue_len: this.queue_len,
    };
    if (this.chat !== undefined) o.chat = this.chat;
    if (this.event !== undefined) o.event = this.event;
    if (this.dropped) o.dropped = true;
    if (this.key !== undefined) o.key = this.key;
    o.cause = this.cause;
    o.sig = this.sig;
    o.nth = this.nth;
    return o;
  }
}

// One chat message of a packed trace (getters, as PackedStep).
export class PackedChat {
  constructor(t, i) {
    this.t = t;
    this.o = i * t.C;
  }
  n(k) { const v = this.t.c[this.o + k]; return v === NONE ? null : v; }
  get id() { return this.t.c[this.o]; }
  get from() { return this.t.s.get(this.t.c[this.o + 1]); }
  get text() { return this.t.s.get(this.t.c[this.o + 2]); }
  get imdn_id() { return this.t.s.get(this.t.c[this.o + 3]); }
  get sent_ms() { return this.t.c[this.o + 4]; }
  get sent_step() { return this.t.c[this.o + 5]; }
  get for_carol() { return this.t.c[this.o + 6] === 1; }
  get stored_ms() { return this.n(7); }
  get stored_step() { return this.n(8); }
  get in_flight_ms() { return this.n(9); }
  get in_flight_step() { return this.n(10); }
  get delivered_ms() { return this.n(11); }
  get delivered_step() { return this.n(12); }
  get outcome() { return this.t.s.get(this.t.c[this.o + 13]); }
  get removed_ms() { return this.n(14); }
  get removed_step() { return this.n(15); }
  get possible_duplicate() { return this.t.c[this.o + 16] === 1; }
  toJSON() {
    const o = {};
    for (const k of CHAT_KEYS) o[k] = this[k];
    return o;
  }
}
const CHAT_KEYS = ['id', 'from', 'text', 'imdn_id', 'sent_ms', 'sent_step', 'for_carol', 'stored_ms', 'stored_step', 'in_flight_ms',
  'in_flight_step', 'delivered_ms', 'delivered_step', 'outcome', 'removed_ms', 'removed_step', 'possible_duplicate'];

/**
 * Gives the engine's packed trace (src/packed.rs: `u32` columns, one string of all strings) the
 * shape of docs/trace-contract.md: steps and chats are read-only objects whose fields are read
 * from the columns when used (`JSON.stringify` gives the contract's JSON), `raw` is empty
 * (fetched on demand).
 */
export function unpackTrace(p) {
  if (!p || p.packed !== 2) return p;
  const it = unpacking(p);
  let r = it.next();
  while (!r.done) r = it.next();
  return r.value;
}

/**
 * The unpacking itself, as a generator that pauses after every 1,024 steps or chats and returns
 * the trace: `unpackTrace` runs it through, www/longrun.js yields the page's thread at each pause.
 */
export function* unpacking(p) {
  const s = new Strings(p.text, p.ends);
  const t = { u: p.steps, c: p.chats, F: p.step_fields, C: p.chat_fields, s, sets: p.clause_sets.map((set) => set.map((i) => s.get(i))) };
  const n = p.steps.length / t.F;
  const steps = new Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = new PackedStep(t, i);
    if ((i & 1023) === 1023) yield;
  }
  const m = p.chats.length / t.C;
  const chats = new Array(m);
  for (let i = 0; i < m; i++) {
    chats[i] = new PackedChat(t, i);
    if ((i & 1023) === 1023) yield;
  }
  const r = p.rest;
  return {
    version: r.version,
    rules: r.rules,
    title: r.title,
    end_ms: r.end_ms,
    lanes: r.lanes,
    steps,
    chats,
    timers: r.timers,
    pf_states: r.pf_states,
    participants: r.participants,
    policies: r.policies,
    summary: r.summary,
  };
}

/** Marks a trace of a module built without notes (`notesMissing`, not enumerable: not part of the contract). */
function noNotes(trace, mod) {
  if (trace && typeof mod.notes !== 'function' && typeof mod.export_text !== 'function') {
    Object.defineProperty(trace, 'notesMissing', { value: true, writable: true, enumerable: false });
    Object.defineProperty(trace, 'notesAsk', { value: null, writable: true, enumerable: false });
  }
  return trace;
}

/** The first module (pkg/), loaded and initialised. */
async function loadFirstModule() {
  if (typeof WebAssembly !== 'object') throw new Error('WebAssembly is not available in this page');
  // A literal path, so the offline build (scripts/build-offline.sh) can map it; that build also
  // puts the wasm bytes in globalThis.__cpmWasm instead of a file next to the glue.
  const mod = await import('../pkg/cpm_deferral.js');
  await mod.default({ module_or_path: globalThis.__cpmWasm || new URL('../pkg/cpm_deferral_bg.wasm', import.meta.url) });
  return mod;
}

export async function loadEngine() {
  return new Engine(await loadFirstModule());
}

/**
 * Whether this page may compile WebAssembly (a host's Content-Security-Policy without
 * 'wasm-unsafe-eval' refuses it): an empty module, compiled at once.
 */
function wasmRuns() {
  try {
    return typeof WebAssembly === 'object' && !!new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  } catch {
    return false;
  }
}

/** A first view's runs of one preset as the page reads them (number columns as Uint32Array). */
function firstRuns(r) {
  if (!r || typeof r.json !== 'string' || !r.post || !r.pre) return null;
  for (const t of [r.post, r.pre]) {
    t.ends = Uint32Array.from(t.ends);
    t.steps = Uint32Array.from(t.steps);
    t.chats = Uint32Array.from(t.chats);
  }
  return r;
}
const getJson = (name) => fetch(new URL(`../pkg/first-view/${name}.json`, import.meta.url)).then((r) => (r.ok ? r.json() : null), () => null).catch(() => null);

/**
 * The engine for a first visit (issue 10: the initial page within 150 KB gzip): the first
 * module's answers made when it was built (pkg/first-view/, scripts/first-view.mjs) for the
 * first preset, and for `preset` (a ?preset= link) too, and the module itself loaded later
 * (`loadFirst`: on the first input, or when a run is asked for that those do not hold). Where
 * WebAssembly may not run, or the files are missing, the module is loaded at once, as on any
 * other visit (loadEngine).
 */
export async function loadFirstView(preset = '') {
  if (globalThis.__cpmWasm || !wasmRuns()) return loadEngine();
  const index = await getJson('index');
  if (!index || index.format !== 'cpm-deferral-first-view' || !Array.isArray(index.presets) || !index.presets.length) return loadEngine();
  // Only a preset of the list is asked for (an unknown name gets the page's own message, no 404).
  const named = preset && preset !== index.presets[0].name && index.presets.some((p) => p.name === preset) ? await getJson(preset) : null;
  const runs = new Map();
  for (const r of [firstRuns(index.first), firstRuns(named)]) if (r) runs.set(r.json, r);
  return new Engine(null, { version: index.version, presets: index.presets, policies: index.policies, runs });
}

/** What a run answers, in a first view, when it needs the module and the module is not there yet. */
export const NOT_YET = 'the engine is still loading: try again in a moment';
/** The stand-in for "the module of the last run" in a first view: it holds no run (no wire texts). */
const NO_MODULE = {};

/**
 * Timelines with more events than this are big: their runs are made off the page's thread
 * (isBig, www/longrun.js), on the second module (pkg/export/), built for speed.
 */
export const FAST_EVENTS = 2000;
/**
 * Timelines with more events than this run on the second module once it has loaded (the first
 * such run starts loading it): about 1.5x native where the first module is 2-3x (make bench),
 * which keeps a 1,000-message edit inside a frame. Only past FAST_EVENTS does a run leave the
 * page's thread (isBig, www/longrun.js).
 */
export const SPEED_EVENTS = 500;

let fullModule = null;
/** The second build (pkg/export/: the engine with the exports, optimised for speed), loaded once. */
export function loadFullModule() {
  if (!fullModule) {
    fullModule = (async () => {
      const mod = await import('../pkg/export/cpm_deferral.js');
      await mod.default({ module_or_path: new URL('../pkg/export/cpm_deferral_bg.wasm', import.meta.url) });
      return mod;
    })();
    fullModule.catch(() => {
      fullModule = null;
    });
  }
  return fullModule;
}

/** Whether a scenario object, or a file's text, has a tour (text: a cheap look for the key). */
export function hasTour(x) {
  if (typeof x === 'string') return /"tour"\s*:/.test(x);
  return !!x && typeof x === 'object' && x.tour !== undefined;
}
/** check's answer for a scenario with a tour when the module that reads tours did not load. */
export const NO_TOUR_MODULE = 'it has a tour, and the engine module that checks tours (pkg/export/) did not load: reload the page and try again';
/**
 * Whether a scenario object, or a file's text, chunks its SENDs (Q14 `msrp_chunk_bytes`; text: a
 * cheap look for the key). The first module is built without chunking (Cargo feature `chunks`)
 * and refuses the field: such a scenario is checked and run by the second module.
 */
export function hasChunks(x) {
  if (typeof x === 'string') return /"msrp_chunk_bytes"\s*:/.test(x);
  return !!x && typeof x === 'object' && x.msrp_chunk_bytes !== undefined && x.msrp_chunk_bytes !== null;
}
/** check's answer for a scenario with msrp_chunk_bytes when the module that chunks did not load. */
export const NO_CHUNK_MODULE = 'it has msrp_chunk_bytes, and the engine module that sends chunks (pkg/export/) did not load: reload the page and try again';
/**
 * Whether a scenario object, or a file's text, sets a policy (text: a cheap look for a
 * `policies` object with a key). The first module is built with every policy at its default
 * (Cargo feature `policies`) and refuses another option (src/policy.rs NO_POLICIES): such a
 * scenario is checked and run by the second module. The page writes only the policies that are
 * not at their default (scenario.js setPolicy); a file may also name a default, and is then run
 * on the second module too, with the same trace (tests-web/unit/policy-module.test.mjs).
 */
export function hasPolicies(x) {
  if (typeof x === 'string') return /"policies"\s*:\s*\{\s*"/.test(x);
  const p = !!x && typeof x === 'object' ? x.policies : null;
  return !!p && typeof p === 'object' && Object.keys(p).length > 0;
}
/** check's answer for a scenario that sets a policy when the module that runs them did not load. */
export const NO_POLICY_MODULE = 'it sets a policy, and the engine module that runs policies other than the defaults (pkg/export/) did not load: reload the page and try again';
/** What the first module cannot run at all: chunking, a policy other than the default (a tour it runs without the tour). */
const cannotRun = (x) => hasChunks(x) || hasPolicies(x);
/** What the first module cannot check or run: a tour, chunking or a policy (null when it can). */
export function needsSecond(x) {
  return hasTour(x) ? NO_TOUR_MODULE : hasChunks(x) ? NO_CHUNK_MODULE : hasPolicies(x) ? NO_POLICY_MODULE : null;
}

export class Engine {
  /**
   * `mod` the first module, or null in a first view: then `first` (loadFirstView) answers for
   * the presets it holds the runs of until `loadFirst` has loaded the module.
   */
  constructor(mod, first = null) {
    /** The first module (pkg/): loaded at start, or by `loadFirst` after a first view. */
    this.mod = mod;
    /** A first visit's answers without the module (loadFirstView), while `mod` is null. */
    this.first = mod ? null : first;
    this.firstLoading = null;
    /** The speed-optimised module once loaded (the offline file's only module already is one). */
    this.fast = mod && typeof mod.export_text === 'function' ? mod : null;
    this.fastLoading = null;
    /** The module of the last run: `raw` asks it, as it holds that run's scenario. */
    this.last = mod || NO_MODULE;
    this.crashed = false;
  }
  /**
   * Loads the first module (a promise of it) in a first view; at once otherwise. A failure is
   * thrown to the caller and the next call tries again.
   */
  loadFirst() {
    if (this.mod) return Promise.resolve(this.mod);
    this.firstLoading ??= loadFirstModule().then(
      (m) => {
        this.mod = m;
        if (this.last === NO_MODULE) this.last = m;
        if (globalThis.document) document.documentElement.dataset.engine = 'loaded';
        return m;
      },
      (e) => {
        this.firstLoading = null;
        throw e;
      },
    );
    return this.firstLoading;
  }
  /** The first view's runs of `scenario` (no module needed for it), or undefined. */
  firstOf(scenario) {
    return this.first ? this.first.runs.get(scenarioJson(scenario)) : undefined;
  }
  /** Whether the first view holds the runs of `scenario`. */
  isFirst(scenario) {
    return !!this.firstOf(scenario);
  }
  /** Whether a run of `scenario` can be made now: the module is there, or the first view holds it. */
  canRun(scenario) {
    return !!this.mod || this.isFirst(scenario);
  }
  /** A first view's run of `scenario` under `rules` (a fresh trace each time, as a run gives). */
  firstRun(scenario, rules) {
    const r = this.firstOf(scenario);
    return noNotes(unpackTrace(rules === 'pre-cr' ? r.pre : r.post), NO_MODULE);
  }
  /**
   * The first view's `what` ('notes': one string, the steps' notes joined by U+001E, as the
   * module's `notes` gives them; 'raw': the wire text of each step) of the run of `scenario`
   * under `rules`, from the preset's texts file (pkg/first-view/NAME.text.json, made by the
   * second module when it is built), fetched on the first ask: a promise of it, or of undefined
   * when the first view does not hold this scenario or the file cannot be had (then the second
   * module gives it, as for any scenario).
   */
  async firstText(scenario, rules, what) {
    const r = this.firstOf(scenario);
    if (!r || typeof r.name !== 'string') return undefined;
    r.texts ??= getJson(`${r.name}.text`);
    const x = await r.texts;
    const side = rules === 'pre-cr' && x?.pre !== 'post' ? 'pre' : 'post';
    return x?.[side]?.[what];
  }
  /** In a first view without the module: starts loading it and answers NOT_YET. */
  notYet() {
    this.loadFirst().catch(() => {});
    return { error: NOT_YET };
  }
  /** The module for a run of `scenario`: the fast one for a big timeline once it is there. */
  pick(scenario) {
    const n = typeof scenario === 'object' && scenario && Array.isArray(scenario.events) ? scenario.events.length : 0;
    if ((hasTour(scenario) || cannotRun(scenario)) && this.fast) return this.fast;
    // The first module refuses msrp_chunk_bytes and policies other than the defaults (its run
    // answers that error) until this loads (`waits` tells a caller that can wait for it).
    if (cannotRun(scenario)) this.loadFast();
    if (n <= SPEED_EVENTS) return this.mod;
    if (this.fast) return this.fast;
    this.loadFast();
    return this.mod; // until it has loaded: same traces, a little slower
  }
  /**
   * The JSON of `scenario` for a run on `mod`: the first module reads no tours, and a tour does
   * not change the run, so it runs the scenario without it (the tour was checked when it came in).
   */
  jsonFor(scenario, mod) {
    if (mod === this.mod && !this.fast && hasTour(scenario)) {
      const { tour, ...rest } = scenario;
      return scenarioJson(rest);
    }
    return scenarioJson(scenario);
  }
  /**
   * Whether a run of `scenario` must wait for the second module: it has what the first module
   * cannot run (chunking, a policy other than the default; a tour it can, without the tour:
   * jsonFor) and the second has not loaded (a caller awaits `loadFast()`).
   */
  waits(scenario) {
    return !this.canRun(scenario) || (!this.fast && cannotRun(scenario));
  }
  /**
   * What `waits` waits for, loaded: a promise of the module a run of `scenario` needs (the
   * second one for what the first cannot run), or null when it did not load.
   */
  async ensure(scenario) {
    if (!this.canRun(scenario)) {
      try {
        await this.loadFirst();
      } catch (e) {
        console.warn(`cpm-deferral: the engine did not load (${e && e.message ? e.message : e})`);
        return null;
      }
    }
    if (!this.fast && cannotRun(scenario)) return this.loadFast();
    return this.mod;
  }
  /** Whether a run of `scenario` is big enough to be made off the page's thread (www/longrun.js). */
  isBig(scenario) {
    return !!scenario && Array.isArray(scenario.events) && scenario.events.length > FAST_EVENTS;
  }
  /** Starts loading the fast module (a promise; a failure leaves the first module in charge). */
  loadFast() {
    if (!this.fastLoading) {
      this.fastLoading = loadFullModule().then(
        (m) => (this.fast = m),
        (e) => {
          this.fastLoading = null;
          console.warn(`cpm-deferral: the speed-optimised engine did not load (${e && e.message ? e.message : e}); staying with the first one`);
          return null;
        },
      );
    }
    return this.fastLoading;
  }
  call(fn) {
    if (this.crashed) throw new EngineCrash(this.crashed);
    try {
      return fn();
    } catch (e) {
      const panic = globalThis.__cpmPanic;
      if (panic || e instanceof WebAssembly.RuntimeError) {
        this.crashed = String(panic || e.message || e);
        throw new EngineCrash(this.crashed);
      }
      return { error: String(e && e.message ? e.message : e) };
    }
  }
  version() {
    return this.mod ? this.call(() => this.mod.version()) : this.first.version;
  }
  presets() {
    return this.mod ? this.call(() => this.mod.presets()) : this.first.presets;
  }
  policies() {
    return this.mod ? this.call(() => this.mod.policies()) : this.first.policies;
  }
  /** `mod` holds the drawn trace's scenario now (for `raw`); a worker that held the last one ends. */
  hold(mod) {
    if (this.last !== mod) this.last.release?.();
    this.last = mod;
    if (mod !== this.mod) this.texts = null; // rawOf's run on the second module is replaced
  }
  /** @returns {object} a trace, or { error } */
  run(scenario, rules) {
    if (!this.mod) return this.isFirst(scenario) ? this.firstRun(scenario, rules) : this.notYet();
    const mod = this.pick(scenario);
    const json = this.jsonFor(scenario, mod);
    return this.call(() => {
      const t = noNotes(unpackTrace(mod.run(json, rules)), mod);
      this.hold(mod);
      return t;
    });
  }
  /** @returns {{post, pre, comparison}} or { error } */
  runBoth(scenario) {
    if (!this.mod) {
      if (!this.isFirst(scenario)) return this.notYet();
      return { post: this.firstRun(scenario, 'post-cr'), pre: this.firstRun(scenario, 'pre-cr'), comparison: this.firstOf(scenario).comparison };
    }
    const mod = this.pick(scenario);
    const json = this.jsonFor(scenario, mod);
    return this.call(() => {
      const r = mod.run_both(json);
      this.hold(mod);
      return { post: noNotes(unpackTrace(r.post), mod), pre: noNotes(unpackTrace(r.pre), mod), comparison: r.comparison };
    });
  }
  /** @returns {string|null} null when the scenario is valid, else the message naming the field */
  check(scenario) {
    if (!this.mod) return this.isFirst(scenario) ? null : this.notYet().error;
    const second = needsSecond(scenario);
    if (second && !this.fast) return second;
    const json = scenarioJson(scenario);
    // A big timeline's check (before its run in a worker) is about 2x faster in the speed module.
    const mod = second ? this.fast : this.isBig(scenario) ? this.fast || (this.loadFast(), this.mod) : this.mod;
    const r = this.call(() => mod.check(json));
    return r && r.error ? r.error : r ?? null;
  }
  /** The engine's check of a scenario file's text as written (a BOM, 1000.0 or 1e3 are refused). */
  checkText(text) {
    if (!this.mod) return this.notYet().error;
    const second = needsSecond(text);
    if (second && !this.fast) return second;
    // A big file (more than a few thousand events) is checked by the speed-optimised module when it is there.
    const mod = second || (text.length > 200000 && this.fast) ? this.fast : this.mod;
    const r = this.call(() => mod.check(text));
    return r && r.error ? r.error : r ?? null;
  }
  /**
   * Before checking a scenario (object or file text) from outside: one with a tour, with
   * msrp_chunk_bytes or with a policy is checked (and run) by the second module (the first is
   * built without the tour checks, without chunking and with every policy at its default, Cargo
   * features `tours`, `chunks` and `policies`), which this loads. A promise; a failed load leaves
   * check answering NO_TOUR_MODULE, NO_CHUNK_MODULE or NO_POLICY_MODULE.
   */
  async prepare(scenarioOrText) {
    // In a first view the first module is loaded first (a failure leaves check answering NOT_YET).
    if (!this.mod) await this.loadFirst().catch(() => {});
    if (needsSecond(scenarioOrText) && !this.fast) await this.loadFast();
  }
  /**
   * The wire text of step `index` of the last run under `rules`: a string; a promise of it when
   * the trace was made in a worker (longrun.js); null when the module of that run has no texts
   * (the first module is built without them: Cargo feature `wire-text`; see rawOf).
   */
  raw(rules, index) {
    if (typeof this.last.raw !== 'function') return null;
    const r = this.call(() => this.last.raw(rules, index));
    if (r && typeof r.then === 'function') return r;
    return r && r.error ? '' : r ?? '';
  }
  /**
   * The wire text of step `index` of `scenario` under `rules` (a promise): from the module of
   * the last run when it has texts, else from the second module (loaded on the first ask), which
   * runs the same scenario once per rule set: the same deterministic steps, with texts.
   */
  async rawOf(scenario, rules, index) {
    const now = this.raw(rules, index);
    if (now !== null) return now;
    // A preset of the first view: from its texts file, without the second module.
    const raws = await this.firstText(scenario, rules, 'raw');
    if (Array.isArray(raws) && typeof raws[index] === 'string') return raws[index];
    const m = await this.loadFast();
    if (!m) throw new Error('the wire texts did not load (pkg/export/ is missing or was refused)');
    const json = scenarioJson(scenario);
    this.texts ??= {};
    if (this.texts[rules] !== json) {
      const r = this.call(() => m.run(json, rules));
      if (r && r.error) throw new Error(r.error);
      this.texts[rules] = json;
    }
    const r = this.call(() => m.raw(rules, index));
    return r && r.error ? '' : r ?? '';
  }
  /**
   * Fills in the notes of `trace` (a run of `scenario` on a module built without them: the first
   * module, Cargo feature `note-text`) from the second module, loaded on the first ask, which runs
   * the same scenario: the same deterministic steps, with notes. A promise of true once they are
   * there (at once when the trace has them), false when they cannot be had.
   */
  notesFor(trace, scenario) {
    if (!trace || !trace.notesMissing) return Promise.resolve(true);
    trace.notesAsk ??= (async () => {
      // A preset of the first view: its notes from its texts file, without the second module.
      const fromFile = await this.firstText(scenario, trace.rules, 'notes');
      if (typeof fromFile === 'string') {
        const notes = trace.steps.length ? fromFile.split('\u001e') : [];
        if (notes.length === trace.steps.length) {
          if (trace.steps.length) trace.steps[0].t.notes = notes;
          trace.notesMissing = false;
          return true;
        }
      }
      const m = await this.loadFast();
      if (!m || typeof m.notes !== 'function') return false;
      const json = scenarioJson(scenario);
      this.texts ??= {};
      if (this.texts[trace.rules] !== json) {
        const r = this.call(() => m.run(json, trace.rules));
        if (r && r.error) return false;
        this.texts[trace.rules] = json;
      }
      const all = this.call(() => m.notes(trace.rules));
      if (typeof all !== 'string') return false;
      const notes = trace.steps.length ? all.split('\u001e') : [];
      // The same run gives the same steps; anything else (a scenario changed meanwhile) is refused.
      if (notes.length !== trace.steps.length) return false;
      if (trace.steps.length) trace.steps[0].t.notes = notes;
      trace.notesMissing = false;
      return true;
    })().catch((e) => {
      if (e instanceof EngineCrash) throw e;
      return false;
    });
    const ask = trace.notesAsk;
    ask.then((ok) => { if (!ok) ask.failed = true; }, () => { ask.failed = true; });
    return ask;
  }
  debugPanic() {
    return this.mod ? this.call(() => this.mod.debug_panic()) : this.notYet();
  }
}
