// What the browser is sent for a source file of the page: the page's ES modules (www/*.js, the
// wasm-bindgen glue in pkg/) and its stylesheets, minified file by file with esbuild (no
// bundling: every module keeps its own file, its imports and its exports), with a source map
// next to it (`X.js.map`, named by a `SourceMap` response header and fetched only by developer
// tools). Everything else is sent as it is.
//
// Why: a quarter of the page's first load was comments and indentation (issue 12's 150 KB gzip
// budget; docs/bench.md's page weight measures what this sends). The repository's files stay the
// readable sources: any static server may serve them as they are (the page works the same, only
// heavier), scripts/serve.mjs serves the minified form (MINIFY=0 turns that off), and
// scripts/build-dist.mjs writes it out for a static host.
import fs from 'node:fs';
import path from 'node:path';
import { transformSync } from 'esbuild';

/** Files sent minified: the page's scripts and stylesheets, not tests, docs or dependencies. */
export function isShipped(rel) {
  const p = rel.split(path.sep).join('/');
  return /^(www|pkg)\/.+\.(js|mjs|css)$/.test(p) && !p.includes('/node_modules/');
}

const cache = new Map();

/**
 * The minified text of the file at `abs` (`rel` from the repository root) and its source map:
 * `{ code, map }`, cached until the file changes. Throws esbuild's message on a syntax error.
 */
export function shipped(abs, rel) {
  const st = fs.statSync(abs);
  const key = `${abs}\0${st.mtimeMs}\0${st.size}`;
  const hit = cache.get(abs);
  if (hit && hit.key === key) return hit.out;
  const css = abs.endsWith('.css');
  const name = path.basename(abs);
  const r = transformSync(fs.readFileSync(abs, 'utf8'), {
    loader: css ? 'css' : 'js',
    minify: true,
    // Keep "→", "§" and "…" as they are (the default escapes them, which makes every one longer).
    charset: 'utf8',
    legalComments: 'none',
    sourcemap: 'external',
    sourcefile: name,
  });
  // The map is named by the server's `SourceMap` header (scripts/serve.mjs), not by a comment:
  // a comment would be sent to every visitor, the header only costs developer tools a request.
  const out = { code: Buffer.from(r.code), map: Buffer.from(r.map), rel, mapName: `${name}.map` };
  cache.set(abs, { key, out });
  return out;
}

/** The bytes sent for `rel` (minified where {@link isShipped}), for the page-weight table. */
export function shippedBytes(root, rel) {
  const abs = path.join(root, rel);
  return isShipped(rel) ? shipped(abs, rel).code : fs.readFileSync(abs);
}
