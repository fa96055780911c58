// Issue 10: the page's first wasm module (pkg/, built without the Cargo feature `note-text`)
// carries no step notes, of any actor: the page gets them from the second module (pkg/export/)
// on first use. A note whose literal is stored in a machine's output, or formatted before it is
// dropped, stays in the module although the trace never shows it (about 1.8 KB gzip on the
// 2026-12-02 trial tree). One note per kind of path a note takes, each checked in both modules.
// Also: the module the page loads is valid, with wasm-bindgen's externref table exported as a
// table of JS values (wasm-opt 108 points that export at the funcref table:
// scripts/wasm-table-exports.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

const root = new URL('../../', import.meta.url);
const first = fs.readFileSync(new URL('pkg/cpm_deferral_bg.wasm', root));
const second = fs.readFileSync(new URL('pkg/export/cpm_deferral_bg.wasm', root));

const NOTES = {
  'the CF (CfOutput, &str)': 'The focus accepts the subscription.',
  'the IMS core (CoreOutput, &str)': 'The IMS core passes the response on to Carol',
  'the PF, through enter_deferred': 'the BYE carries Reason protocol SIP with a cause other than 200, so Carol did not leave',
  'the PF, through loss_detected': 'The PF sees the TCP reset at once and counts the MSRP connection as lost.',
  'the PF, formatted': 'Before the CR only a client BYE with an involuntary Reason kept the PF in the group',
  "Carol's client, formatted": "Carol's client is alerting; it will accept the invitation after ",
  'the world, formatted': ' (by her client or the P-CSCF).',
};

test('no step note of any actor is in the first module; each is in the second', () => {
  for (const [where, text] of Object.entries(NOTES)) {
    assert.ok(second.includes(Buffer.from(text)), `${where}: the second module has the note`);
    assert.ok(!first.includes(Buffer.from(text)), `${where}: the first module carries ${JSON.stringify(text)}`);
  }
});

test('the first module validates and instantiates with its glue; its externref table holds JS values', async () => {
  assert.ok(WebAssembly.validate(first), 'valid');
  const mod = await import(new URL('pkg/cpm_deferral.js', root).href);
  const exports = mod.initSync({ module: first });
  assert.ok(exports.__wbindgen_externrefs instanceof WebAssembly.Table);
  exports.__wbindgen_externrefs.set(0, { a: 1 }); // throws on a funcref table
  assert.equal(typeof mod.presets, 'function');
});
