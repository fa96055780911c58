// The share-link codec (www/share.js) in Node: round trip, and every kind of bad link.
// Node has CompressionStream but no Uint8Array.fromBase64, so this covers the atob/btoa path;
// the browser tests cover the native base64 path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeShare, decodeShare, deflate, toBase64url, fromBase64url, PREFIX, MAX_FRAGMENT, MAX_DEPTH, ShareError,
} from '../../www/share.js';

const scenario = {
  format: 'cpm-deferral-scenario', version: 1, title: 'Tricky “text” <b>&amp;</b> ; # 😀', setup: 'established', t1_ms: 500,
  policies: { 'q6-reason-reading': 'broad' },
  events: [{ at_ms: 1000, kind: 'message', from: 'alice', text: 'a\nb "c" <d> ; #e' }, { at_ms: 3000, kind: 'msrp_loss' }],
};
const view = { scenario, rules: 'pre-cr', compare: true, preset: 'x', t: 3010, cursor: 17, sel: { side: 'alt', step: 12, chat: 1 }, hideFuture: true, scroll: 40 };

const rejects = (p, re) => assert.rejects(p, (e) => e instanceof ShareError && re.test(e.message));

test('round trip keeps the whole view', async () => {
  const hash = await encodeShare(view);
  assert.ok(hash.startsWith(PREFIX));
  assert.match(hash.slice(PREFIX.length), /^[A-Za-z0-9_-]+$/, 'base64url, no padding');
  const back = await decodeShare(hash);
  assert.deepEqual(back.scenario, scenario);
  assert.equal(back.rules, 'pre-cr');
  assert.equal(back.compare, true);
  assert.equal(back.t, 3010);
  assert.equal(back.cursor, 17);
  assert.deepEqual(back.sel, { side: 'alt', step: 12, chat: 1 });
  assert.equal(back.hideFuture, true);
  assert.equal(back.scroll, 40);
});

test('base64url covers every byte value', () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const text = toBase64url(all);
  assert.doesNotMatch(text, /[+/=]/);
  assert.deepEqual(fromBase64url(text), all);
});

test('a truncated link is refused with a message', async () => {
  const hash = await encodeShare(view);
  for (const cut of [hash.length - 1, hash.length - 7, Math.floor(hash.length / 2), PREFIX.length + 3]) {
    await assert.rejects(decodeShare(hash.slice(0, cut)), ShareError, `cut at ${cut}`);
  }
  await rejects(decodeShare(PREFIX), /empty/);
});

test('a changed link is refused with a message', async () => {
  const hash = await encodeShare(view);
  await rejects(decodeShare(`${hash.slice(0, 20)}%${hash.slice(21)}`), /characters/);
  // Flip bits in the middle of the deflate data: it fails to unpack, or unpacks to non-JSON.
  const bytes = fromBase64url(hash.slice(PREFIX.length));
  for (const at of [2, Math.floor(bytes.length / 2), bytes.length - 2]) {
    const b = bytes.slice();
    b[at] ^= 0x5a;
    await assert.rejects(decodeShare(PREFIX + toBase64url(b)), ShareError, `flip at ${at}`);
  }
  // Valid deflate of something that is not a page state.
  const other = async (obj) => PREFIX + toBase64url(await deflate(new TextEncoder().encode(JSON.stringify(obj))));
  await rejects(decodeShare(await other({ v: 2, scenario })), /version/);
  await rejects(decodeShare(await other({ v: 1 })), /no scenario/);
  await rejects(decodeShare(await other([1, 2])), /not a page state/);
  await rejects(decodeShare(PREFIX + toBase64url(await deflate(new Uint8Array([0xff, 0xfe, 0x00])))), /text/);
});

test('oversized links are refused: too long, or unpacking to more than the cap (checked while streaming)', async () => {
  await rejects(decodeShare(PREFIX + 'A'.repeat(MAX_FRAGMENT)), /KB/);
  // 3 MB of spaces deflate to a few KB: a short link that would unpack too far.
  const bomb = PREFIX + toBase64url(await deflate(new Uint8Array(3 * 1024 * 1024).fill(32)));
  assert.ok(bomb.length < MAX_FRAGMENT, `the bomb link is short (${bomb.length})`);
  await rejects(decodeShare(bomb), /more than 2 MB/);
  await rejects(decodeShare('#other'), /not a share link/);
});

