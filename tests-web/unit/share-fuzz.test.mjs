// The share-link fuzzer (tests-web/fuzz/share-fuzz.mjs) as a test: a fixed seed and count must
// find no crash and still get past every check of decodeShare (so the test fails if the fuzzer
// stops reaching deep), and its checker must catch a decoder that breaks the contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzShare, checkOutcome, pollution, loadEngine, engineCall, storedDeflate, stringify, Rng } from '../fuzz/share-fuzz.mjs';
import { MAX_UNPACKED } from '../../www/share.js';
import { decodeShare, inflate, ShareError } from '../../www/share.js';

const crashes = (s) => s.crashList.map((c) => `${c.layer}: ${c.reason}`).join('\n');

test('3,000 fixed-seed inputs: no crash; every layer has inputs accepted and refused', async () => {
  const stats = await fuzzShare({ iterations: 3000, seed: 1 });
  assert.equal(stats.execs, 3000);
  assert.equal(stats.crashes, 0, crashes(stats));
  for (const [name, L] of Object.entries(stats.layers)) {
    assert.equal(L.execs, 1000, name);
    assert.ok(L.accepted > 0, `${name}: no input was accepted`);
    assert.ok(L.refused > 0, `${name}: no input was refused`);
  }
  // Each check of decodeShare refused something: the inputs get past the ones before it.
  const checks = [
    'it is not a share link', 'it is N KB long', 'it contains characters that cannot be', 'it is not complete', 'it is damaged or incomplete',
    'it unpacks to more than N', 'it does not unpack to text', 'it does not unpack to valid', 'its content is not a page',
    'its content is nested more than', 'it has no version number', 'it has version N', 'it has no scenario with events',
  ];
  for (const key of checks) {
    assert.ok(stats.refusals[key] > 0, `no refusal "${key}…" in ${JSON.stringify(stats.refusals)}`);
  }
  const e = stats.engine;
  assert.ok(e.valid > 0 && e.invalid > 0 && e.runs > 0, `the engine saw valid and invalid scenarios: ${JSON.stringify(e)}`);
  assert.ok(e.tours > 0 && e.tourRefused > 0, `the engine saw tours (scenario version 2) accepted and refused: ${JSON.stringify(e)}`);
});

test('the same seed gives the same run', async () => {
  const a = await fuzzShare({ iterations: 150, seed: 42, crashDir: null });
  const b = await fuzzShare({ iterations: 150, seed: 42, crashDir: null });
  assert.deepEqual(a.refusals, b.refusals);
  assert.deepEqual(Object.values(a.layers).map((l) => [l.accepted, l.refused]), Object.values(b.layers).map((l) => [l.accepted, l.refused]));
  assert.notEqual(new Rng(1).next(), new Rng(2).next());
});

const good = { scenario: { events: [] }, rules: 'post-cr', compare: false, preset: '', t: 0, cursor: null, scroll: null, hideFuture: false, sel: null };

test('the checker flags wrong types, foreign errors, empty or huge messages and slow answers', () => {
  assert.equal(checkOutcome({ value: good, ms: 1 }), null);
  assert.equal(checkOutcome({ value: { ...good, t: 5.5, cursor: 3, scroll: 0, sel: { side: 'alt', step: 2, chat: -1 } }, ms: 1 }), null);
  assert.equal(checkOutcome({ error: new ShareError('it is damaged'), ms: 1 }), null);
  const wrong = [
    { t: '5' }, { t: NaN }, { t: -1 }, { t: Infinity }, { rules: 'POST-CR' }, { compare: 1 }, { hideFuture: 'true' }, { preset: null },
    { cursor: 1.5 }, { cursor: -1 }, { cursor: '3' }, { scroll: Infinity }, { scroll: -2 }, { sel: [] }, { sel: { side: 'left', step: 0, chat: null } },
    { sel: { side: 'main', step: 1.5, chat: null } }, { sel: { side: 'main', step: 0, chat: '1' } }, { scenario: [] }, { scenario: null }, { scenario: { events: {} } },
  ];
  for (const w of wrong) assert.ok(checkOutcome({ value: { ...good, ...w }, ms: 1 }), `not caught: ${JSON.stringify(w)}`);
  assert.ok(checkOutcome({ value: null, ms: 1 }));
  assert.match(checkOutcome({ error: new TypeError('x is undefined'), ms: 1 }), /TypeError/);
  assert.match(checkOutcome({ error: 'a string', ms: 1 }), /string/);
  assert.match(checkOutcome({ error: new ShareError(' '), ms: 1 }), /empty/);
  assert.match(checkOutcome({ error: new ShareError('x'.repeat(5000)), ms: 1 }), /5000 characters/);
  assert.match(checkOutcome({ value: good, ms: 5000 }), /took 5000 ms/);
});

