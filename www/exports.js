// Export buttons: the ladder as SVG and PNG (full length, never cropped), the plain-text
// transcript, Mermaid, PlantUML and pcap. The engine makes every format (wasm export_text /
// export_pcap); this module only turns them into downloads, and the SVG into PNG through a
// canvas, in parts when the ladder is taller than the browser's canvas limit. Loaded on demand.
import { download, fileName } from './files.js';
import { ensureCss } from './lazy-css.js';
import { loadFullModule } from './engine.js';

export const FORMATS = {
  svg: { ext: 'svg', type: 'image/svg+xml', format: 'svg', what: 'SVG image' },
  transcript: { ext: 'txt', type: 'text/plain;charset=utf-8', format: 'transcript', what: 'transcript' },
  mermaid: { ext: 'mmd', type: 'text/plain;charset=utf-8', format: 'mermaid', what: 'Mermaid diagram' },
  plantuml: { ext: 'puml', type: 'text/plain;charset=utf-8', format: 'plantuml', what: 'PlantUML diagram' },
  pcap: { ext: 'pcap', type: 'application/vnd.tcpdump.pcap', what: 'packet capture' },
  png: { ext: 'png', type: 'image/png', what: 'PNG image' },
  deck: { ext: 'html', type: 'text/html;charset=utf-8', what: 'slide deck' },
  gif: { ext: 'gif', type: 'image/gif', what: 'animation' },
};

// Chromium's canvas limits: 32,767 px a side and 2^28 pixels in all (other engines: less).
export const CANVAS = { maxSide: 32767, maxArea: 268435456 };
/**
 * Most steps a PNG is made of (about 440,000 px at the ladder's row height, 14 parts): past it
 * the SVG text and the canvases outgrow what a tab can hold (a 20,000-message ladder froze the
 * page for 3 minutes and failed with "Invalid string length"), so the export says so at once.
 */
export const PNG_MAX_STEPS = 20000;

/**
 * The wasm module with the export functions: the page's own when it has them (the offline
 * file), else the second build with them (pkg/export/, shared with the engine's fast path),
 * loaded on first use.
 */
function loadExporter(engine) {
  if (typeof engine.mod.export_text === 'function') return engine.mod;
  return loadFullModule();
}

/** The engine's text (or bytes) of one format; throws with the engine's message. */
async function engineExport(api, kind) {
  const { state } = api;
  const mod = await loadExporter(state.engine);
  const json = JSON.stringify(state.scenario);
  // A panic in the export module is an error here too (its own hook reports it on the console).
  return kind === 'pcap' ? mod.export_pcap(json, state.rules) : mod.export_text(json, state.rules, FORMATS[kind].format);
}

/** Do one export; returns a message for the page (or '' when there is nothing to say). */
export async function exportAs(kind, api) {
  const f = FORMATS[kind];
  if (!f) return `Unknown export ${kind}.`;
  const { state } = api;
  const base = fileName(`${state.scenario.title || 'ladder'} ${state.rules}`, f.ext).replace(/\.[a-z]+$/, '');
  try {
    if (kind === 'png') return await exportPng(api, base);
    if (kind === 'deck') {
      // The key steps as slides (slides.js): the engine's SVG of the ladder, windowed per key step.
      const { deckHtml } = await import('./slides.js');
      download(deckHtml(state.trace, await engineExport(api, 'svg'), state.scenario.title || 'Ladder'), `${base}-slides.html`, f.type);
      return '';
    }
    if (kind === 'gif') {
      // The key steps as an animated GIF (slides.js, gif.js), for slide tools that show no page.
      const { storyGif } = await import('./slides.js');
      const { progress } = await import('./progress.js');
      const bar = progress('Making the animation…');
      try {
        const g = await storyGif(state.trace, await engineExport(api, 'svg'), state.scenario.title || 'Ladder', { onFrame: (i, n) => bar.update(`Making the animation: frame ${i + 1} of ${n}…`) });
        download(new Blob([g.bytes], { type: f.type }), `${base}-story.gif`, f.type);
      } finally {
        bar.done();
      }
      return '';
    }
    const data = await engineExport(api, kind);
    download(data, `${base}.${f.ext}`, f.type);
    return '';
  } catch (e) {
    return `The ${f.what} could not be made: ${e.message || e}`;
  }
}

/** Size and viewBox of an SVG document's root. */
export function svgBox(svg) {
  const num = (v) => (v == null || v === '' || /%$/.test(v) ? NaN : parseFloat(v));
  const vb = (svg.getAttribute('viewBox') || '').trim().split(/[\s,]+/).map(Number);
  const hasVb = vb.length === 4 && vb.every(Number.isFinite);
  const w = num(svg.getAttribute('width'));
  const h = num(svg.getAttribute('height'));
  const width = Number.isFinite(w) ? w : hasVb ? vb[2] : NaN;
  const height = Number.isFinite(h) ? h : hasVb ? vb[3] : NaN;
  if (!(width > 0 && height > 0)) throw new Error('the SVG has no size');
  return { width, height, vb: hasVb ? vb : [0, 0, width, height] };
}

