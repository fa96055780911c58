// Slides out (issue 15): File → Slides makes one self-contained HTML deck with one SVG per key
// stop; it opens from file:// with no script and no network, PageDown goes slide to slide, and a
// hostile title is text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useBrowser, openExplorer, newPage, SHOTS } from '../harness.mjs';

const env = useBrowser();
const HOSTILE = '<img src=x onerror="window.__pwned=1"> & “deck”';

test('the key steps as an HTML deck: one SVG per key stop, the key step outlined, clicker keys, no script', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  await page.evaluate((title) => window.__explorer.load({ ...window.__explorer.state.scenario, title }), HOSTILE);
  const stops = await page.evaluate(async () => {
    const { keyStops } = await import('./story.js');
    return keyStops(window.__explorer.state.trace);
  });
  const [download] = await Promise.all([page.waitForEvent('download'), (async () => {
    await page.click('#file-menu summary');
    await page.click('[data-export="deck"]');
  })()]);
  assert.match(download.suggestedFilename(), /-slides\.html$/);
  const file = path.join(SHOTS, 'deck.html');
  fs.copyFileSync(await download.path(), file);
  const html = fs.readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<script/i, 'no script');
  assert.equal((html.match(/<g id="ladder"/g) || []).length, 1, 'the ladder once');
  assert.ok(html.length < 400000, `${html.length} bytes`);
  const { page: deck, errors: e2 } = await newPage(t, env, { viewport: { width: 1280, height: 720 } });
  const outside = [];
  await deck.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : (outside.push(r.request().url()), r.abort())));
  await deck.goto(`file://${file}`);
  const info = await deck.evaluate(() => ({
    sections: document.querySelectorAll('section').length,
    svgs: document.querySelectorAll('section svg.slide').length,
    keys: [...document.querySelectorAll('rect.key')].map((r) => Number(r.dataset.step)),
    title: document.querySelector('h1').textContent,
    imgs: document.querySelectorAll('img').length,
    heads: [...document.querySelectorAll('section h2')].map((h) => h.textContent),
  }));
  assert.equal(info.svgs, stops.length, 'one SVG per key stop');
  assert.equal(info.sections, stops.length + 1, 'and a title slide');
  assert.deepEqual(info.keys, stops.map((c) => c - 1), 'each slide outlines its key step');
  assert.equal(info.title, HOSTILE, 'the title is text');
  assert.equal(info.imgs, 0);
  assert.match(info.heads[0], /^Trigger: Carol's BYE has Reason SIP/);
  // The ladder is drawn through <use>: the slide's inner SVGs have a size.
  const box = await deck.evaluate(() => document.querySelector('#slide-1 svg.slide').getBoundingClientRect().height);
  assert.ok(box > 300, `slide SVG ${box} px tall`);
  await deck.screenshot({ path: path.join(SHOTS, 'deck-slide-0.png') });
  await deck.keyboard.press('PageDown');
  await deck.waitForFunction(() => Math.abs(scrollY - document.getElementById('slide-1').offsetTop) < 2);
  await deck.keyboard.press('PageDown');
  await deck.waitForFunction(() => Math.abs(scrollY - document.getElementById('slide-2').offsetTop) < 2);
  await deck.screenshot({ path: path.join(SHOTS, 'deck-slide-2.png') });
  await deck.keyboard.press('PageUp');
  await deck.waitForFunction(() => Math.abs(scrollY - document.getElementById('slide-1').offsetTop) < 2);
  assert.equal(await deck.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(outside, []);
  assert.deepEqual(e2, []);
  assert.deepEqual(errors, []);
});

test('the story as an animated GIF: one frame per key stop, looping; Chromium decodes it and it shows the ladder', async (t) => {
  const { gifFrames } = await import('../../www/gif.js');
  const { page, errors } = await openExplorer(t, env, { query: '?preset=msrp-loss-path-a' });
  const stops = await page.evaluate(async () => (await import('./story.js')).keyStops(window.__explorer.state.trace).length);
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), (async () => {
    await page.click('#file-menu summary');
    await page.click('[data-export="gif"]');
  })()]);
  assert.match(download.suggestedFilename(), /-story\.gif$/);
  const bytes = fs.readFileSync(await download.path());
  fs.writeFileSync(path.join(SHOTS, 'story.gif'), bytes);
  const frames = gifFrames(new Uint8Array(bytes));
  assert.equal(frames.length, stops, 'one frame per key stop');
  assert.ok(frames.every((f) => f.width === 1280 && f.delayMs >= 2000), JSON.stringify(frames[0]));
  assert.ok(bytes.includes(Buffer.from('NETSCAPE2.0')), 'loops');
  assert.ok(bytes.length < 3_000_000, `${bytes.length} bytes`);
  // Chromium decodes it; the first frame has the ladder's blue SIP and green MSRP arrows.
  const seen = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/gif;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    let colour = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] + d[i + 1] + d[i + 2] < 200) dark++;
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80) colour++;
    }
    return { w: img.naturalWidth, h: img.naturalHeight, dark, colour };
  }, bytes.toString('base64'));
  assert.equal(seen.w, 1280);
  assert.ok(seen.h > 300, `${seen.h} px tall`);
  assert.ok(seen.dark > 2000 && seen.colour > 500, JSON.stringify(seen));
  assert.deepEqual(errors, []);
});
