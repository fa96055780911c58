// Loads the wasm engine (pkg/, wasm-bindgen --target web) and wraps its calls. A scenario error
// comes back as { error }, a Rust panic (or any wasm trap) as a thrown EngineCrash: after a
// panic the module is in an unknown state, so the page offers a reload.

export class EngineCrash extends Error {
  constructor(message) {
    super(message);
    this.name = 'EngineCrash';
  }
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
    const json = typeof scenario === 'string' ? scenario : JSON.stringify(scenario);
    return this.call(() => this.mod.run(json, rules));
  }
  /** @returns {{post, pre, comparison}} or { error } */
  runBoth(scenario) {
    const json = typeof scenario === 'string' ? scenario : JSON.stringify(scenario);
    return this.call(() => this.mod.run_both(json));
  }
  /** @returns {string|null} null when the scenario is valid, else the message naming the field */
  check(scenario) {
    const json = typeof scenario === 'string' ? scenario : JSON.stringify(scenario);
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
