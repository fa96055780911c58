// Big engine runs off the page's thread (issue 13, item 9). A timeline past FAST_EVENTS runs in
// a Worker (www/engine-worker.js; in the offline single file a classic one from a blob: URL)
// with a progress line and Cancel (Escape too); the page keeps answering meanwhile, and the last
// drawn scenario stays until the run is done. A newer run supersedes the one under way (its
// worker is ended). Where no Worker can run (a host's CSP with worker-src 'none', a worker that
// fails to start) the run is made on the page's thread in slices (the wasm SlicedRun), still
// with progress and Cancel between them. Loaded on demand, the first time a big timeline runs.

import { EngineCrash, unpacking } from './engine.js';
import { progress } from './progress.js';
import { cursorAt } from './viewmodel.js';
import { eventJson, scenarioJson } from './scenario.js';

/** A URL next to this module, or null (the offline file's modules are blob: URLs: no relatives). */
const near = (rel) => {
  try {
    return new URL(rel, import.meta.url);
  } catch {
    return null;
  }
};
const WASM = near('../pkg/export/cpm_deferral_bg.wasm');
// The offline single file (scripts/build-offline.mjs) gives a classic worker script as a blob:
// URL and the wasm bytes: from file:// Chromium runs no module Worker from a blob: URL.
const OFFLINE = typeof globalThis.__cpmWorker === 'string' && globalThis.__cpmWasm ? globalThis.__cpmWorker : null;
const SCRIPT = OFFLINE ? new URL(OFFLINE) : near('./engine-worker.js');

let compiled = null; // Promise<WebAssembly.Module | null>
/** Why workers are not used here ('' while they may be). */
export let noWorker = '';

function workersPossible() {
  if (typeof Worker !== 'function') return 'this browser has no Worker';
  if (!SCRIPT || !(OFFLINE || /^https?:$/.test(SCRIPT.protocol))) return `this page's modules are not served over http(s) (${new URL(import.meta.url).protocol})`;
  return '';
}

function compile() {
  if (!compiled) {
    compiled = (OFFLINE ? WebAssembly.compile(globalThis.__cpmWasm) : WebAssembly.compileStreaming(fetch(WASM))).catch((e) => {
      noWorker = `the engine could not be compiled for a worker (${e && e.message ? e.message : e})`;
      return null;
    });
  }
  return compiled;
}

let seq = 0;
/** One worker, started with the compiled module; `ask` posts and resolves with its answer. */
class EngineWorker {
  constructor(module) {
    this.w = new Worker(SCRIPT, { type: OFFLINE ? 'classic' : 'module' });
    this.waiting = new Map();
    this.dead = null;
    this.w.onmessage = ({ data }) => {
      const r = this.waiting.get(data.id);
      if (!r) return;
      this.waiting.delete(data.id);
      if (data.panic) r.reject(new EngineCrash(data.panic));
      else if (data.error !== undefined) r.resolve({ error: data.error });
      else r.resolve(data.value);
    };
    // A script that did not load (a CSP without worker rights, say) or failed at start.
    this.w.onerror = (e) => this.fail(`the engine worker failed (${e.message || 'it did not start'})`);
    this.ready = this.ask({ op: 'init', module });
  }
  ask(m) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = ++seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.w.postMessage({ ...m, id });
    });
  }
  fail(why) {
    this.dead = why;
    for (const r of this.waiting.values()) r.reject(new Error(why));
    this.waiting.clear();
  }
  end() {
    this.fail('ended');
    this.w.terminate();
  }
}

/** The worker that holds the drawn trace's scenario (for `raw`), and the run under way. */
let holder = null;
let current = null;

