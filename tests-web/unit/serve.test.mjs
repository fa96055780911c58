// scripts/serve.mjs under hostile request paths (issue 13, item 7): a bad %-escape or a NUL in
// the path is answered 400 and the server keeps serving; nothing outside the allowed folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../scripts/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A raw GET (no client-side normalisation of the path); resolves to the status code. */
function get(port, rawPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    // A server that died on the request never answers: fail, do not hang.
    req.setTimeout(2000, () => req.destroy(new Error(`no answer to ${rawPath}`)));
    req.end();
  });
}

test('bad %-escapes and NULs get 400 and the server keeps serving', async (t) => {
  const server = createServer(ROOT);
  const crashed = [];
  const onErr = (e) => crashed.push(e);
  process.on('uncaughtException', onErr);
  t.after(() => {
    process.off('uncaughtException', onErr);
    server.close();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  for (const bad of ['/www/%E0', '/www/%', '/www/%zz', '/%C0%AF', '/www/%ED%A0%80', '/www/a%00b.js']) {
    assert.equal(await get(port, bad), 400, bad);
  }
  assert.equal(await get(port, '/www/index.html'), 200, 'still serving');
  assert.equal(await get(port, '/www/%2e%2e/Cargo.toml'), 404, 'no escape from the allowed folders');
  assert.equal(await get(port, '/.git/HEAD'), 404);
  assert.deepEqual(crashed, []);
});
