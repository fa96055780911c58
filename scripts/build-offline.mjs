#!/usr/bin/env node
// Build dist/cpm-deferral-explorer.html: the explorer as ONE self-contained HTML file that works
// opened from file:// with no network. Not a bundler: the ES modules stay as they are (no
// renaming, no minifying); each becomes a blob: module at start, with its relative import
// specifiers ('./x.js', '../pkg/…') pointed at the other modules' blob: URLs. Inlined:
//   - every stylesheet of www/ (style.css, extra.css) in one <style>
//   - every module reachable from www/app.js (static and dynamic imports) as JSON data
//   - the wasm glue and the wasm WITH the export functions (pkg/export/), base64
// A small start-up script (CSP-allowed by its hash) makes the blob: URLs and imports app.js.
// Run scripts/build-wasm.sh first (scripts/build-offline.sh does both).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'cpm-deferral-explorer.html');
const read = (p) => fs.readFileSync(path.join(ROOT, p), 'utf8');
const fail = (msg) => {
  console.error(`build-offline: ${msg}`);
  process.exit(1);
};

// The engine glue and wasm: the export-enabled build serves both the page and the exports.
const GLUE = 'pkg/export/cpm_deferral.js';
const WASM = 'pkg/export/cpm_deferral_bg.wasm';
if (!fs.existsSync(path.join(ROOT, WASM))) fail(`${WASM} is missing: run scripts/build-wasm.sh`);
const ALIAS = { 'pkg/cpm_deferral.js': GLUE };

// Relative specifiers in static imports, re-exports and dynamic import('…') with a literal.
const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]+)\2/g;

const modules = new Map(); // id (path from ROOT) -> { code, deps: Set<id> }
function load(id) {
  if (modules.has(id)) return;
  if (!fs.existsSync(path.join(ROOT, id))) fail(`module ${id} not found`);
  const entry = { code: read(id), deps: new Set() };
  modules.set(id, entry);
  entry.code = entry.code.replace(SPEC, (all, kw, q, spec) => {
    let dep = path.posix.normalize(path.posix.join(path.posix.dirname(id), spec));
    dep = ALIAS[dep] || dep;
    entry.deps.add(dep);
    load(dep);
    return `${kw}${q}cpm-module:${dep}${q}`;
  });
}
load('www/app.js');

// Dependencies first (the graph has no cycles: lazy modules never import app.js).
const order = [];
const state = new Map();
function visit(id) {
  if (state.get(id) === 'done') return;
  if (state.get(id) === 'busy') fail(`import cycle through ${id}`);
  state.set(id, 'busy');
  for (const d of modules.get(id).deps) visit(d);
  state.set(id, 'done');
  order.push(id);
}
visit('www/app.js');

// The engine's worker (www/engine-worker.js) as a CLASSIC script: from a file:// page Chromium
// starts no module Worker from a blob: URL (nor a dynamic import in one), but a classic one runs
// and takes the compiled wasm module posted to it. The glue's `export`s become plain
// declarations; the worker's import of it becomes names of this script.
function classicWorker() {
  let glue = read(GLUE);
  const n0 = glue.length;
  glue = glue.replace(/^export (class|function|async function|const|let) /gm, '$1 ').replace(/^export \{[^}]*\};?$/m, '');
  glue = glue.replace(/\bimport\.meta\.url\b/g, 'self.location.href');
  if (glue.length === n0 || /^\s*(export|import)\s/m.test(glue)) fail(`${GLUE}: its exports or imports are not the expected shape for the classic worker`);
  const IMPORT = "import init, * as engine from '../pkg/export/cpm_deferral.js';";
  const body = read('www/engine-worker.js');
  if (!body.includes(IMPORT)) fail(`www/engine-worker.js does not start with: ${IMPORT}`);
  return `${glue}\n${body.replace(IMPORT, 'const init = __wbg_init;\nconst engine = { run, run_both, raw };')}`;
}

const json = (v) => JSON.stringify(v).replace(/</g, '\\u003c');
const data = json({ order, code: Object.fromEntries(order.map((id) => [id, modules.get(id).code])), worker: classicWorker() });
const wasm = fs.readFileSync(path.join(ROOT, WASM)).toString('base64');

const boot = `
const root = document.documentElement;
root.dataset.offline = 'yes';
const m = JSON.parse(document.getElementById('cpm-modules').textContent);
const b64 = document.getElementById('cpm-wasm').textContent.trim();
globalThis.__cpmWasm = typeof Uint8Array.fromBase64 === 'function' ? Uint8Array.fromBase64(b64)
  : Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const urls = {};
for (const id of m.order) {
  const code = m.code[id].replace(/cpm-module:([\\w./-]+)/g, (s, dep) => urls[dep] || s);
  urls[id] = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
}
globalThis.__cpmWorker = URL.createObjectURL(new Blob([m.worker], { type: 'text/javascript' }));
import(urls['www/app.js']);
`;
const css = `${read('www/style.css')}\n${read('www/extra.css')}`;
if (/<\/style/i.test(css)) fail('a stylesheet contains </style');
const sha = (s) => `'sha256-${crypto.createHash('sha256').update(s).digest('base64')}'`;
const csp = [
  "default-src 'none'", `script-src ${sha(boot)} blob: 'wasm-unsafe-eval'`, `style-src ${sha(css)}`,
  'img-src data: blob:', "object-src 'none'", "base-uri 'none'", "form-action 'none'",
].join('; ');

let html = read('www/index.html');
const swap = (re, text) => {
  if (!re.test(html)) fail(`index.html has no ${re}`);
  html = html.replace(re, () => text);
};
swap(/<meta http-equiv="Content-Security-Policy"[^>]*>/, `<meta http-equiv="Content-Security-Policy" content="${csp}">`);
swap(/<link rel="stylesheet" href="style.css">/, `<style>${css}</style>`);
swap(/<script type="module" src="app.js"><\/script>/, [
  `<script type="application/json" id="cpm-modules">${data}</script>`,
  `<script type="application/octet-stream" id="cpm-wasm">${wasm}</script>`,
  `<script type="module">${boot}</script>`,
].join('\n'));
html = html.replace('<html lang="en"', '<!-- CPM Deferral Explorer, offline single-file build (scripts/build-offline.sh) -->\n<html lang="en"');
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, html);
console.error(`build-offline: ${path.relative(ROOT, OUT)} (${html.length} bytes; ${order.length} modules: ${order.join(', ')})`);