/** A stand-in for the engine module of a trace made in a worker: its `raw` is asked of it. */
class Remote {
  constructor(worker, job) {
    this.worker = worker;
    this.job = job;
  }
  /** The wire text of a step, a promise (the worker re-runs the scenario if it was ended). */
  raw(rules, index) {
    const w = this.worker.dead ? this.revive() : Promise.resolve(this.worker);
    return w.then((wk) => wk.ask({ op: 'raw', rules, index })).then((r) => (r && r.error !== undefined ? '' : r ?? ''));
  }
  /** The drawn trace is another one now: its worker (and the memory of its run) goes. */
  release() {
    const w = this.worker;
    if (holder === w) holder = null;
    // Ending a worker that holds a big run takes a while: in a task of its own.
    w.dead ||= 'ended';
    setTimeout(() => w.end(), 0);
  }
  revive() {
    return compile().then(async (module) => {
      const wk = new EngineWorker(module);
      await wk.ready;
      await wk.ask({ op: 'run', json: this.job.json, rules: this.job.rules, both: this.job.both });
      this.worker = wk;
      return wk;
    });
  }
}

/** A new task (the page draws a frame and handles input in between). */
const task = () => new Promise((r) => setTimeout(r, 0));

/**
 * The page's work on a big timeline is done in slices of about this many ms, each a task of its
 * own, so that no task of the page's thread is much longer than a frame (issue 13, item 9).
 */
export const SLICE = 6;
/** A slicer: `await due()` yields (a new task) once SLICE ms have passed since the last yield. */
function slicer() {
  let t = performance.now();
  return async () => {
    if (performance.now() - t < SLICE) return;
    await task();
    t = performance.now();
  };
}

/**
 * A scenario's JSON made in slices: the same text as scenario.js scenarioJson (its events'
 * texts are cached per event there), the events joined a thousand a task.
 */
