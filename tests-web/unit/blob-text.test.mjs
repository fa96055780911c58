// A big saved timeline's text goes to IndexedDB as a Blob made in slices (www/blob-text.js): the
// Blob holds exactly the text, whatever falls on a slice's edge (a surrogate pair cut in two
// would become two U+FFFD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blobOf } from '../../www/blob-text.js';

test('the Blob holds the text exactly, with surrogate pairs across every slice edge', async () => {
  const edge = 262144;
  for (const shift of [0, 1, 2, 3]) {
    // A pair (U+1F600) starts one character before each edge (then at, after…), text is 3 slices long.
    let text = 'a'.repeat(edge - 1 - shift);
    while (text.length < 3 * edge + 10) text += '\u{1F600}' + 'é'.repeat(edge - 3) + 'x';
    const blob = await blobOf(text);
    assert.equal(await blob.text(), text, `shift ${shift}`);
    assert.equal(blob.type, 'application/json');
  }
  assert.equal(await (await blobOf('')).text(), '');
  assert.equal(await (await blobOf('{"a":1}')).text(), '{"a":1}');
});
