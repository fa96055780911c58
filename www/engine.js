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

/**
 * Turns the engine's packed trace (src/packed.rs: flat number arrays, interned strings) back
 * into the objects of docs/trace-contract.md, with `raw` empty (fetched on demand).
 */
export function unpackTrace(p) {
  if (!p || p.packed !== 1) return p;
  const s = p.strings;
  const sets = p.clause_sets.map((set) => set.map((i) => s[i]));
  const F = p.step_fields;
  const f = p.steps;
  const n = f.length / F;
  const steps = new Array(n);
  for (let i = 0, o = 0; i < n; i++, o += F) {
    const step = {
      index: i,
      at_ms: f[o],
      arrive_ms: f[o + 1],
      from: s[f[o + 2]],
      to: s[f[o + 3]],
      protocol: s[f[o + 4]],
      label: s[f[o + 5]],
      raw: '',
      clauses: sets[f[o + 7]],
      note: s[f[o + 6]],
      kind: s[f[o + 8]],
      policy: (f[o + 13] & 1) === 1,
      pf_state: s[f[o + 9]],
      queue_len: f[o + 10],
    };
    if (f[o + 11] >= 0) step.chat = f[o + 11];
    if (f[o + 12] >= 0) step.event = f[o + 12];
    if (f[o + 13] & 2) step.dropped = true;
    steps[i] = step;
  }
  const C = p.chat_fields;
  const c = p.chats;
  const m = c.length / C;
  const chats = new Array(m);
  const opt = (v) => (v < 0 ? null : v);
  for (let i = 0, o = 0; i < m; i++, o += C) {
    chats[i] = {
      id: c[o],
      from: s[c[o + 1]],
      text: s[c[o + 2]],
      imdn_id: s[c[o + 3]],
      sent_ms: c[o + 4],
      sent_step: c[o + 5],
      for_carol: c[o + 6] === 1,
      stored_ms: opt(c[o + 7]),
      stored_step: opt(c[o + 8]),
      in_flight_ms: opt(c[o + 9]),
      in_flight_step: opt(c[o + 10]),
      delivered_ms: opt(c[o + 11]),
      delivered_step: opt(c[o + 12]),
      outcome: s[c[o + 13]],
      removed_ms: opt(c[o + 14]),
      removed_step: opt(c[o + 15]),
      possible_duplicate: c[o + 16] === 1,
    };
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

export async function loadEngine() {
  if (typeof WebAssembly !== 'object') throw new Error('WebAssembly is not available in this page');
  // A literal path, so the offline build (scripts/build-offline.sh) can map it; that build also
  // puts the wasm bytes in globalThis.__cpmWasm instead of a file next to the glue.
  const mod = await import('../pkg/cpm_deferral.js');
  await mod.default({ module_or_path: globalThis.__cpmWasm || new URL('../pkg/cpm_deferral_bg.wasm', import.meta.url) });
  return new Engine(mod);
}

export class Engine {
  constructor(mod) {
    this.mod = mod;
    this.crashed = false;
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
    return this.call(() => this.mod.version());
  }
  presets() {
    return this.call(() => this.mod.presets());
  }
  policies() {
    return this.call(() => this.mod.policies());
  }
  /** @returns {object} a trace, or { error } */
  run(scenario, rules) {
    const json = scenarioJson(scenario);
    return this.call(() => unpackTrace(this.mod.run(json, rules)));
  }
  /** @returns {{post, pre, comparison}} or { error } */
  runBoth(scenario) {
    const json = scenarioJson(scenario);
    return this.call(() => {
      const r = this.mod.run_both(json);
      return { post: unpackTrace(r.post), pre: unpackTrace(r.pre), comparison: r.comparison };
    });
  }
  /** @returns {string|null} null when the scenario is valid, else the message naming the field */
  check(scenario) {
    const json = scenarioJson(scenario);
    const r = this.call(() => this.mod.check(json));
    return r && r.error ? r.error : r ?? null;
  }
  raw(rules, index) {
    const r = this.call(() => this.mod.raw(rules, index));
    return r && r.error ? '' : r ?? '';
  }
  debugPanic() {
    return this.call(() => this.mod.debug_panic());
  }
}