export async function jsonInSlices(sc) {
  const plain = sc && typeof sc === 'object' && Object.getPrototypeOf(sc) === Object.prototype && Array.isArray(sc.events) && typeof sc.toJSON !== 'function';
  if (!plain) return scenarioJson(sc);
  const due = slicer();
  const parts = [];
  for (const k of Object.keys(sc)) {
    let v;
    if (k === 'events') {
      const ev = sc.events;
      const chunks = [];
      for (let i = 0; i < ev.length; i += 1024) {
        const items = new Array(Math.min(1024, ev.length - i));
        for (let j = 0; j < items.length; j++) items[j] = eventJson(ev[i + j]);
        chunks.push(items.join(','));
        await due();
      }
      v = `[${chunks.join(',')}]`;
    } else {
      v = JSON.stringify(sc[k]);
    }
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${v}`);
  }
  const text = `{${parts.join(',')}}`;
  return text;
}

/**
 * engine.js unpackTrace made in slices: the same trace (the steps' and chats' objects over the
 * packed columns), its 174,057 steps made a few tens of thousands a task.
 */
async function unpackInSlices(p, due) {
  if (!p || p.packed !== 2) return p;
  const it = unpacking(p);
  for (let r = it.next(); ; r = it.next()) {
    if (r.done) return r.value;
    await due();
  }
}

async function shape(value, both) {
  if (value && value.error !== undefined) return value;
  const due = slicer();
  if (!both) return { trace: await unpackInSlices(value, due) };
  return { post: await unpackInSlices(value.post, due), pre: await unpackInSlices(value.pre, due), comparison: value.comparison };
}

/**
 * The run on the page's thread in slices of about SLICE_MS (the wasm `SlicedRun`, src/wasm.rs):
 * resolves to what `run` (or `run_both`) gives, or to null when `stopped()` became true between
 * two slices (the run is dropped then). The budget per slice adapts to the time a slice took.
 */
const SLICE_MS = 12;
async function slicedRun(mod, job, engine, { stopped, onProgress }) {
  const run = engine.call(() => new mod.SlicedRun(job.json, job.rules, job.both));
  if (run.error !== undefined) return run; // the engine's check refused it
  try {
    let budget = 2000;
    for (;;) {
      const t = performance.now();
      const done = engine.call(() => run.advance(budget));
      if (done && done.error !== undefined) return done;
      const dt = performance.now() - t;
      budget = Math.round(Math.min(500000, Math.max(200, (budget * SLICE_MS) / Math.max(dt, 1))));
      onProgress(run.progress());
      if (done) break;
      await task();
      if (stopped()) return null;
    }
    await task();
    if (stopped()) return null;
    return engine.call(() => run.finish());
  } finally {
    try {
      run.free();
    } catch {
      // after an engine panic the module may refuse even this: the panic is what is reported
    }
  }
}

const nextFrame = () => new Promise((r) => (document.visibilityState === 'visible' ? requestAnimationFrame(() => setTimeout(r, 0)) : setTimeout(r, 0)));

/**
 * Start a big run: `job` = { json, rules, both, events }. Returns { promise }: the
 * promise resolves to the result ({ trace } or { post, pre, comparison } or { error }, with
 * `module`, the stand-in for `raw`), or to null when cancelled or superseded; it rejects with an
 * EngineCrash when the engine panicked. `engine` is the page's Engine (main-thread fallback).
 */
export function runLong(job, engine, { onCancel } = {}) {
  current?.supersede();
  const t0 = performance.now();
  const label = `Running the engine on ${job.events.toLocaleString('en')} events`;
  const p = progress(`${label}…`);
  p.bar.dataset.state = 'running';
  let settle;
  let refuse;
  const promise = new Promise((res, rej) => {
    settle = res;
    refuse = rej;
  });
  let worker = null;
  let finished = false;
  let where = ''; // ' (on this page's thread: why)' in the fallback
  let share = -1; // the share done, when the run says (the sliced run on the page's thread)
  const tick = setInterval(() => p.update(`${label}${where}… ${share >= 0 ? `${Math.floor(share * 100)} %, ` : ''}${((performance.now() - t0) / 1000).toFixed(1)} s`), 250);
  /** Ends the run once: with a result (null: cancelled or superseded), or with an EngineCrash. */
  const finish = (v, crash) => {
    if (finished) return;
    finished = true;
    clearInterval(tick);
    p.done();
    if (current === me) current = null;
    if (crash) refuse(crash);
    else settle(v);
  };
  const me = {
    supersede() {
      worker?.end();
      finish(null);
    },
  };
  current = me;
  p.onCancel = () => {
    if (finished) return;
    worker?.end();
    finish(null);
    onCancel?.();
  };
  const onMain = () => {
    where = ` (on this page's thread: ${noWorker})`;
    p.update(`${label}${where}…`);
    // The progress line is painted first; then the run is made in slices (sliced.js), a task
    // each, so frames and Cancel go on between them.
    nextFrame().then(async () => {
      if (finished) return;
      try {
        const mod = engine.fast || (await engine.loadFast()) || engine.mod;
        if (finished) return;
        const value = typeof mod.SlicedRun === 'function'
          ? await slicedRun(mod, job, engine, { stopped: () => finished, onProgress: (f) => (share = f) })
          : engine.call(() => (job.both ? mod.run_both(job.json) : mod.run(job.json, job.rules)));
        if (finished) return;
        await task();
        if (finished) return;
        const r = await shape(value, job.both);
        if (finished) return;
        r.module = mod;
        finish(r);
      } catch (e) {
        finish(null, e);
      }
    });
  };
  noWorker = noWorker || workersPossible();
  if (noWorker) {
    onMain();
    return { promise };
  }
  compile().then(async (module) => {
    if (finished) return;
    if (!module) return onMain();
    try {
      worker = new EngineWorker(module);
      const ok = await worker.ready;
      if (ok && ok.error !== undefined) throw new Error(ok.error);
    } catch (e) {
      if (finished) return;
      worker?.end();
      worker = null;
      noWorker = String(e && e.message ? e.message : e);
      console.warn(`cpm-deferral: ${noWorker}; big runs stay on the page's thread`);
      return onMain();
    }
    if (finished) return;
    let value;
    try {
      value = await worker.ask({ op: 'run', json: job.json, rules: job.rules, both: job.both });
    } catch (e) {
      if (finished) return;
      worker.end();
      // A panic is the engine's (the crash banner); a worker that died otherwise (out of
      // memory, say) refuses this run only: the page's own engine is unharmed.
      if (e instanceof EngineCrash) finish(null, e);
      else finish({ error: `the engine's worker stopped (${e && e.message ? e.message : e})` });
      return;
    }
    if (finished) return;
    // Received in this task; unpacked in the next ones, drawn in the ones after (begin).
    await task();
    if (finished) return worker.end();
    const r = await shape(value, job.both);
    if (finished) return worker.end();
    if (r.error === undefined) {
      // Ending a worker that holds a big run takes a while: in a task of its own.
      const old = holder;
      if (old && old !== worker) setTimeout(() => old.end(), 0);
      holder = worker;
      r.module = new Remote(worker, job);
    } else {
      worker.end();
    }
    finish(r);
  });
  return { promise };
}

/** End the run under way without a word (a newer run replaced it, or the page cancelled it). */
export function cancelQuietly(L = null) {
  current?.supersede();
  L?.opening?.dropped?.();
}

/**
 * Open a big scenario that comes from outside the editor (the saved timeline at start, the
 * other tab's, a share link) as a big file is opened (files.js): by its run in the worker, with
 * progress and Cancel, the engine's check being part of the run; nothing of it is drawn or
 * saved before the engine has answered. A timeline must be drawn already (the page underneath:
 * what Cancel or a refusal gives back). `text`: the scenario's JSON as it came (checked as
 * written), or null. `how`: { done(), refused(msg) and cancelled(), each giving the banner's
 * text, dropped() (a newer change replaced the run) }.
 */
export function openBig(api, scenario, text, how) {
  const { state } = api;
  state.scenario = scenario;
  state.selEvent = null;
  if (api.rerun({ checked: false, file: text != null ? { text, name: '' } : null }) !== 'pending') return false;
  state.long.opening = how;
  return true;
}

/**
 * A big saved record's run (storage.js keeper open, which stopped the saves: `persist` is what
 * they were): nothing is saved over the record while it is under way; a promise, resolved when it is drawn, refused, cancelled or replaced. `how` may
 * give the texts of a refusal or Cancel (else `refuse`, the keeper's banner, names the record).
 */
export async function openRecord(api, rec, record, prev, how, refuse, persist) {
  const { state } = api;
  const back = () => {
    state.persist = persist || (!api.MODE.embed && !state.fromLink);
  };
  let end;
  const ended = new Promise((r) => {
    end = r;
  });
  const opened = openBig(api, rec.scenario, rec.text ?? null, {
    saved: true, // an engine panic on it is a panic on the saved timeline (app.js fatal)
    ran: back,
    done: () => {
      back();
      if (record && prev) state.history.push(prev);
      api.updateUndo();
      api.drawPolicies();
      how.done?.();
      end();
    },
    refused: (msg) => (back(), end(), how.refused ? how.refused(msg) : (refuse({ ...rec, problem: `its scenario is not valid: ${msg}` }), '')),
    cancelled: () => (back(), end(), how.cancelled ? how.cancelled() : (refuse({ ...rec, problem: 'you cancelled its run (it was not opened)' }, true), '')),
    dropped: () => (back(), end(), how.cancelled ? how.cancelled() : refuse({ ...rec, problem: 'another timeline was opened while it was running' }, true)),
  });
  if (!opened) {
    back();
    end();
  }
  return ended;
}

/** Start the run of `job` for the page's big run `L` (api.state.long); draws it when done. */
export async function begin(api, L, job) {
  const { state } = api;
  const t0 = performance.now();
  // The job's JSON (2 MB for 20,000 messages) is made in slices, unless it is a file's text.
  if (job.json == null) {
    try {
      job.json = await jsonInSlices(job.scenario);
      // Kept for the save (storage.js), which would otherwise make it again, in one task.
      (state.texts ||= new WeakMap()).set(job.scenario, job.json);
    } catch (e) {
      // Not serialisable (nested too deeply, say): refused like the engine's refusal.
      job.json = '';
      job.unjson = String(e && e.message ? e.message : e).slice(0, 120);
    }
    await task(); // the worker is started in a task of its own
    if (state.long !== L || L.token !== job) return;
  }
  const handle = job.unjson ? { promise: Promise.resolve({ error: `it cannot be read (${job.unjson})` }) } : runLong(job, state.engine, {
    onCancel: () => state.long === L && revert(api, L.opening?.cancelled?.() ?? 'The run was cancelled: the timeline is as it was before the change.'),
  });
  const current = () => state.long === L && L.token === job;
  handle.promise.then(async (r) => {
    if (!r || !current()) return;
    await task(); // drawn in tasks of their own, after the ones that unpacked it
    if (!current()) return;
    if (r.error !== undefined) {
      // The engine refused the change (its check is part of the run): the drawn timeline stays
      // and the editor shows the engine's message, as for a small timeline's refused edit.
      revert(api, L.opening?.refused?.(r.error) ?? (L.file ? `Cannot open ${L.file.name}: ${r.error}` : `This change was not made: ${r.error}`));
      if (L.unchecked && api.state.selEvent != null) import('./editor.js').then((m) => m.showRefusal(api, r.error)).catch(api.report);
      document.documentElement.dataset.run = 'refused';
      return;
    }
    state.long = null;
    state.engine.hold(r.module);
    // A timeline this big runs on the page's second module when it runs here (a link's
    // synchronous view, an undo of a small step): it is loaded now, as the first such run did.
    if (!state.engine.fast) state.engine.loadFast?.();
    const trace = r.trace || (state.rules === 'post-cr' ? r.post : r.pre);
    const alt = r.trace ? null : state.rules === 'post-cr' ? r.pre : r.post;
    // The undo step first (the change against the drawn scenario), then the ladder in a task of
    // its own, then the other panels, a task each (app.js drawAll).
    if (L.record) {
      api.adopt();
      api.unPreset();
      state.history.push(L.base.scenario, state.scenario);
      api.updateUndo();
      await task();
    }
    const drawn = api.applyRun(trace, alt, r.comparison || null, L.keepTime, t0, performance.now(), task);
    L.opening?.ran?.(); // before the save: an edit made during the run is saved
    if (L.record) api.saveSoon();
    await drawn;
    if (state.trace !== trace) return; // a newer run was drawn meanwhile
    api.drawEditor();
    api.updateUndo();
    document.documentElement.dataset.run = 'done';
    L.opening?.done?.();
  }, (e) => (e instanceof EngineCrash ? api.fatal(e.message) : api.report(e)));
}

/** Cancel: the drawn scenario, its rules and view are the page's again, and saved as they were. */
export function revert(api, msg) {
  const { state, $ } = api;
  const L = state.long;
  if (!L) return;
  state.long = null;
  cancelQuietly();
  for (const f of L.hooks.reverse()) f();
  const b = L.base;
  state.scenario = b.scenario;
  state.selEvent = b.selEvent;
  state.rules = b.rules;
  state.compare = b.compare;
  state.t = Math.min(b.t, state.trace.end_ms);
  state.cursor = cursorAt(state.trace.steps, state.t);
  state.sel = b.sel;
  document.querySelector(`input[name="rules"][value="${state.rules}"]`).checked = true;
  $('compare').checked = state.compare;
  state.error = null;
  api.problem(null);
  api.save();
  api.drawAll();
  api.drawEditor();
  api.updateUndo();
  api.notice(msg);
  document.documentElement.dataset.run = 'cancelled';
}
