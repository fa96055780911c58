// When WebAssembly cannot run here (a host page's CSP without 'wasm-unsafe-eval', a browser
// policy, no WebAssembly at all): show the pre-rendered ladder (SVG) and transcript of a preset,
// made at build time by the CLI into pkg/prerendered/, with a one-line notice. Loaded on demand.


async function presetFromLink() {
  if (!location.hash.startsWith('#s=')) return '';
  try {
    const { decodeShare } = await import('./share.js');
    return (await decodeShare(location.hash)).preset || '';
  } catch {
    return '';
  }
}

import { ensureCss } from './lazy-css.js';

export async function showFallback({ $, h, MODE, why }) {
  await ensureCss();
  const BASE = new URL('../pkg/prerendered/', import.meta.url);
  const res = await fetch(new URL('index.json', BASE));
  if (!res.ok) throw new Error(`no pre-rendered ladders (${res.status})`);
  const list = await res.json();
  if (!Array.isArray(list) || !list.length) throw new Error('no pre-rendered ladders');
  const root = document.documentElement;
  root.classList.add('fallback');
  if (!MODE.embed) root.classList.add('embed');
  const wanted = MODE.preset || (await presetFromLink());
  const pane = $('pane-main');
  const note = h('p', { class: 'fallback-note', id: 'fallback-note', role: 'status', title: why });
  const picker = h('select', { id: 'fallback-preset', 'aria-label': 'Preset' });
  for (const p of list) picker.append(h('option', { value: p.name, text: p.name, title: p.description }));
  const heading = h('h1', { class: 'fallback-title' });
  const desc = h('p', { class: 'fallback-desc' });
  const img = h('img', { id: 'fallback-svg', class: 'fallback-svg' });
  const scroller = h('div', { class: 'fallback-scroll', tabIndex: 0, role: 'region', 'aria-label': 'Pre-rendered ladder' }, img);
  const pre = h('pre', { id: 'fallback-transcript', class: 'wire fallback-transcript', tabIndex: 0 });
  const details = h('details', { class: 'fallback-text', open: !MODE.embed }, h('summary', { text: 'Transcript (the ladder as text)' }), pre);

  async function show(name) {
    const p = list.find((x) => x.name === name) || list[0];
    picker.value = p.name;
    const shared = name && name !== p.name ? ` (there is none called “${name}”)` : '';
    note.textContent = `WebAssembly is not available here, so this is a pre-rendered ladder of the preset “${p.name}”, not interactive${shared}.`;
    desc.textContent = p.description || '';
    img.alt = `Sequence diagram of the preset ${p.name}; the transcript below is its text version.`;
    img.src = new URL(`${p.name}.svg`, BASE).href;
    const t = await fetch(new URL(`${p.name}.txt`, BASE));
    pre.textContent = t.ok ? await t.text() : '(transcript missing)';
    heading.textContent = p.title || p.name;
  }
  picker.addEventListener('change', () => show(picker.value));
  const bar = h('div', { class: 'fallback-bar' }, note);
  if (!MODE.embed) bar.append(h('label', {}, document.createTextNode('Preset '), picker));
  pane.replaceChildren(bar, heading, desc, scroller, details);
  await show(wanted || list[0].name);
}
