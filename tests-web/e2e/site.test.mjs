// The page as shipped: the static site (scripts/build-site.mjs: minified scripts and styles,
// source maps) served by a plain static server, no minifying of its own. A preset runs, the
// inspector gets a wire text from the second module (the first one has none), the event editor
// (loaded on use) opens and edits, the Policies panel gets its descriptions from the second
// module, and nothing logs an error. Also the first module's promise:
// the page's initial load has no wire-text code (issue 12's weight budget).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSite } from '../../scripts/build-site.mjs';
import { useBrowser, newPage } from '../harness.mjs';

// The site is built before the server starts (buildSite is synchronous), then served as it is.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpm-site-'));
buildSite(dir);
const env = useBrowser({ root: dir, minify: false });
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the shipped site: preset, inspector text on demand, the editor on use, no errors', async (t) => {
  const { page, errors } = await newPage(t, env);
  const loaded = [];
  page.on('request', (r) => loaded.push(new URL(r.url()).pathname));
  await page.goto(`${env.base}?preset=bye-480-path-a`);
  await page.waitForSelector('html[data-ready="yes"]', { timeout: 30000 });
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  assert.ok(!loaded.some((p) => p.startsWith('/pkg/export/')), 'the second module is not loaded at start');
  assert.ok(!loaded.includes('/www/editor.js'), 'the editor is not loaded at start');
  const first = await page.evaluate(() => typeof window.__explorer.state.engine.mod.raw);
  assert.equal(first, 'undefined', 'the first module has no wire texts');
  const i = await page.evaluate(() => window.__explorer.state.trace.steps.findIndex((s) => s.protocol === 'SIP' && s.label.startsWith('BYE')));
  assert.ok(i > 0);
  await page.evaluate((k) => window.__explorer.api.selectStep('main', k, null, true), i);
  await page.waitForFunction(() => document.querySelector('#insp-raw')?.dataset.raw === 'yes', null, { timeout: 10000 });
  assert.match(await page.locator('#insp-raw').textContent(), /^BYE sip:[\s\S]*Reason: SIP;cause=480/m);
  // A ?preset= link is a first visit: the text came from that preset's first-view texts file.
  assert.ok(loaded.includes('/pkg/first-view/bye-480-path-a.text.json'), 'the text came from the first view');
  assert.ok(!loaded.includes('/pkg/export/cpm_deferral_bg.wasm'), 'not from the second module');
  // The editor: open the first event, change its time, see it applied.
  await page.locator('.marker').first().click();
  await page.waitForSelector('#editor:not([hidden]) #ed-at', { timeout: 5000 });
  assert.ok(loaded.includes('/www/editor.js'));
  const at = Number(await page.inputValue('#ed-at'));
  await page.fill('#ed-at', String(at + 100));
  await page.press('#ed-at', 'Enter');
  await page.waitForFunction((want) => window.__explorer.state.scenario.events.some((e) => e.at_ms === want), at + 100, { timeout: 5000 });
  // The Policies panel: its pickers at once, the descriptions from the second module (the first
  // one carries none: Cargo feature policy-text).
  assert.equal(await page.evaluate(() => window.__explorer.state.engine.mod.policies().every((p) => p.description === '')), true);
  await page.click('#policies summary');
  await page.waitForSelector('#policy-list select');
  await page.waitForFunction(() => [...document.querySelectorAll('#policy-list .pdesc')].every((e) => e.textContent.length > 40), null, { timeout: 10000 });
  const shown = await page.evaluate(() => [...document.querySelectorAll('#policy-list .pdesc')].map((e) => e.textContent));
  const full = await page.evaluate(() => window.__explorer.state.engine.fast.policies().map((p) => p.description));
  assert.deepEqual(shown, full);
  assert.match(shown[1], /prefer-rejoin/);
  assert.deepEqual(errors, []);
});
