// Accessibility in Chromium: axe-core finds no serious or critical violation on the main page
// (several states and both themes), in embed mode, in presenter mode and in the no-WebAssembly
// fallback; the new controls are keyboard-reachable; prefers-reduced-motion stops autoplay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useBrowser, newPage, openExplorer, ready, axe, SHOTS, holdSecondModule } from '../harness.mjs';

const env = useBrowser();
const results = {};

async function check(page, name) {
  const r = await axe(page, env);
  results[name] = r.all.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.join(', ')})`);
  assert.deepEqual(r.serious, [], `${name}: serious or critical axe violations`);
}

test('axe: main page (start, inspector, File menu, share box, compare, dark, large type)', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  await check(page, 'main');
  for (let i = 0; i < 25; i++) await page.keyboard.press('PageDown');
  await page.click('#file-menu summary');
  await check(page, 'main-inspector-file-menu');
  await page.keyboard.press('Escape');
  await page.click('#share');
  await page.waitForSelector('#share-box:not([hidden])');
  await check(page, 'main-share-box');
  await page.keyboard.press('Escape');
  await page.check('#compare');
  await page.click('#theme');
  await page.click('#large');
  await check(page, 'main-compare-dark-large');
  assert.deepEqual(errors, []);
  fs.writeFileSync(path.join(SHOTS, 'axe.json'), `${JSON.stringify(results, null, 1)}\n`);
});

test('axe: embed, presenter, fallback', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?embed&preset=bye-480-path-a' });
  for (let i = 0; i < 12; i++) await page.keyboard.press('PageDown');
  await check(page, 'embed');
  const { page: p2, errors: e2 } = await openExplorer(t, env, { query: '?present&preset=msrp-loss-path-b' });
  for (let i = 0; i < 30; i++) await p2.keyboard.press('PageDown');
  await check(p2, 'present');
  await p2.click('#theme').catch(() => {}); // hidden in presenter mode: nothing to do
  const { page: p3, errors: e3 } = await newPage(t, env);
  await p3.addInitScript(() => delete globalThis.WebAssembly);
  await p3.goto(`${env.base}?embed&preset=bye-480-path-a`);
  await ready(p3, 'fallback');
  await check(p3, 'fallback');
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
  assert.deepEqual(e3, []);
  fs.writeFileSync(path.join(SHOTS, 'axe.json'), `${JSON.stringify(results, null, 1)}\n`);
});

test('keyboard: Share, File (every item), Present reachable by Tab and usable with Enter', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const reached = new Set();
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.parentElement?.id || ''));
  }
  for (const id of ['share', 'file-menu', 'present']) assert.ok(reached.has(id), `${id} reachable (${[...reached].join(' ')})`);
  await page.locator('#file-menu summary').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#file-menu').evaluate((d) => d.open), true, 'Enter opens the menu');
  const items = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    items.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.dataset.export || ''));
  }
  for (const id of ['open-file', 'save-file', 'tour-edit', 'judge-open', 'svg', 'png', 'transcript', 'mermaid', 'plantuml', 'pcap', 'deck', 'gif']) assert.ok(items.includes(id), `menu item ${id} (${items.join(' ')})`);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#file-menu').evaluate((d) => d.open), false, 'Escape closes the menu');
  // Every control has an accessible name.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, select, input, summary, a[href]')]
    .filter((e) => e.offsetParent !== null || e.tagName === 'SUMMARY')
    .filter((e) => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim() || e.title))
    .map((e) => e.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);
  assert.deepEqual(errors, []);
});

test('text version while the notes load: an empty, busy list that says so, then the lines', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const release = await holdSecondModule(page);
  await page.click('#text-toggle');
  await page.waitForSelector('#textview[aria-busy="true"]');
  assert.equal(await page.locator('#textview li').count(), 0, 'no line without its note');
  assert.match(await page.evaluate(() => getComputedStyle(document.getElementById('textview'), '::before').content), /Loading the explanations of the steps/);
  release();
  const n = await page.evaluate(() => window.__explorer.state.trace.steps.length);
  await page.waitForFunction((k) => document.querySelectorAll('#textview li').length === k, n, { timeout: 30000 });
  assert.equal(await page.locator('#textview').getAttribute('aria-busy'), null);
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('textview'), '::before').content), 'none');
  assert.match(await page.locator('#textview').textContent(), /Carol \(client\) → IMS core: SIP BYE\. .*Reason/);
  assert.deepEqual(errors, []);
});

test('text version of the ladder: one line per step, the playhead step marked', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  await page.click('#text-toggle');
  await page.waitForSelector('#textview:not([hidden])');
  assert.equal(await page.locator('#text-toggle').getAttribute('aria-expanded'), 'true');
  const n = await page.evaluate(() => window.__explorer.state.trace.steps.length);
  // The lines are written once the steps' notes are there (the second module; app.js needNotes),
  // which may still be loading when the list opens.
  await page.waitForFunction((k) => document.querySelectorAll('#textview li').length === k, n, { timeout: 15000 });
  assert.equal(await page.locator('#textview li').count(), n);
  for (let i = 0; i < 20; i++) await page.keyboard.press('PageDown');
  const c = await page.evaluate(() => window.__explorer.state.cursor);
  assert.equal(await page.locator('#textview li[aria-current="step"]').count(), 1);
  assert.equal(await page.locator('#textview li[aria-current="step"]').evaluate((li) => [...li.parentNode.children].indexOf(li)), c - 1);
  assert.match(await page.locator('#textview li[aria-current="step"]').textContent(), /^0:\d\d\.\d{3} .+: .+\. /);
  assert.match(await page.locator('#textview').textContent(), /Carol \(client\) → IMS core: SIP BYE\. .*Reason/);
  await check(page, 'main-text-version');
  // A different rule set redraws the text.
  await page.check('input[name="rules"][value="pre-cr"]');
  assert.equal(await page.locator('#textview li').count(), await page.evaluate(() => window.__explorer.state.trace.steps.length));
  await page.click('#text-toggle');
  await page.waitForSelector('#textview[hidden]', { state: 'attached' });
  assert.deepEqual(errors, []);
});

test('prefers-reduced-motion: embed autoplay waits for Play and says why', async (t) => {
  const { page, errors } = await newPage(t, env);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(`${env.base}?embed&preset=bye-480-path-a&autoplay`);
  await ready(page);
  await page.waitForTimeout(800);
  assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'false', 'not playing');
  assert.match(await page.locator('#banner-text').textContent(), /reduced motion/);
  const scroll = await page.evaluate(() => getComputedStyle(document.documentElement).scrollBehavior);
  assert.equal(scroll, 'auto');
  assert.deepEqual(errors, []);
});
