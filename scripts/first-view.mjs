// The page's first view without the engine (issue 10: the initial page within 150 KB gzip):
// writes pkg/first-view/ from the first wasm module (pkg/, just built): index.json (its
// version, the preset list, the policy catalogue, and the runs of the first preset: both rule
// sets and their comparison, run_both, as that module packs them) and NAME.json (the runs of
// each preset, for a ?preset= link) and NAME.text.json (the notes and wire texts of each
// preset's runs, from the second module, which the page would otherwise load for them). A first
// visit draws from these and loads the module on the
// first input, or when a change needs a run they do not hold (www/engine.js loadFirstView). Called by scripts/build-wasm.sh; tests-web/unit/first-view.test.mjs
// checks the files against the module's own answers.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenarioJson } from '../www/scenario.js';

const root = new URL('../', import.meta.url);

/** A packed trace (src/packed.rs) with its number columns as plain arrays, for JSON. */
const plain = (t) => ({ ...t, ends: Array.from(t.ends), steps: Array.from(t.steps), chats: Array.from(t.chats) });

/**
 * The first view as the module at `dir` gives it: `index` (what the page reads at start: the
 * version, the presets, the policies and the first preset's runs as `first`) and `runs`, the
 * runs of every preset by name (the page reads one for a ?preset= link).
 */
export async function firstView(dir = 'pkg', second = 'pkg/export') {
  const load = async (d) => {
    const mod = await import(new URL(`${d}/cpm_deferral.js`, root).href);
    mod.initSync({ module: fs.readFileSync(new URL(`${d}/cpm_deferral_bg.wasm`, root)) });
    return mod;
  };
  const mod = await load(dir);
  const full = await load(second);
  const presets = mod.presets();
  const runs = {};
  const texts = {};
  for (const p of presets) {
    // What the page hands the engine for a preset: its JSON text parsed, written again (scenario.js).
    const json = scenarioJson(JSON.parse(p.json));
    const both = mod.run_both(json);
    runs[p.name] = { name: p.name, json, post: plain(both.post), pre: plain(both.pre), comparison: both.comparison };
    // The steps' notes and wire texts, which the first module is built without, from the second.
    const of = (rules) => {
      const n = full.run(json, rules).steps.length / both.post.step_fields;
      return { notes: full.notes(rules), raw: Array.from({ length: n }, (_, i) => full.raw(rules, i) ?? '') };
    };
    const post = of('post-cr');
    const pre = of('pre-cr');
    // Where both rule sets give the same texts (the CR changes nothing there), "post" says so.
    texts[p.name] = { post, pre: JSON.stringify(pre) === JSON.stringify(post) ? 'post' : pre };
  }
  const index = { format: 'cpm-deferral-first-view', version: mod.version(), presets, policies: mod.policies(), first: runs[presets[0].name] };
  return { index, runs, texts };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = new URL('pkg/first-view/', root);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const { index, runs, texts } = await firstView();
  fs.writeFileSync(new URL('index.json', dir), JSON.stringify(index));
  for (const [name, r] of Object.entries(runs)) fs.writeFileSync(new URL(`${name}.json`, dir), JSON.stringify(r));
  for (const [name, x] of Object.entries(texts)) fs.writeFileSync(new URL(`${name}.text.json`, dir), JSON.stringify(x));
  console.error(`first-view: pkg/first-view/ ready (index.json ${fs.statSync(new URL('index.json', dir)).size} bytes, ${Object.keys(runs).length} presets' runs)`);
}
