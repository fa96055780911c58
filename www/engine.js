// Loads the wasm engine (pkg/, wasm-bindgen --target web) and wraps its calls. A scenario error
// comes back as { error }, a Rust panic (or any wasm trap) as a thrown EngineCrash: after a
// panic the module is in an unknown state, so the page offers a reload.

export class EngineCrash extends Error {
  constructor(message) {
    super(message);
    this.name = 'EngineCrash';
  }
}

export async function loadEngine(base = new URL('../pkg/', import.meta.url)) {
  const mod = await import(new URL('cpm_deferral.js', base).href);
  await mod.default({ module_or_path: new URL('cpm_deferral_bg.wasm', base) });
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
  raw(rules, index) {
    const r = this.call(() => this.mod.raw(rules, index));
    return r && r.error ? '' : r ?? '';
  }
  debugPanic() {
    return this.call(() => this.mod.debug_panic());
  }
}
