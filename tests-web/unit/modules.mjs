// The page's wasm modules, loaded from their build in pkg/ (scripts/build-wasm.sh) for a Node
// test: `pkg` (the first module, built for size and without what only the second has) and
// `pkg/export` (the second, with every feature).
import fs from 'node:fs';

const root = new URL('../../', import.meta.url);

/** The wasm-bindgen glue of `dir` (relative to the repository), initialised with its module. */
export async function loadModule(dir) {
  const mod = await import(new URL(`${dir}/cpm_deferral.js`, root).href);
  mod.initSync({ module: fs.readFileSync(new URL(`${dir}/cpm_deferral_bg.wasm`, root)) });
  return mod;
}
