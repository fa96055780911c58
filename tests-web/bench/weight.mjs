// Page weight of the explorer, in the bytes scripts/serve.mjs sends (scripts and stylesheets
// minified, scripts/ship.mjs): what the main page loads at start (HTML, its stylesheet, app.js
// and its static imports, the wasm glue and module) against what it loads only on use (modules
// behind dynamic import(), the presenter stylesheet, the export wasm, the no-wasm fallback).
// `node tests-web/bench/weight.mjs` rewrites the "Page weight" section of docs/bench.md;
// tests-web/bench/bench.mjs uses the same table.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { shippedBytes } from '../../scripts/ship.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUDGET = 150000;

/** What the server sends for `file` (scripts/ship.mjs: the page's scripts and styles minified). */
function gz(file) {
  const b = shippedBytes(ROOT, file);
  return { file, raw: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length };
}

/** Static and dynamic relative imports of a module, as paths from ROOT. */
function imports(file) {
  const code = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out = { static: [], dynamic: [] };
  const re = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]+)\2/g;
  for (const m of code.matchAll(re)) {
    const dep = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[3]));
    (m[1].startsWith('from') || /^import\s+$/.test(m[1]) ? out.static : out.dynamic).push(dep);
  }
  return out;
}

export function pageWeight() {
  const initial = new Set(['www/index.html', 'www/style.css']);
  const lazy = new Set(['www/extra.css']);
  const walk = (file, set) => {
    if (set.has(file)) return;
    set.add(file);
    for (const d of imports(file).static) walk(d, set);
  };
  walk('www/app.js', initial);
  // A first visit draws from the engine's answers made at build time (www/engine.js
  // loadFirstView) and loads the engine module (a dynamic import in engine.js) on the first input.
  initial.add('pkg/first-view/index.json');
  lazy.add('pkg/cpm_deferral.js');
  lazy.add('pkg/cpm_deferral_bg.wasm');
  // So are the saved timeline and the undo history (dynamic imports in app.js's main(), awaited
  // before the first draw).
  for (const f of ['www/storage.js', 'www/history.js']) walk(f, initial);
  const queue = [...initial].filter((f) => f.endsWith('.js'));
  for (let i = 0; i < queue.length; i++) {
    for (const d of imports(queue[i]).dynamic) {
      if (initial.has(d) || lazy.has(d)) continue;
      lazy.add(d);
      queue.push(d);
      for (const s of imports(d).static) if (!initial.has(s) && !lazy.has(s)) {
        lazy.add(s);
        queue.push(s);
      }
    }
  }
  for (const f of [...lazy]) if (f === 'pkg/export/cpm_deferral.js') lazy.add('pkg/export/cpm_deferral_bg.wasm');
  const rows = (set) => [...set].filter((f) => fs.existsSync(path.join(ROOT, f))).sort().map(gz);
  const sum = (r) => r.reduce((a, w) => ({ raw: a.raw + w.raw, gzip: a.gzip + w.gzip }), { raw: 0, gzip: 0 });
  const ini = rows(initial);
  const lz = rows(lazy);
  const pre = path.join(ROOT, 'pkg/prerendered');
  const preFiles = fs.existsSync(pre) ? fs.readdirSync(pre).map((f) => gz(`pkg/prerendered/${f}`)) : [];
  // Any other start (a saved timeline, a share link, a tour) loads the module at once
  // instead of the first view's index.
  const other = sum([...ini.filter((x) => x.file !== 'pkg/first-view/index.json'), ...lz.filter((x) => x.file === 'pkg/cpm_deferral.js' || x.file === 'pkg/cpm_deferral_bg.wasm')]);
  const fvDir = path.join(ROOT, 'pkg/first-view');
  const fvFiles = fs.existsSync(fvDir) ? fs.readdirSync(fvDir).filter((f) => f !== 'index.json') : [];
  const largest = (files) => files.map((f) => gz(`pkg/first-view/${f}`)).reduce((a, x) => (x.gzip > a.gzip ? x : a), { file: '', raw: 0, gzip: 0 });
  const runFiles = fvFiles.filter((f) => !f.endsWith('.text.json'));
  const textFiles = fvFiles.filter((f) => f.endsWith('.text.json'));
  return {
    initial: ini, lazy: lz, initialTotal: sum(ini), lazyTotal: sum(lz), prerendered: sum(preFiles), prerenderedCount: preFiles.length, other,
    largestRun: largest(runFiles), presetRunCount: runFiles.length, largestText: largest(textFiles), textCount: textFiles.length,
  };
}

