// Q14's chunked SENDs live only in the second wasm module (Cargo feature `chunks`): the first
// module (pkg/, the page's start) refuses msrp_chunk_bytes with scenario::NO_CHUNKS, and
// www/engine.js checks and runs such a scenario on the second one (pkg/export/), or answers
// NO_CHUNK_MODULE while that is not loaded, as it does for a tour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, hasChunks, NO_CHUNK_MODULE, unpackTrace } from '../../www/engine.js';
import { loadModule } from './modules.mjs';

const first = await loadModule('pkg');
const second = await loadModule('pkg/export');

const scenario = {
  format: 'cpm-deferral-scenario',
  version: 1,
  title: 'Chunked',
  setup: 'established',
  msrp_chunk_bytes: 100,
  events: [{ at_ms: 1000, kind: 'message', from: 'alice', text: 'Are we still on for 3pm? '.repeat(12) }],
};
const json = JSON.stringify(scenario);

test('hasChunks looks for the key in objects and texts', () => {
  assert.equal(hasChunks(scenario), true);
  assert.equal(hasChunks(json), true);
  assert.equal(hasChunks({ ...scenario, msrp_chunk_bytes: undefined }), false);
  assert.equal(hasChunks('{"events": []}'), false);
});

test('the first module refuses msrp_chunk_bytes; the second runs it in chunks', () => {
  const r = first.check(json);
  assert.match(String(r && r.error ? r.error : r), /msrp_chunk_bytes: this build of the engine sends no chunks/);
  assert.equal(second.check(json) ?? null, null);
  const t = unpackTrace(second.run(json, 'post-cr'));
  const chunks = [...t.steps].filter((s) => s.from === 'carol-pf' && s.to === 'carol' && s.label === 'SEND');
  assert.ok(chunks.length >= 3, `chunks: ${chunks.length}`);
  assert.ok([...chunks[0].clauses].includes('RFC 4975 §5.1'));
});

test('Engine: without the second module check names it; with it the scenario is checked and run there', () => {
  const e = new Engine(first);
  assert.equal(e.check(scenario), NO_CHUNK_MODULE);
  assert.equal(e.checkText(json), NO_CHUNK_MODULE);
  e.fast = second;
  e.fastLoading = Promise.resolve(second);
  assert.equal(e.check(scenario), null);
  assert.equal(e.checkText(json), null);
  assert.equal(e.pick(scenario), second);
  const t = e.run(scenario, 'post-cr');
  assert.ok(!t.error, t.error);
  assert.ok([...t.steps].some((s) => [...s.clauses].includes('RFC 4975 §5.1')));
});