test('the fuzzer catches a broken decoder', async () => {
  const run = (decode) => fuzzShare({ iterations: 30, seed: 3, decode, crashDir: null });
  // A wrong type out.
  let s = await run(async (h) => ({ ...(await decodeShare(h)), t: '0' }));
  assert.ok(s.crashList.some((c) => c.reason === 't is "0"'), crashes(s));
  // Another error than a ShareError.
  s = await run(async (h) => {
    try {
      return await decodeShare(h);
    } catch {
      throw new TypeError('cannot read x of undefined');
    }
  });
  assert.ok(s.crashList.some((c) => /^rejected with TypeError/.test(c.reason)), crashes(s));
  // A scenario the page cannot serialize (the bug the depth check fixed): caught after decoding.
  const deep = JSON.parse(`${'['.repeat(100000)}${']'.repeat(100000)}`);
  s = await run(async () => ({ ...good, scenario: { events: [], deep } }));
  assert.equal(s.crashes, 30);
  assert.match(s.crashList[0].reason, /JSON\.stringify\(scenario\) threw RangeError/);
  // Prototype pollution: reported, and undone so that later inputs are judged on their own.
  s = await run(async (h) => {
    Object.prototype.polluted = 'yes';
    return decodeShare(h);
  });
  assert.equal(s.crashes, 30);
  assert.match(s.crashList[0].reason, /prototype pollution: .*polluted/);
  assert.equal(pollution(), null);
  assert.equal({}.polluted, undefined);
});

test('an engine panic is told from an engine error, and a fresh instance works after it', async () => {
  const a = await loadEngine();
  assert.match(engineCall(() => a.check('{')).value, /./, 'check returns its message');
  assert.ok(engineCall(() => a.run('{', 'post-cr')).error, 'run throws its error');
  const p = engineCall(() => a.debug_panic());
  assert.match(p.panic, /debug_panic/);
  const b = await loadEngine();
  assert.notEqual(a, b);
  assert.equal(globalThis.__cpmPanic, undefined);
  assert.equal(engineCall(() => b.check(b.presets()[0].json)).value, undefined);
});

test('stored deflate blocks carry any bytes', async () => {
  for (const n of [0, 1, 65535, 65536, 200000]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
    assert.deepEqual(await inflate(storedDeflate(bytes)), bytes, `${n} bytes`);
  }
});

// Issue 13, item 14: `--iterations 200000` died after ~4 minutes with "RangeError: Invalid string
// length" in the fuzzer's own JSON mutator, when "many events" copied an event holding a 2.5 MB
// text 3,000 times. A state too big to write is written as a text the decoder must refuse.
test('the JSON mutator never throws on a state too big for one string', () => {
  const text = 'x'.repeat(2_500_000);
  const state = { v: 1, rules: 'post-cr', scenario: { events: Array.from({ length: 300 }, (_, i) => ({ at_ms: i, kind: 'message', from: 'alice', text })) } };
  const out = stringify(state);
  assert.equal(typeof out, 'string');
  assert.ok(out.length > MAX_UNPACKED, 'still too big for the decoder (its size check is exercised)');
  assert.ok(out.length < 64 * MAX_UNPACKED, `bounded: ${out.length}`);
  // Small states are written as before.
  assert.equal(stringify({ a: [1, 'b'] }), '{"a":[1,"b"]}');
});
