// A big saved timeline's text as a Blob, made in slices (storage.js writes it to IndexedDB: a
// 2 MB string given to IndexedDB as it is is copied and compressed on the page's thread, and a
// Blob made of it at once is one task of 10 ms, 40 at 4x CPU throttling). Loaded on use.

/** A text as a Blob, made 256 K characters a task; a piece never ends inside a surrogate pair. */
export async function blobOf(text) {
  const parts = [];
  for (let i = 0; i < text.length;) {
    let j = Math.min(text.length, i + 262144);
    const c = text.charCodeAt(j - 1);
    if (j < text.length && c >= 0xd800 && c <= 0xdbff) j--;
    parts.push(new Blob([text.slice(i, j)]));
    i = j;
    if (i < text.length) await new Promise((r) => setTimeout(r, 0));
  }
  return new Blob(parts, { type: 'application/json' });
}
