// node scripts/wasm-table-exports.mjs BEFORE.wasm AFTER.wasm
// Puts back the table exports that binaryen's wasm-opt 108 (Debian 12) gets wrong: it reads and
// writes a module with two tables (wasm-bindgen's funcref table 0 and its externref table 1,
// exported as `__wbindgen_externrefs`) with that export pointing at table 0, even with no pass
// at all, and the glue's `WebAssembly.Table.set` of a JS value then throws. For every table
// export of AFTER, the index becomes that of the table with the element type the export had in
// BEFORE; it fails (exit 1) when that type is not found exactly once in AFTER. AFTER is patched
// in place (an index below 128 is one byte, so the section keeps its size).
import fs from 'node:fs';

function sections(b) {
  let p = 8;
  const leb = () => {
    let r = 0, s = 0, x;
    do { x = b[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80);
    return r >>> 0;
  };
  const tables = []; // element type of each table, imports first
  const exports = []; // { name, kind, index, at } (at: the offset of the index byte)
  while (p < b.length) {
    const id = b[p++];
    const size = leb();
    const end = p + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        for (let k = 0; k < 2; k++) { const l = leb(); p += l; } // module and field names
        const kind = b[p++];
        if (kind === 0) leb();
        else if (kind === 1) { tables.push(b[p++]); const f = b[p++]; leb(); if (f & 1) leb(); }
        else if (kind === 2) { const f = b[p++]; leb(); if (f & 1) leb(); }
        else if (kind === 3) p += 2;
        else throw new Error(`import kind ${kind} not read by this script`);
      }
    } else if (id === 4) {
      for (let n = leb(); n > 0; n--) { tables.push(b[p++]); const f = b[p++]; leb(); if (f & 1) leb(); }
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const l = leb();
        const name = b.subarray(p, p + l).toString();
        p += l;
        const kind = b[p++];
        const at = p;
        exports.push({ name, kind, index: leb(), at });
      }
    }
    p = end;
  }
  return { tables, exports };
}

const [beforeFile, afterFile] = process.argv.slice(2);
const before = sections(fs.readFileSync(beforeFile));
const out = fs.readFileSync(afterFile);
const after = sections(out);
let fixed = 0;
for (const e of after.exports.filter((x) => x.kind === 1)) {
  const was = before.exports.find((x) => x.kind === 1 && x.name === e.name);
  if (!was) throw new Error(`${afterFile}: table export ${e.name} is not in ${beforeFile}`);
  const type = before.tables[was.index];
  const want = after.tables.flatMap((t, i) => (t === type ? [i] : []));
  if (want.length !== 1) {
    console.error(`wasm-table-exports: ${afterFile} has ${want.length} tables of type 0x${type.toString(16)} for export ${e.name}; cannot tell which`);
    process.exit(1);
  }
  if (e.index !== want[0]) {
    if (want[0] > 127 || e.index > 127) throw new Error('table index above 127');
    out[e.at] = want[0];
    fixed++;
  }
}
fs.writeFileSync(afterFile, out);
if (fixed) console.error(`wasm-table-exports: ${fixed} table export(s) of ${afterFile} put back on their own table (wasm-opt 108)`);
