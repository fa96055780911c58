// Slides out (issue 15): the key steps of the story as a deck, one self-contained HTML file with
// one SVG per key stop (www/story.js keyStops). Each slide is the engine's own SVG export of the
// ladder (src/export/svg.rs), shown through a window: the lane header on top, then the rows up
// to the key step, which is outlined; under it the key titles, the PF's state and the store.
// The ladder is in the file once (a <g> every slide <use>s), so a 15-slide deck is not 15
// ladders. No script: slides snap one viewport each, so PageDown / PageUp / space (a clicker)
// move slide to slide in any browser, offline. Loaded on use (File → Slides).
import { keyStops, keysAt, stateName } from './story.js';
import { fmtMs } from './viewmodel.js';

// src/export/svg.rs: HEAD (title and lane boxes) and ROW (one step), in px.
export const HEAD = 96;
export const ROW = 26;
/** Rows a slide shows: the key step and the ones before it. */
export const WINDOW = 18;

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The deck's HTML for `trace` and the engine's SVG of it (same scenario, same rules). */
export function deckHtml(trace, svgText, title) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length) throw new Error('the SVG export does not parse');
  const W = Number(svg.getAttribute('width'));
  const inner = [...svg.childNodes].map((n) => new XMLSerializer().serializeToString(n)).join('');
  const font = `font-family="${esc(svg.getAttribute('font-family') || 'sans-serif')}" font-size="${esc(svg.getAttribute('font-size') || '12')}"`;
  const stops = keyStops(trace);
  const H = HEAD + WINDOW * ROW;
  const slides = stops.map((c, n) => {
    const k = c - 1;
    const s = trace.steps[k];
    const first = Math.max(0, k - WINDOW + 1);
    const keys = keysAt(trace, c).map((x) => x.key);
    const head = keys.length ? keys.join(' · ') : 'The end of the story';
    return `<section id="slide-${n + 1}" aria-label="Slide ${n + 1} of ${stops.length}">
<h2>${esc(head)}</h2>
<svg class="slide" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`Ladder up to step ${c}: ${head}`)}">
<rect width="${W}" height="${H}" fill="#fff"/>
<svg width="${W}" height="${HEAD}" viewBox="0 0 ${W} ${HEAD}"><use href="#ladder"/></svg>
<svg y="${HEAD}" width="${W}" height="${WINDOW * ROW}" viewBox="0 ${HEAD + first * ROW} ${W} ${WINDOW * ROW}"><use href="#ladder"/></svg>
<rect class="key" x="1" y="${HEAD + (k - first) * ROW}" width="${W - 2}" height="${ROW}" fill="none" stroke="#d29922" stroke-width="3" rx="4" data-step="${k}"/>
</svg>
<p class="status">${esc(`${fmtMs(s.at_ms)} · PF: ${stateName(s.pf_state)} · store: ${s.queue_len} · step ${c} of ${trace.steps.length} · slide ${n + 1} of ${stops.length}`)}</p>
</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(`${title} (${trace.rules}): key steps`)}</title>
<style>
html { scroll-snap-type: y mandatory; background: #fff; color: #1f2328; font-family: system-ui, sans-serif; }
body { margin: 0; }
section { box-sizing: border-box; height: 100vh; scroll-snap-align: start; display: flex; flex-direction: column; padding: 1.5vh 2vw; gap: 1vh; }
h1, h2 { margin: 0; font-size: clamp(16px, 3.2vh, 34px); }
h1 { font-size: clamp(20px, 5vh, 48px); }
svg.slide { flex: 1; min-height: 0; width: 100%; }
.status { margin: 0; color: #57606a; font-size: clamp(12px, 2.2vh, 24px); }
.defs { position: absolute; width: 0; height: 0; overflow: hidden; }
</style>
</head>
<body>
<svg class="defs" xmlns="http://www.w3.org/2000/svg" width="0" height="0" aria-hidden="true"><defs><g id="ladder" ${font}>${inner}</g></defs></svg>
<section id="slide-0" aria-label="Title"><h1>${esc(title)}</h1><p class="status">${esc(`Rules: ${trace.rules}. ${stops.length} key steps, one slide each: PageDown / space for the next, PageUp to go back.`)}</p></section>
${slides.join('\n')}
</body>
</html>
`;
}

/**
 * One slide as a standalone SVG document (for pictures: the ladder inlined, no <use> across
 * documents), with the key titles and the status line drawn as SVG text under it.
 */
export function slideSvg(trace, svgText, c, n, count) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  const W = Number(svg.getAttribute('width'));
  const inner = [...svg.childNodes].map((x) => new XMLSerializer().serializeToString(x)).join('');
  const font = `font-family="${esc(svg.getAttribute('font-family') || 'sans-serif')}" font-size="${esc(svg.getAttribute('font-size') || '12')}"`;
  const k = c - 1;
  const s = trace.steps[k];
  const first = Math.max(0, k - WINDOW + 1);
  const keys = keysAt(trace, c).map((x) => x.key);
  const head = keys.length ? keys.join(' · ') : 'The end of the story';
  const CAP = 110;
  const H = CAP + HEAD + WINDOW * ROW;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="24" y="48" font-family="system-ui, sans-serif" font-size="34" font-weight="600" fill="#1f2328">${esc(head.length > 110 ? `${head.slice(0, 109)}…` : head)}</text>
<text x="24" y="92" font-family="system-ui, sans-serif" font-size="24" fill="#57606a">${esc(`${fmtMs(s.at_ms)} · PF: ${stateName(s.pf_state)} · store: ${s.queue_len} · ${n + 1} / ${count}`)}</text>
<svg y="${CAP}" width="${W}" height="${HEAD}" viewBox="0 0 ${W} ${HEAD}"><g ${font}>${inner}</g></svg>
<svg y="${CAP + HEAD}" width="${W}" height="${WINDOW * ROW}" viewBox="0 ${HEAD + first * ROW} ${W} ${WINDOW * ROW}"><g ${font}>${inner}</g></svg>
<rect x="1" y="${CAP + HEAD + (k - first) * ROW}" width="${W - 2}" height="${ROW}" fill="none" stroke="#d29922" stroke-width="3" rx="4"/>
</svg>`;
}

/** An SVG text drawn into RGBA pixels `width` wide (through an <img> and a canvas). */
async function pixels(svgText, width) {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`;
  await img.decode();
  const height = Math.round((img.naturalHeight * width) / img.naturalWidth);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  g.drawImage(img, 0, 0, width, height);
  return { rgba: g.getImageData(0, 0, width, height).data, height };
}

/**
 * The story as an animated GIF (gif.js): the title, then one frame per key stop, `msPerSlide`
 * each, looping. A GIF is what PowerPoint and Google Slides take as a moving picture.
 */
export async function storyGif(trace, svgText, title, { width = 1280, msPerSlide = 2500, onFrame } = {}) {
  const { encodeGif } = await import('./gif.js');
  const stops = keyStops(trace);
  const frames = [];
  let height = 0;
  for (let n = 0; n < stops.length; n++) {
    onFrame?.(n, stops.length);
    const p = await pixels(slideSvg(trace, svgText, stops[n], n, stops.length), width);
    height = p.height;
    frames.push({ rgba: p.rgba, delayMs: n === stops.length - 1 ? msPerSlide * 2 : msPerSlide });
  }
  void title;
  return { bytes: encodeGif(width, height, frames), frames: frames.length, width, height };
}
