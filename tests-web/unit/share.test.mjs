// The share-link codec (www/share.js) in Node: round trip, and every kind of bad link.
// Node has CompressionStream but no Uint8Array.fromBase64, so this covers the atob/btoa path;
// the browser tests cover the native base64 path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeShare, decodeShare, deflate, toBase64url, fromBase64url, PREFIX, MAX_FRAGMENT, ShareError,
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
