#!/usr/bin/env node
// A small static server for the explorer, loopback only. Serves the repository root, so the page
// is at /www/ and the wasm glue at /pkg/; `/` redirects to /www/. `.wasm` is application/wasm.
// The page's scripts and stylesheets are sent minified, with source maps (scripts/ship.mjs);
// MINIFY=0 sends every file as it is in the repository.
// Usage: node scripts/serve.mjs [--port N] [--root DIR]   (port 0 = any free port)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isShipped, shipped } from './ship.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const root = path.resolve(opt('--root', path.join(path.dirname(fileURLToPath(import.meta.url)), '..')));
const port = Number(opt('--port', process.env.PORT || 8080));
const host = '127.0.0.1';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ts': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
// Only these top-level folders are served (no .git, no target/).
const ALLOWED = new Set(['www', 'pkg', 'scenarios', 'docs', 'tests-web', 'node_modules']);

/** The headers of a 200 answer with `length` bytes of `file`. */
function ok(file, length, extra = {}) {
  return {
    'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
    'Content-Length': length,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  };
}

export function createServer(rootDir = root, { minify = process.env.MINIFY !== '0' } = {}) {
  return http.createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url, 'http://localhost');
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    let p;
    try {
      // A bad %-escape (/www/%E0) is the client's error: 400, and the server carries on.
      p = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request: malformed %-escape in the path');
      return;
    }
    if (p.includes('\0')) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request: NUL in the path');
      return;
    }
    if (p === '/' || p === '/index.html') {
      res.writeHead(302, { Location: '/www/' }).end();
      return;
    }
    if (p.endsWith('/')) p += 'index.html';
    const file = path.normalize(path.join(rootDir, p));
    const top = path.relative(rootDir, file).split(path.sep)[0];
    if (!file.startsWith(rootDir + path.sep) || !ALLOWED.has(top)) {
      res.writeHead(404).end('not found');
      return;
    }
    const rel = path.relative(rootDir, file);
    // A source map of a minified file: made with it (scripts/ship.mjs).
    const mapOf = minify && rel.endsWith('.map') && isShipped(rel.slice(0, -4)) ? file.slice(0, -4) : null;
    if (minify && (isShipped(rel) || mapOf)) {
      let body;
      let map;
      try {
        const out = shipped(mapOf || file, mapOf ? rel.slice(0, -4) : rel);
        body = mapOf ? out.map : out.code;
        map = mapOf ? null : out.mapName;
      } catch (e) {
        const missing = e && e.code === 'ENOENT';
        res.writeHead(missing ? 404 : 500, { 'Content-Type': 'text/plain' }).end(missing ? 'not found' : `cannot minify ${rel}: ${e && e.message}`);
        return;
      }
      res.writeHead(200, ok(file, body.length, map ? { SourceMap: map } : {}));
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, ok(file, st.size));
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = createServer();
  server.listen(port, host, () => {
    const { port: p } = server.address();
    console.log(`CPM Deferral Explorer: http://${host}:${p}/www/`);
  });
}
