// Q14 (issue 11): a scenario file with msrp_chunk_bytes opens in the page. The first wasm module
// is built without chunking (Cargo feature `chunks`) and refuses the field, so the page checks
// and runs the file with its second module (pkg/export/, www/engine.js hasChunks), loaded on use;
// the ladder then has the chunks: SENDs to Carol with Byte-Range n-m/total, notes naming them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, pick } from '../harness.mjs';

const env = useBrowser();

const scenario = {
  format: 'cpm-deferral-scenario',
  version: 1,
  title: 'Chunked',
  description: 'one long message in chunks of 100 bytes',
  setup: 'established',
  msrp_chunk_bytes: 100,
  events: [{ at_ms: 1000, kind: 'message', from: 'alice', text: 'Are we still on for 3pm? '.repeat(12) }],
};

test('a file with msrp_chunk_bytes is run by the second module and shows its chunks', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const loaded = () => page.evaluate(() => performance.getEntriesByType('resource').some((r) => r.name.includes('/pkg/export/')));
  assert.equal(await loaded(), false, 'the second module is not loaded at start');
  await pick(page, { name: 'chunked.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(scenario)) });
  await page.waitForFunction(() => window.__explorer.state.scenario.title === 'Chunked', null, { timeout: 30000 });
  assert.equal(await page.locator('#banner').isHidden(), true, 'no refusal');
  assert.equal(await loaded(), true, 'the second module checked and ran it');
  const sends = await page.evaluate(() =>
    [...window.__explorer.state.trace.steps]
      .filter((s) => s.from === 'carol-pf' && s.to === 'carol' && s.label === 'SEND')
      .map((s) => ({ clauses: [...s.clauses], note: s.note })),
  );
  assert.ok(sends.length >= 3, `several chunks to Carol: ${JSON.stringify(sends)}`);
  assert.ok(sends[0].clauses.includes('RFC 4975 §5.1'), JSON.stringify(sends[0]));
  // The inspector's wire text of the first chunk: its Byte-Range is 1-100 of the whole.
  const first = await page.evaluate(() => [...window.__explorer.state.trace.steps].findIndex((s) => s.from === 'carol-pf' && s.to === 'carol' && s.label === 'SEND'));
  const raw = await page.evaluate((i) => window.__explorer.state.engine.rawOf(window.__explorer.state.scenario, 'post-cr', i), first);
  assert.match(String(raw), /Byte-Range: 1-100\/\d+\r\n/);
  assert.deepEqual(errors, []);
});
