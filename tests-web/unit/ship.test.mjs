// What the server sends (scripts/ship.mjs, scripts/serve.mjs): the page's scripts and stylesheets
// minified file by file, with source maps; the same exports and the same behaviour as the
// sources (every e2e test runs the minified page); a file that does not parse is a clear 500;
// MINIFY off sends the repository's bytes; the static site (scripts/build-site.mjs) holds the
// same bytes as the server sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from '../../scripts/serve.mjs';
import { isShipped, shippedBytes } from '../../scripts/ship.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function serve(t, root, opts) {
  const server = createServer(root, opts);
  t.after(() => server.close());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${server.address().port}`;
}

test('the page modules are sent minified, with a source map, and export the same names', async (t) => {
  const base = await serve(t, ROOT);
  for (const f of ['www/app.js', 'www/engine.js', 'www/scenario.js', 'www/viewmodel.js', 'pkg/cpm_deferral.js']) {
    const src = fs.readFileSync(path.join(ROOT, f), 'utf8');
    const res = await fetch(`${base}/${f}`);
    assert.equal(res.status, 200, f);
    assert.match(res.headers.get('content-type'), /^text\/javascript/, f);
    const sent = await res.text();
    assert.ok(sent.length < src.length * 0.8, `${f}: ${sent.length} bytes sent for ${src.length} in the repository`);
    assert.ok(!/^\s*\/\/ /m.test(sent) && !sent.includes('/**'), `${f}: no comments are sent`);
    assert.equal(res.headers.get('sourcemap'), `${path.basename(f)}.map`, `${f}: its map is named by the SourceMap header`);
    const map = await (await fetch(`${base}/${f}.map`)).json();
    assert.equal(map.version, 3);
    assert.deepEqual(map.sources, [path.basename(f)]);
    assert.equal(map.sourcesContent[0], src, `${f}: the map carries the source`);
  }
  // Same exports: import the minified scenario.js and viewmodel.js (no DOM needed) next to the sources.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ship-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of ['scenario.js', 'viewmodel.js']) fs.writeFileSync(path.join(dir, f), shippedBytes(ROOT, `www/${f}`));
  for (const f of ['scenario.js', 'viewmodel.js']) {
    const a = await import(pathToFileURL(path.join(ROOT, 'www', f)).href);
    const b = await import(pathToFileURL(path.join(dir, f)).href);
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), f);
  }
  const a = await import(pathToFileURL(path.join(ROOT, 'www/viewmodel.js')).href);
  const b = await import(pathToFileURL(path.join(dir, 'viewmodel.js')).href);
  for (const ms of [0, 999, 61000, 3723004]) assert.equal(b.fmtMs(ms), a.fmtMs(ms), `fmtMs(${ms})`);
  // Non-ASCII text stays as written (not \\u escapes, which would make it longer).
  assert.ok(shippedBytes(ROOT, 'www/app.js').toString().includes('→'));
});

test('only the page scripts and styles are minified; MINIFY off sends the bytes as they are', async (t) => {
  for (const [rel, want] of [['www/app.js', true], ['www/style.css', true], ['pkg/export/cpm_deferral.js', true],
    ['www/index.html', false], ['pkg/cpm_deferral_bg.wasm', false], ['tests-web/harness.mjs', false], ['docs/embed.md', false]]) {
    assert.equal(isShipped(rel), want, rel);
  }
  const base = await serve(t, ROOT, { minify: false });
  const res = await fetch(`${base}/www/app.js`);
  assert.equal(await res.text(), fs.readFileSync(path.join(ROOT, 'www/app.js'), 'utf8'));
  assert.equal((await fetch(`${base}/www/app.js.map`)).status, 404, 'no map without minifying');
});

test('a page script that does not parse is a 500 naming the file, and the server keeps serving', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ship-bad-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'www'));
  fs.writeFileSync(path.join(dir, 'www/bad.js'), 'export const x = (;\n');
  fs.writeFileSync(path.join(dir, 'www/good.js'), '// a comment\nexport const y = 1 + 1;\n');
  const base = await serve(t, dir);
  const bad = await fetch(`${base}/www/bad.js`);
  assert.equal(bad.status, 500);
  assert.match(await bad.text(), /cannot minify www\/bad\.js/);
  assert.equal((await fetch(`${base}/www/missing.js`)).status, 404);
  assert.equal((await fetch(`${base}/www/missing.js.map`)).status, 404);
  const good = await fetch(`${base}/www/good.js`);
  assert.equal(good.status, 200);
  assert.match(await good.text(), /^export const y=2;/);
});

test('the static site holds the bytes the server sends', async (t) => {
  const { buildSite } = await import('../../scripts/build-site.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'site-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  assert.ok(buildSite(dir) > 20);
  for (const f of ['www/app.js', 'www/style.css', 'www/index.html', 'pkg/cpm_deferral.js', 'pkg/cpm_deferral_bg.wasm', 'pkg/export/cpm_deferral.js']) {
    assert.deepEqual(fs.readFileSync(path.join(dir, f)), Buffer.from(shippedBytes(ROOT, f)), f);
  }
  assert.ok(fs.existsSync(path.join(dir, 'www/app.js.map')));
  assert.ok(!fs.existsSync(path.join(dir, 'pkg/cpm_deferral.d.ts')), 'no TypeScript declarations');
});
