// Shared set-up of the e2e test files: the static server, Debian's Chromium, a page per test
// that fails on console or page errors, screenshots under test-results/, axe-core checks.
import { before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createServer } from '../scripts/serve.mjs';
import { launch, watchErrors } from './browser.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHOTS = path.join(ROOT, 'test-results');
export const KEY = 'cpm-deferral-explorer:v1';
fs.mkdirSync(SHOTS, { recursive: true });

/**
 * Start one server and one browser for a test file; returns a live object (fields set in
 * before()). `root` and `minify` are scripts/serve.mjs's (default: the repository, minified).
 */
export function useBrowser({ root = ROOT, minify } = {}) {
  const env = { server: null, origin: '', base: '', browser: null };
  before(async () => {
    env.server = createServer(root, minify === undefined ? undefined : { minify });
    await new Promise((r) => env.server.listen(0, '127.0.0.1', r));
    env.origin = `http://127.0.0.1:${env.server.address().port}`;
    env.base = `${env.origin}/www/`;
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    env.server?.close();
  });
  return env;
}

/** A new page that records console and page errors; closed when the test ends. */
export async function newPage(t, env, { allow = [], viewport } = {}) {
  const page = await env.browser.context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors = watchErrors(page, allow);
  t.after(() => page.close());
  return { page, errors };
}

/**
 * Wait until the page is ready (`v`: its data-ready). A first visit draws without the engine and
 * loads it on the first input (www/engine.js loadFirstView): a test that is not about that starts,
 * as after any input, with the engine loaded. `firstView` (first-view.test.mjs) leaves it unloaded.
 */
export async function ready(pageOrFrame, v = 'yes', { firstView = false } = {}) {
  await pageOrFrame.waitForSelector(`html[data-ready="${v}"]`, { timeout: 30000 });
  if (v === 'yes' && !firstView) await pageOrFrame.evaluate(() => window.__explorer?.engineLoaded?.());
}

/** Open the page with a clean storage, optionally seeded with a saved timeline. */
export async function openExplorer(t, env, { scenario = null, rules = 'post-cr', query = '', allow = [], viewport } = {}) {
  const { page, errors } = await newPage(t, env, { allow, viewport });
  await page.goto(env.base);
  await ready(page);
  await page.evaluate(([k, v]) => {
    localStorage.clear();
    if (v) localStorage.setItem(k, v);
  }, [KEY, scenario ? JSON.stringify({ scenario, rules }) : null]);
  await page.goto(env.base + query);
  await ready(page);
  return { page, errors };
}

/**
 * Hold back the download of the second wasm module (pkg/export/) on `page` until the returned
 * function is called: what the page does while that module is still loading. The steps' notes
 * and wire texts of a preset on a first visit come from the first view's texts files
 * (pkg/first-view/NAME.text.json, www/engine.js firstText) instead: those are held too.
 */
export async function holdSecondModule(page) {
  let release;
  const held = new Promise((r) => (release = r));
  const hold = async (route) => {
    await held;
    await route.continue();
  };
  await page.route('**/pkg/export/cpm_deferral_bg.wasm', hold);
  await page.route('**/pkg/first-view/*.text.json', hold);
  return release;
}

/** Open the page, then put `raw` as the saved record (as written: it may be anything) for the next load. */
export async function seedSaved(page, env, raw) {
  await page.goto(env.base);
  await ready(page);
  await page.evaluate(([k, v]) => {
    localStorage.clear();
    localStorage.setItem(k, v);
  }, [KEY, raw]);
}

export const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

/** What the page shows, for comparing two views. */
export const view = (page) => page.evaluate(() => {
  const s = window.__explorer.state;
  const q = (sel) => document.querySelector(sel)?.textContent ?? null;
  return {
    scenario: JSON.stringify(s.scenario), rules: s.rules, compare: s.compare, t: s.t, cursor: s.cursor, sel: s.sel,
    hideFuture: s.hideFuture, preset: s.preset, stepinfo: q('#stepinfo'), clock: q('#clock'), pf: q('#pfstate'),
    insp: q('#insp-head'), queue: q('#queue'), summary: q('#summary'), title: q('#title'), caption: q('#preset-caption'),
  };
});

/** Run axe-core (served from node_modules, same origin, so the page's CSP allows it) in a frame. */
export async function axe(frame, env) {
  await frame.addScriptTag({ url: `${env.origin}/node_modules/axe-core/axe.min.js` });
  const r = await frame.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  return { all: r, serious: r.filter((v) => v.impact === 'serious' || v.impact === 'critical') };
}

/** Width and height of a PNG from its IHDR chunk. */
export function pngSize(buf) {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => buf[i] === b)) throw new Error('not a PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

export const gzipSize = (buf) => zlib.gzipSync(buf, { level: 9 }).length;

/** Open `file` ({ name, mimeType, buffer } or a path) with the File menu's picker, closing any message first (so a new one is new). */
export async function pick(page, file) {
  if (await page.locator('#banner-close').isVisible()) await page.click('#banner-close');
  await page.click('#file-menu summary');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#open-file')]);
  await chooser.setFiles(file);
}

/**
 * The saved timeline's scenario as JSON text, wherever it is kept (www/storage.js: localStorage,
 * or IndexedDB with a pointer in localStorage for a big one), or null when nothing is saved.
 */
export const savedScenarioText = (page) => page.evaluate(async (k) => {
  const raw = localStorage.getItem(k);
  if (raw == null) return null;
  const rec = JSON.parse(raw);
  if (rec.stored !== 'indexeddb') return JSON.stringify(rec.scenario);
  const d = await new Promise((res, rej) => {
    const r = indexedDB.open('cpm-deferral-explorer', 1);
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  return new Promise((res) => {
    const q = d.transaction('saved').objectStore('saved').get('scenario');
    q.onsuccess = async () => {
      d.close();
      const v = q.result;
      res(v && v.rev === rec.rev ? v.text ?? (v.blob ? await v.blob.text() : null) : null);
    };
  });
}, KEY);