// Found by tests-web/fuzz/share-fuzz.mjs: JSON.parse takes any nesting, but JSON.stringify (the
// page's engine.check, next in openLink) threw a RangeError past a few thousand levels, which
// openLink passed on instead of a message; and the version was printed whatever its size.
const packed = async (text) => PREFIX + toBase64url(await deflate(new TextEncoder().encode(text)));

test('deep nesting is refused with a message, not a RangeError later', async () => {
  // The fuzzer's input (target/fuzz-crashes/share-8.txt): a preset with 5,000 nested objects
  // among its events, in 697 characters.
  const fuzzed = '#s=7d3BS9xAFMfxf2V4l7aQyG6t0KaHYkWLB0G0l1KKzCZv19RJJryZtRXZ_70kWnUv0h56Kd_f4UMCkzdvHrnPrVxLNS8k1dp7a6NUt7KM1vksldRDVza6VDMfyocVhVyrpTb204e5zUGlkpPzs1NXx77XOrexdyGmXLh8qb078BaDM121Kasl93Lw-dLtv5JCGk21tUOeqsmBT-p2q_Er9_lgq1ztzW7afuWmfRam_iq9nxaeHrmpx1Q43zfOu7PDT8fnnw_PXMrecnJ3u-1IIXqtfU5Sfb0Vny-6JNXr2WxWyFXbN1JJpyn5lUohS4udVOJDW4-vWX-O4ziJ1o8t-BBc6fxK-8a7ZTR3ZG3jbz7IpngovLv3XOF6nMhj4eMXIbiFjbXHE6XQNpp2npZ7u9VnsuEixJSerpg_f5RFXDzut2_qfqhLuQ3BxX46w-7QbR1gvvc3o_miyZXOYuzcm49bnc_f_Xlfd3OI8Woaw2Dxu9Y52n298dcEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD475lvCCGEEEIIIYQQQggh_zzfNoXYOmiSSoaYclmbFFLHbvCmUi19SFrIYJo0398pW453ypbjdbmlHy9llWpWSL22FE2qfh1CIUnD78fLttGjdV4_qZZqiyFINdv8Ag';
  await rejects(decodeShare(fuzzed), /nested more than 100 levels/);
  for (const d of [MAX_DEPTH, 5000, 200000]) {
    await rejects(decodeShare(await packed(`{"v":1,"scenario":{"events":[],"x":${'['.repeat(d)}${']'.repeat(d)}}}`)), /nested/);
  }
  // A deep version field used to throw from decodeShare itself (JSON.stringify in the message).
  await rejects(decodeShare(await packed(`{"v":${'['.repeat(200000)}${']'.repeat(200000)},"scenario":{"events":[]}}`)), /nested/);
  // Up to the limit is fine, and brackets in strings do not count.
  const d = MAX_DEPTH - 2; // the state and the scenario are two levels
  const title = '[[[{{\\"[[ a backslash, a quote and brackets';
  const ok = await decodeShare(await packed(`{"v":1,"scenario":{"events":[],"title":${JSON.stringify(title)},"x":${'['.repeat(d)}${']'.repeat(d)}}}`));
  assert.equal(ok.scenario.title, title);
  assert.doesNotThrow(() => JSON.stringify(ok.scenario));
});

test('a wrong version is named briefly, whatever the field holds', async () => {
  for (const v of ['x'.repeat(1_000_000), { a: [1, 2, { b: 'c'.repeat(5000) }] }, null, '1']) {
    await assert.rejects(decodeShare(await packed(JSON.stringify({ v, scenario }))), (e) => e instanceof ShareError && /no version number/.test(e.message) && e.message.length < 100);
  }
  await rejects(decodeShare(await packed('{"scenario":{"events":[]}}')), /no version number/);
  await rejects(decodeShare(await packed(JSON.stringify({ v: 2, scenario }))), /^it has version 2, this page reads version 1$/);
});
