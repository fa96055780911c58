// The compare view's head: both rule sets' counts side by side and the first difference, with a
// button that goes there (loaded when the compare view is first shown).
import { summaryCounts } from './viewmodel.js';
import { ensureCss } from './lazy-css.js';

// Its styles are in extra.css (issue 10: the first load's weight): the module is ready once they are.
await ensureCss();

/** Fill #compare-head for the drawn traces; `d` is the first difference or null. */
export function drawHead(api, d) {
  const { state, $, h, fmtMs, guard, setCursor, selectStep } = api;
  const a = state.trace;
  const b = state.alt;
  const ca = summaryCounts(a);
  const cb = summaryCounts(b);
  const row = (tr, mine, theirs) => h('tr', {}, h('th', { scope: 'row', text: tr.rules }),
    ...mine.map(([, v], i) => h('td', { class: `num ${v > theirs[i][1] ? 'more' : v < theirs[i][1] ? 'less' : ''}`, 'data-count': ca[i][0], text: String(v) })));
  const table = h('table', { class: 'counts' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'rules' }), ...ca.map(([k]) => h('th', { scope: 'col', text: k })))),
    h('tbody', {}, row(a, ca, cb), row(b, cb, ca)));
  const diff = h('div', { class: 'diff', id: 'first-diff' });
  if (!d) {
    diff.textContent = 'Both rule sets give the same ladder for this timeline.';
  } else {
    const sa = a.steps[d.a];
    const sb = b.steps[d.b];
    const desc = (s) => (s ? `#${s.index} ${s.from === s.to ? s.from : `${s.from} → ${s.to}`} ${s.label}` : 'nothing');
    diff.append(h('strong', { text: `First difference at ${fmtMs(d.at_ms)}: ` }),
      document.createTextNode(`${a.rules}: ${desc(sa)}; ${b.rules}: ${desc(sb)}. `),
      h('button', { type: 'button', id: 'goto-diff', text: 'Go there', onclick: guard(() => { setCursor(d.a + 1); selectStep('main', d.a, null, true); }) }));
  }
  $('compare-head').replaceChildren(table, diff);
}
