// Issue 13, items 4 and 10, what was left: the engine-crash banner says what a reload does (a
// timeline the engine stops on as the page starts no longer traps the user: the next start
// holds it, to download or discard, and shows a preset), and a share link's scenario is checked
// as written in the link (1000.0, 1e3, -0 are refused as `cpm-deferral check` refuses them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { useBrowser, openExplorer, ready, KEY } from '../harness.mjs';
import { toBase64url, PREFIX } from '../../www/share.js';

const env = useBrowser();
const scenario = (title) => ({
  format: 'cpm-deferral-scenario', version: 1, title, setup: 'established',
  events: [{ at_ms: 1000, kind: 'message', from: 'alice', text: 'hello' }, { at_ms: 3000, kind: 'bye', reason: 'SIP;cause=480' }],
});

// Makes the engine panic (a real Rust panic, through its debug_panic export) on every run of a
// scenario whose JSON contains PANIC-ME, while sessionStorage['test-panic'] is set: an engine bug
// that a particular timeline triggers.
function panicOnMarker() {
  if (!sessionStorage.getItem('test-panic')) return;
  const wrap = (r) => {
    const ex = r.instance.exports;
    const text = (p, n) => new TextDecoder().decode(new Uint8Array(ex.memory.buffer, p, n));
    const patched = { ...ex };
    for (const name of ['run', 'run_both']) {
      patched[name] = (...a) => (text(a[0], a[1]).includes('PANIC-ME') ? ex.debug_panic() : ex[name](...a));
    }
    return { instance: { exports: patched }, module: r.module };
  };
  const streaming = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = (...a) => streaming.apply(WebAssembly, a).then(wrap);
}

test('item 4: the crash banner says what a reload does; a timeline the engine stops on at start is held, not a trap', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: scenario('PANIC-ME'), allow: [/panic/i, /unreachable/i, /RuntimeError/] });
  await page.addInitScript(panicOnMarker);
  // The engine stops on this timeline as the page starts.
  await page.evaluate(() => sessionStorage.setItem('test-panic', '1'));
  await page.reload();
  await page.waitForSelector('#banner:not([hidden]) #banner-reload', { timeout: 30000 });
  const text = await page.locator('#banner-text').textContent();
  assert.match(text, /The engine stopped/);
  assert.doesNotMatch(text, /comes back after a reload/);
  assert.match(text, /should the engine stop on it again as the page starts, the next reload shows a preset/);
  // Its download is the timeline.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#banner-download')]);
  const file = JSON.parse(await (await dl.createReadStream()).toArray().then((c) => Buffer.concat(c).toString('utf8')));
  assert.equal(file.title, 'PANIC-ME');
  const before = await page.evaluate((k) => localStorage.getItem(k), KEY);
  assert.equal(JSON.parse(before).scenario.title, 'PANIC-ME', 'saved');
  // Reload: the page starts (a preset), the saved timeline is held as it was, named, downloadable.
  await page.click('#banner-reload');
  await ready(page);
  assert.match(await page.locator('#keep-banner').textContent(), /cannot be opened: the engine stopped on it as the page last started/);
  assert.notEqual(await page.evaluate(() => window.__explorer.state.scenario.title), 'PANIC-ME');
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), KEY), before, 'the saved timeline is untouched');
  // Another reload without the flag: the crash was one start ago, the timeline opens again.
  await page.evaluate(() => sessionStorage.removeItem('test-panic'));
  await page.reload();
  await ready(page);
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), 'PANIC-ME');
  assert.deepEqual(errors.filter((e) => !/panic|unreachable|RuntimeError/i.test(e)), []);
});

test('item 10: a share link whose scenario has 1000.0, 1e3 or -0 is refused as check refuses it', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: scenario('mine') });
  const sc = JSON.stringify(scenario('from a link'));
  for (const [written, want] of [['1000.0', /found 1000\.0.*write it as 1000/], ['1e3', /write it as 1000/], ['-0', /write it as 0/]]) {
    const text = `{"v":1,"scenario":${sc.replace('"at_ms":1000', `"at_ms":${written}`)},"rules":"post-cr"}`;
    const hash = PREFIX + toBase64url(zlib.deflateRawSync(Buffer.from(text)));
    await page.goto(`${env.base}${hash}`);
    await ready(page);
    // The link is read by share.js, loaded on use: its message may come after the page is ready.
    await page.waitForFunction(() => /share link/.test(document.getElementById('banner-text')?.textContent || ''), null, { timeout: 15000 });
    const msg = await page.locator('#banner-text').textContent();
    assert.match(msg, /This share link cannot be opened: its scenario is not valid: events\[0\]\.at_ms/, `${written}: ${msg}`);
    assert.match(msg, want, `${written}: ${msg}`);
    assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), 'mine');
  }
  // The same link written as the page writes it opens.
  const ok = PREFIX + toBase64url(zlib.deflateRawSync(Buffer.from(`{"v":1,"scenario":${sc},"rules":"post-cr"}`)));
  await page.goto(`${env.base}${ok}`);
  await ready(page);
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), 'from a link');
  assert.deepEqual(errors, []);
});