/**
 * Plan the PNG: scale and horizontal bands so that no canvas passes the limits.
 * @returns {{ scale: number, W: number, parts: {y: number, h: number, H: number}[] }} y/h in SVG units, H in px
 */
export function planPng(width, height, { scale = 1, maxSide = CANVAS.maxSide, maxArea = CANVAS.maxArea, maxHeight = maxSide } = {}) {
  if (width * scale > maxSide) scale = maxSide / width;
  const W = Math.ceil(width * scale);
  const bandPx = Math.max(1, Math.floor(Math.min(maxSide, maxHeight, maxArea / W)));
  const band = bandPx / scale;
  const parts = [];
  for (let y = 0; y < height; y += band) {
    const h = Math.min(band, height - y);
    parts.push({ y, h, H: Math.max(1, Math.round(h * scale)) });
  }
  return { scale, W, parts };
}

async function rasterise(svgText, W, H) {
  const img = new Image();
  img.decoding = 'async';
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error(`this browser cannot make a ${W}×${H} px canvas`);
  ctx.drawImage(img, 0, 0, W, H);
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  canvas.width = 0; // free the memory now
  if (!blob) throw new Error(`this browser could not encode a ${W}×${H} px PNG`);
  return blob;
}

/** SVG text → PNG blobs, one per band of the plan. */
export async function svgToPngs(svgText, limits = {}) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length) throw new Error('the SVG export does not parse');
  const { width, height, vb } = svgBox(svg);
  const plan = planPng(width, height, limits);
  const uy = vb[3] / height;
  const blobs = [];
  for (const p of plan.parts) {
    if (limits.cancelled?.()) return null;
    limits.onPart?.(blobs.length, plan.parts.length);
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(p.h));
    svg.setAttribute('viewBox', `${vb[0]} ${vb[1] + p.y * uy} ${vb[2]} ${p.h * uy}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    blobs.push(await rasterise(new XMLSerializer().serializeToString(svg), plan.W, p.H));
  }
  return { plan, blobs, height };
}

async function exportPng(api, base) {
  const steps = api.state.trace?.steps.length ?? 0;
  if (steps > PNG_MAX_STEPS) {
    return `A PNG of this ladder (${steps.toLocaleString('en')} steps) cannot be made in a browser: PNG export stops at ${PNG_MAX_STEPS.toLocaleString('en')} steps. The SVG export has the whole ladder in one file, the transcript has it as text.`;
  }
  const { progress } = await import('./progress.js');
  const bar = progress('Making the PNG…');
  let made;
  try {
    const svgText = await engineExport(api, 'svg');
    const limit = api.canvasLimit || CANVAS.maxSide;
    const scale = Math.min(2, Math.max(1, window.devicePixelRatio || 1));
    made = await svgToPngs(svgText, {
      scale, maxHeight: limit, cancelled: () => bar.cancelled, onPart: (i, n) => bar.update(`Making the PNG: part ${i + 1} of ${n}…`),
    });
  } finally {
    bar.done();
  }
  if (!made) return 'The PNG export was cancelled.';
  const limit = api.canvasLimit || CANVAS.maxSide;
  const { plan, blobs, height } = made;
  if (blobs.length === 1) {
    download(blobs[0], `${base}.png`, 'image/png');
    return '';
  }
  await ensureCss();
  // Taller than one canvas may be: one PNG per band, each a link the user clicks (browsers
  // block a page that starts many downloads at once).
  const list = api.$('png-parts') || document.createElement('div');
  list.id = 'png-parts';
  list.className = 'popover png-parts';
  list.setAttribute('role', 'dialog');
  list.setAttribute('aria-label', 'PNG parts');
  const head = document.createElement('p');
  head.textContent = `The ladder is ${Math.round(height * plan.scale).toLocaleString('en')} px tall, more than this browser's canvas limit of ${limit.toLocaleString('en')} px, so the PNG comes in ${blobs.length} parts, top to bottom:`;
  const links = blobs.map((b, i) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(b);
    a.download = `${base}-part-${i + 1}-of-${blobs.length}.png`;
    a.textContent = `Part ${i + 1} of ${blobs.length} (${plan.W}×${plan.parts[i].H} px)`;
    return a;
  });
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = 'Close';
  close.addEventListener('click', () => {
    list.remove();
    for (const a of links) URL.revokeObjectURL(a.href);
  });
  list.onkeydown = (e) => {
    if (e.key === 'Escape') close.click();
  };
  list.replaceChildren(head, ...links, close);
  if (!list.isConnected) document.body.append(list);
  links[0].focus();
  return `The ladder is taller than this browser's canvas limit (${limit.toLocaleString('en')} px): the PNG is split into ${blobs.length} parts (SVG export has it in one piece).`;
}
