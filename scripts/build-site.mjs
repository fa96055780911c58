#!/usr/bin/env node
// The explorer as a static site for any web host: dist/site/www/ and dist/site/pkg/, with the
// page's scripts and stylesheets minified and their source maps next to them, exactly as
// scripts/serve.mjs sends them (scripts/ship.mjs), and every other file copied as it is. The
// server names each map in a `SourceMap` header; a host that can set headers may do the same.
// Upload dist/site/ and open /www/. Needs pkg/ built (scripts/build-wasm.sh; `make site` does).
// Usage: node scripts/build-site.mjs [--out DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isShipped, shipped } from './ship.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--out');
const out = path.resolve(at >= 0 ? args[at + 1] : path.join(ROOT, 'dist/site'));

/** Write the site into `dir`; returns the number of files written. */
export function buildSite(dir = out) {
  if (!fs.existsSync(path.join(ROOT, 'pkg/cpm_deferral_bg.wasm'))) {
    throw new Error('pkg/ is not built: run `bash scripts/build-wasm.sh` first');
  }
  fs.rmSync(dir, { recursive: true, force: true });
  let n = 0;
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        walk(r);
        continue;
      }
      if (r.endsWith('.d.ts')) continue; // TypeScript declarations: not for the browser
      const dest = path.join(dir, r);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if (isShipped(r)) {
        const s = shipped(path.join(ROOT, r), r);
        fs.writeFileSync(dest, s.code);
        fs.writeFileSync(`${dest}.map`, s.map);
        n += 2;
      } else {
        fs.copyFileSync(path.join(ROOT, r), dest);
        n += 1;
      }
    }
  };
  walk('www');
  walk('pkg');
  return n;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const n = buildSite();
  console.log(`build-site: ${n} files in ${path.relative(process.cwd(), out) || '.'} (open /www/ on your host)`);
}
