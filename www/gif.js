// A small animated GIF encoder (GIF89a, https://www.w3.org/Graphics/GIF/spec-gif89a.txt) for the
// story's animation (slides.js): slide tools that cannot show a page (PowerPoint, Google Slides)
// take an animated GIF as a picture. One global palette for every frame: a 6×7×6 colour cube
// plus grays (the ladder's few colours map closely), each pixel to its nearest cube entry, no
// dithering (clean lines and text). LZW with variable code size and a clear code when the table
// is full (spec appendix F). Pure: RGBA frames in, bytes out. Loaded on use.

/** The 256-colour palette: 252 cube entries (6 red × 7 green × 6 blue) and 4 grays. */
export function palette() {
  const p = new Uint8Array(256 * 3);
  let i = 0;
  for (let r = 0; r < 6; r++) for (let g = 0; g < 7; g++) for (let b = 0; b < 6; b++) {
    p[i++] = Math.round((r * 255) / 5);
    p[i++] = Math.round((g * 255) / 6);
    p[i++] = Math.round((b * 255) / 5);
  }
  for (const v of [64, 128, 192, 238]) p.set([v, v, v], i), (i += 3);
  return p;
}

/** Palette index of every pixel of an RGBA image (alpha composited on white). */
export function indexPixels(rgba) {
  const n = rgba.length >> 2;
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const a = rgba[j + 3] / 255;
    const r = rgba[j] * a + 255 * (1 - a);
    const g = rgba[j + 1] * a + 255 * (1 - a);
    const b = rgba[j + 2] * a + 255 * (1 - a);
    // Near-gray pixels (text anti-aliasing) to the gray ramp when it is closer than the cube.
    const ri = Math.round((r * 5) / 255);
    const gi = Math.round((g * 6) / 255);
    const bi = Math.round((b * 5) / 255);
    let idx = ri * 42 + gi * 6 + bi;
    if (Math.abs(r - g) < 12 && Math.abs(g - b) < 12) {
      const cr = (ri * 255) / 5;
      const cg = (gi * 255) / 6;
      const cb = (bi * 255) / 5;
      const dCube = (r - cr) ** 2 + (g - cg) ** 2 + (b - cb) ** 2;
      const m = (r + g + b) / 3;
      let best = -1;
      let bd = dCube;
      [64, 128, 192, 238].forEach((v, k) => {
        const d = 3 * (m - v) ** 2;
        if (d < bd) {
          bd = d;
          best = k;
        }
      });
      if (best >= 0) idx = 252 + best;
    }
    out[i] = idx;
  }
  return out;
}

/** LZW-compress palette indices (minimum code size 8) into GIF data sub-blocks. */
export function lzw(indices) {
  const MIN = 8;
  const CLEAR = 1 << MIN;
  const EOI = CLEAR + 1;
  const bytes = [];
  let cur = 0;
  let nbits = 0;
  let size = MIN + 1;
  const emit = (code) => {
    cur |= code << nbits;
    nbits += size;
    while (nbits >= 8) {
      bytes.push(cur & 0xff);
      cur >>>= 8;
      nbits -= 8;
    }
  };
  let dict = new Map();
  let next = EOI + 1;
  emit(CLEAR);
  let prefix = indices.length ? indices[0] : 0;
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i];
    const key = prefix * 256 + k;
    const hit = dict.get(key);
    if (hit !== undefined) {
      prefix = hit;
      continue;
    }
    emit(prefix);
    if (next < 4096) {
      dict.set(key, next++);
      if (next > 1 << size && size < 12) size++;
    } else {
      emit(CLEAR);
      dict = new Map();
      next = EOI + 1;
      size = MIN + 1;
    }
    prefix = k;
  }
  if (indices.length) emit(prefix);
  emit(EOI);
  if (nbits > 0) bytes.push(cur & 0xff);
  // Sub-blocks of at most 255 bytes, then the block terminator.
  const out = [];
  for (let i = 0; i < bytes.length; i += 255) {
    const part = bytes.slice(i, i + 255);
    out.push(part.length, ...part);
  }
  out.push(0);
  return out;
}

/**
 * An animated GIF of `frames` ({ rgba: Uint8ClampedArray, delayMs }) of one size, looping
 * forever. Returns a Uint8Array.
 */
export function encodeGif(width, height, frames) {
  const out = [];
  const u16 = (v) => out.push(v & 0xff, (v >> 8) & 0xff);
  out.push(...new TextEncoder().encode('GIF89a'));
  u16(width);
  u16(height);
  out.push(0xf7, 0, 0); // global colour table, 8 bits, 256 entries
  out.push(...palette());
  out.push(0x21, 0xff, 11, ...new TextEncoder().encode('NETSCAPE2.0'), 3, 1, 0, 0, 0); // loop forever
  for (const f of frames) {
    out.push(0x21, 0xf9, 4, 0x04); // graphic control: dispose "do not", no transparency
    u16(Math.max(2, Math.round(f.delayMs / 10)));
    out.push(0, 0);
    out.push(0x2c);
    u16(0);
    u16(0);
    u16(width);
    u16(height);
    out.push(0); // no local colour table, not interlaced
    out.push(8);
    const data = lzw(indexPixels(f.rgba));
    for (let i = 0; i < data.length; i++) out.push(data[i]);
  }
  out.push(0x3b);
  return new Uint8Array(out);
}

/** The frames of a GIF (for tests): [{ delayMs, width, height }]. Throws when malformed. */
export function gifFrames(b) {
  const td = new TextDecoder();
  if (td.decode(b.subarray(0, 6)) !== 'GIF89a') throw new Error('not a GIF89a');
  let i = 13;
  if (b[10] & 0x80) i += 3 * (1 << ((b[10] & 7) + 1));
  const frames = [];
  let delay = 0;
  const skipBlocks = () => {
    while (b[i] !== 0) {
      if (i >= b.length) throw new Error('truncated');
      i += b[i] + 1;
    }
    i++;
  };
  for (;;) {
    const t = b[i++];
    if (t === 0x3b) return frames;
    if (t === 0x21) {
      const label = b[i++];
      if (label === 0xf9) delay = (b[i + 2] | (b[i + 3] << 8)) * 10;
      skipBlocks();
    } else if (t === 0x2c) {
      const w = b[i + 4] | (b[i + 5] << 8);
      const h = b[i + 6] | (b[i + 7] << 8);
      const flags = b[i + 8];
      i += 9;
      if (flags & 0x80) i += 3 * (1 << ((flags & 7) + 1));
      i++; // LZW minimum code size
      skipBlocks();
      frames.push({ delayMs: delay, width: w, height: h });
    } else throw new Error(`unexpected block 0x${(t ?? 0).toString(16)} at ${i - 1}`);
  }
}
