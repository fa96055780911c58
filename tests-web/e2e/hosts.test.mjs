// The explorer embedded in a host page (tests-web/pages/host.html, strict CSP, no inline script):
// it works under a strict CSP of its own too; where WebAssembly is forbidden (a CSP without
// 'wasm-unsafe-eval', or no WebAssembly object at all) it shows the pre-rendered SVG ladder and
// transcript of its preset with a one-line notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, ready, shot } from '../harness.mjs';

const env = useBrowser();

/** Serve the iframe document (/www/?embed…) with this CSP header on top of its own meta CSP. */
async function cspOnEmbed(page, csp) {
  await page.route(/\/www\/\?embed/, async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': csp } });
  });
}
async function embedFrame(page) {
  const handle = await page.waitForSelector('#embed');
  const frame = await handle.contentFrame();
  return frame;
}

test('embed in a strict-CSP host: runs, autoplays, captions each step', async (t) => {
  const { page, errors } = await newPage(t, env);
  await cspOnEmbed(page, "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'");
  await page.goto(`${env.origin}/tests-web/pages/host.html`);
  const frame = await embedFrame(page);
  await ready(frame);
  assert.equal(await frame.evaluate(() => document.documentElement.classList.contains('embed')), true);
  assert.equal(await frame.locator('.top').isHidden(), true, 'no page chrome');
  assert.equal(await frame.locator('.timeline-wrap').isHidden(), true);
  assert.equal(await frame.locator('.side').isHidden(), true);
  assert.equal(await frame.locator('.embed-title').textContent(), 'BYE 480, then Carol registers (path A)');
  // Autoplay moves the playhead, and the caption follows the steps.
  await frame.waitForFunction(() => window.__explorer.state.cursor > 3, null, { timeout: 15000 });
  await frame.locator('#play').click(); // pause
  const cap1 = await frame.locator('#caption').textContent();
  await frame.locator('#next').click();
  const cap2 = await frame.locator('#caption').textContent();
  assert.notEqual(cap1, cap2, 'the caption changes with the step');
  assert.match(await frame.locator('#caption .cap-head').textContent(), /^0:0\d\.\d{3} · /);
  assert.match(await frame.locator('#caption .cap-situation').textContent(), /^Case 1: BYE with Reason/, 'the preset description until the case is reached');
  // The embed never writes the visitor's saved timeline.
  assert.equal(await frame.evaluate(() => localStorage.getItem('cpm-deferral-explorer:v1')), null);
  const open = await frame.locator('.embed-bar a').getAttribute('href');
  assert.match(open, /\/www\/\?preset=bye-480-path-a$/);
  await shot(page, 'host-strict-csp');
  assert.deepEqual(errors, []);
});

test('embed from a share link (#s=…) shows the shared view', async (t) => {
  const { page, errors } = await newPage(t, env);
  await page.goto(`${env.base}?preset=msrp-loss-path-b`);
  await ready(page);
  await page.keyboard.press('End');
  const hash = await page.evaluate(() => window.__explorer.shareLink().then((l) => l.slice(l.indexOf('#'))));
  const { page: p2, errors: e2 } = await newPage(t, env);
  await p2.goto(`${env.base}?embed${hash}`);
  await ready(p2);
  assert.equal(await p2.evaluate(() => window.__explorer.state.cursor), await page.evaluate(() => window.__explorer.state.cursor));
  assert.match(await p2.locator('#caption').textContent(), /Case 3 of §8\.3\.2\.9.*Path B/);
  assert.match(await p2.locator('.embed-bar a').getAttribute('href'), /\/www\/#s=/);
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
});

for (const [name, how] of [
  ['a CSP without wasm-unsafe-eval', 'csp'],
  ['no WebAssembly object', 'deleted'],
]) {
  test(`WebAssembly forbidden (${name}): pre-rendered ladder and transcript with a one-line notice`, async (t) => {
    // The browser reports the CSP refusal itself as a console error: that one is expected.
    const allow = how === 'csp' ? [/WebAssembly|wasm-eval|wasm-unsafe-eval|Content Security Policy/i] : [];
    const { page, errors } = await newPage(t, env, { allow });
    if (how === 'csp') await cspOnEmbed(page, "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:");
    else await page.addInitScript(() => delete globalThis.WebAssembly);
    await page.goto(`${env.origin}/tests-web/pages/host.html`);
    const frame = await embedFrame(page);
    await ready(frame, 'fallback');
    const note = await frame.locator('#fallback-note').textContent();
    assert.match(note, /^WebAssembly is not available here, so this is a pre-rendered ladder of the preset “bye-480-path-a”, not interactive\.$/);
    const img = await frame.locator('#fallback-svg');
    await frame.waitForFunction(() => document.getElementById('fallback-svg').complete && document.getElementById('fallback-svg').naturalHeight > 0);
    const h = await img.evaluate((e) => e.naturalHeight);
    assert.ok(h > 1000, `the whole ladder (${h} px)`);
    assert.match(await img.getAttribute('alt'), /transcript below/);
    const transcript = await frame.locator('#fallback-transcript').textContent();
    assert.match(transcript, /BYE/);
    assert.match(transcript, /summary/);
    await shot(page, `host-no-wasm-${how}`);
    assert.deepEqual(errors, []);
  });
}

test('the main page without WebAssembly: fallback with a preset picker', async (t) => {
  const { page, errors } = await newPage(t, env);
  await page.addInitScript(() => delete globalThis.WebAssembly);
  await page.goto(`${env.base}?preset=msrp-loss-path-a`);
  await ready(page, 'fallback');
  assert.match(await page.locator('#fallback-note').textContent(), /“msrp-loss-path-a”/);
  await page.selectOption('#fallback-preset', 'voluntary-leave');
  await page.waitForFunction(() => /voluntary-leave\.svg$/.test(document.getElementById('fallback-svg').src));
  await page.waitForFunction(() => /voluntary/i.test(document.getElementById('fallback-transcript').textContent) || document.getElementById('fallback-transcript').textContent.length > 100);
  assert.match(await page.locator('#fallback-note').textContent(), /“voluntary-leave”/);
  await shot(page, 'main-no-wasm');
  assert.deepEqual(errors, []);
});
