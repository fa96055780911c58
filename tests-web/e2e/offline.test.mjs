// The offline single file (scripts/build-offline.sh → dist/cpm-deferral-explorer.html) opened
// from file:// with every network request refused: it loads, plays a preset to the end, shares,
// opens its own share link, and exports (the export functions are in its inlined wasm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { useBrowser, newPage, ready, shot, ROOT } from '../harness.mjs';

const env = useBrowser();
const FILE = path.join(ROOT, 'dist', 'cpm-deferral-explorer.html');

test('offline file from file:// with no network: plays a preset, shares, exports', async (t) => {
  if (!fs.existsSync(FILE)) execFileSync('node', [path.join(ROOT, 'scripts/build-offline.mjs')], { stdio: 'inherit' });
  const html = fs.readFileSync(FILE, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+\bsrc=|<link[^>]+rel="stylesheet"/, 'nothing loaded from a file or URL');
  const { page, errors } = await newPage(t, env);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.route(/^https?:/, (route) => route.abort());
  const url = pathToFileURL(FILE).href;
  await page.goto(url);
  await ready(page);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.offline), 'yes');
  await page.selectOption('#preset', 'msrp-loss-path-a');
  await page.selectOption('#speed', '8');
  await page.keyboard.press('Home');
  await page.click('#play');
  await page.waitForFunction(() => {
    const s = window.__explorer.state;
    return !s.playing && s.cursor === s.trace.steps.length;
  }, null, { timeout: 90000 });
  assert.match(await page.locator('#stepinfo').textContent(), /^step (\d+) \/ \1$/);
  assert.ok((await page.locator('#queue li[data-state="delivered"]').count()) > 0, 'the store was delivered');
  await shot(page, 'offline-played');

  // Share link of the offline file, opened in a new page, reproduces the view.
  const link = await page.evaluate(() => window.__explorer.shareLink());
  assert.ok(link.startsWith(`${url}#s=`));
  const { page: p2, errors: e2 } = await newPage(t, env);
  await p2.route(/^https?:/, (route) => route.abort());
  await p2.goto(link);
  await ready(p2);
  assert.equal(await p2.evaluate(() => window.__explorer.state.cursor), await page.evaluate(() => window.__explorer.state.cursor));

  // Presenter mode (its stylesheet is inlined) and an export.
  await page.click('#present');
  await page.waitForSelector('.present-bar');
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('caption')).borderTopStyle), 'solid', 'presenter styles present');
  await page.keyboard.press('Escape');
  await page.click('#file-menu summary');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-export="transcript"]')]);
  assert.match(fs.readFileSync(await dl.path(), 'utf8'), /MSRP/);
  const bad = requests.filter((u) => !/^(file|data|blob):/.test(u));
  assert.deepEqual(bad, [], 'no network request');
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
});