const WHEN = {
  'www/share.js': 'Share button; opening a #s= link',
  'www/files.js': 'File menu: open / save; a dropped file',
  'www/exports.js': 'File menu: exports',
  'www/captions.js': 'presenter and embed mode',
  'www/present.js': 'presenter and embed mode',
  'www/extra.css': 'with the first of the modules above',
  'www/lazy-css.js': 'with the first of the modules above',
  'www/fallback.js': 'only without WebAssembly',
  'www/textview.js': 'Text version button',
  'www/tour.js': 'File menu: Tour…; a scenario that has a tour; ?tour',
  'www/host.js': 'only inside a frame (the host control API)',
  'www/exercises.js': 'a tour stop with an exercise',
  'www/ready-tours.js': 'Tour… on a preset that has a ready tour; ?tour on one',
  'www/slides.js': 'File menu: Slides (.html), Animation (.gif)',
  'www/gif.js': 'File menu: Animation (.gif)',
  'pkg/cpm_deferral.js': "a first visit's first input, or a change its first view does not hold (another preset, an edit); at start on any other visit (the engine)",
  'pkg/cpm_deferral_bg.wasm': "a first visit's first input, or a change its first view does not hold (another preset, an edit); at start on any other visit (the engine)",
  'pkg/export/cpm_deferral.js': 'first export, a wire text or policy text, a scenario with a tour, or a timeline of more than 500 events (the speed-optimised engine)',
  'pkg/export/cpm_deferral_bg.wasm': 'first export, a wire text or policy text, a scenario with a tour, or a timeline of more than 500 events (the speed-optimised engine)',
};

export function weightMarkdown(w = pageWeight()) {
  const t = w.initialTotal;
  const row = (x) => `| ${x.file} | ${x.raw} | ${x.gzip} |`;
  return `## Page weight (what the browser downloads: wasm + JS + CSS + HTML)

Loaded when the main page opens on a first visit (index.html, its stylesheet, app.js and its
static imports, and the first view: the engine's answers for the first preset, made when the
engine was built, www/engine.js \`loadFirstView\`; the engine itself loads on the first input):

| file | bytes | gzip -9 |
| --- | ---: | ---: |
${w.initial.map(row).join('\n')}
| **initial total** | ${t.raw} | **${t.gzip} (${(t.gzip / 1024).toFixed(1)} KiB)** |

Budget ≤ ${BUDGET.toLocaleString('en')} bytes gzip for the initial load: **${t.gzip <= BUDGET ? 'met' : 'NOT met'}** (${t.gzip.toLocaleString('en')} bytes${t.gzip > BUDGET ? `, ${(t.gzip - BUDGET).toLocaleString('en')} over` : `, ${(BUDGET - t.gzip).toLocaleString('en')} to spare`}).

A \`?preset=\` link is a first visit too: it also loads that preset's runs (pkg/first-view/NAME.json,
${w.presetRunCount} files, the largest ${w.largestRun.gzip.toLocaleString('en')} bytes gzip). On a first visit the steps' notes and wire
texts of its preset come from pkg/first-view/NAME.text.json when first shown (${w.textCount} files, the largest
${w.largestText.gzip.toLocaleString('en')} bytes gzip), instead of the second module; the engine module loads on the first input
(not in embed and presenter mode, where only a change needs it). Any other start — a saved timeline, a
share link, a tour — loads the engine module at start instead of the first view:
${w.other.gzip.toLocaleString('en')} bytes gzip (${w.other.gzip <= BUDGET ? 'within' : 'over'} the budget).

Loaded only on use (dynamic \`import()\`), not part of the initial load:

| file | bytes | gzip -9 | loaded on |
| --- | ---: | ---: | --- |
${w.lazy.map((x) => `| ${x.file} | ${x.raw} | ${x.gzip} | ${WHEN[x.file] || 'on use'} |`).join('\n')}
| **lazy total** | ${w.lazyTotal.raw} | **${w.lazyTotal.gzip}** | |

Without WebAssembly the page shows pre-rendered ladders instead: pkg/prerendered/ holds
${w.prerenderedCount} files, ${w.prerendered.gzip} bytes gzip in all (one preset's SVG and transcript are loaded at a time).
`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const md = weightMarkdown();
  const file = path.join(ROOT, 'docs/bench.md');
  const doc = fs.readFileSync(file, 'utf8');
  const i = doc.indexOf('## Page weight');
  if (i < 0) throw new Error('docs/bench.md has no "## Page weight" section');
  const j = doc.indexOf('\n## ', i + 5);
  fs.writeFileSync(file, doc.slice(0, i) + md + (j >= 0 ? doc.slice(j) : ''));
  process.stdout.write(md);
}
