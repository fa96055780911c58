// Every row of a ladder drawn at once (every arrow in the DOM): only for the benchmark's "full
// render" figure, against Mermaid drawing the whole diagram (tests-web/bench/bench.mjs). The page
// itself draws the rows in view only (ladder.js render). Loaded by the benchmark, never by the page.
const NS = 'http://www.w3.org/2000/svg';
function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  parent.appendChild(e);
  return e;
}

/** Draw every row of `ladder` (a ladder.js Ladder with a trace): returns the number of rows. */
export function renderAll(ladder) {
  ladder._drawn = null;
  const m = ladder.model;
  const steps = ladder.trace.steps;
  const frag = document.createDocumentFragment();
  for (let i = 0; i < steps.length; i++) {
    const a = m.arrow(i);
    const gs = el('g', { class: `step ${a.cls}`, 'data-step': i }, frag);
    if (a.internal) {
      el('rect', { class: 'box', x: a.x1 - 40, y: a.y - 10, width: 80, height: 20, rx: 4 }, gs);
    } else {
      el('line', { class: 'ln', x1: a.x1, x2: a.x2, y1: a.y, y2: a.y, 'marker-end': `url(#${ladder.id}-ah-${a.cls})` }, gs);
    }
    el('text', { x: (a.x1 + a.x2) / 2, y: a.y - 4, class: 'lbl', 'text-anchor': 'middle' }, gs).textContent = a.label;
  }
  ladder.gRows.replaceChildren(frag);
  return steps.length;
}
