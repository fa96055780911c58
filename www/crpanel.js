// The CR's own words beside the ladder: §8.3.2.9 as the change request shows it (cr-text.js),
// inserted words underlined and removed words struck through, so both the amended text and the
// text before the CR can be read. The sentence the step at the playhead carries out is
// highlighted as the story plays; a step produced by a policy shows its open question instead,
// marked "not in the CR". Clause chips in the inspector open the panel at their sentence.
// Loaded on use (the "CR text" button, a clause chip).
import { CR_SENTENCES, sentenceFor, policiesOf } from './cr-text.js';
import { ensureCss } from './lazy-css.js';
import { keysAt } from './story.js';

let panel = null;
let lastKey = '';

function build(api) {
  const { h } = api;
  const list = h('div', { class: 'cr-text' });
  for (const sn of CR_SENTENCES) {
    const p = h('p', { class: 'cr-s', id: `cr-${sn.id}`, 'data-sentence': sn.id });
    for (const [text, kind] of sn.parts) {
      if (kind === 'ins') p.append(h('ins', { title: 'inserted by the CR', text }));
      else if (kind === 'del') p.append(h('del', { title: 'removed by the CR', text }));
      else p.append(document.createTextNode(text));
    }
    list.append(p);
  }
  panel = h('aside', { class: 'cr-panel', id: 'crpanel', tabindex: 0, 'aria-labelledby': 'cr-h' },
    h('h2', { id: 'cr-h', text: '§8.3.2.9 as amended by the CR' }),
    h('p', { class: 'muted cr-legend' },
      h('ins', { text: 'inserted' }), document.createTextNode(' and '), h('del', { text: 'removed' }),
      document.createTextNode(' words as the CR for CONRR comment D130 shows them (read from the CR’s text, where the changes run together: an inference). The sentence of the step at the playhead is highlighted.')),
    h('div', { class: 'cr-question', id: 'cr-question', hidden: true }),
    list);
  api.$('pane-main').parentElement.append(panel);
}

/** Highlight the sentence of the step at the playhead (or show its open question). */
export function sync(api) {
  if (!panel || panel.hidden) return;
  const { state } = api;
  const tr = state.trace;
  const s = tr?.steps[state.cursor - 1];
  // The step at the playhead, and the key steps of the stop it ends (a key stop can be a few
  // steps at one time: a policy decision and the step it leads to).
  const group = s ? [...keysAt(tr, state.cursor).filter((k) => k !== s), s] : [];
  const id = s ? sentenceFor(s) || group.map(sentenceFor).find(Boolean) || null : null;
  const pols = [];
  for (const g of group) for (const p of policiesOf(tr, g)) if (!pols.some((q) => q.id === p.id)) pols.push(p);
  const key = `${tr?.rules}|${state.cursor}|${id}|${pols.map((p) => p.id).join()}`;
  if (key === lastKey) return;
  lastKey = key;
  for (const p of panel.querySelectorAll('.cr-s.current')) p.classList.remove('current');
  const cur = id && panel.querySelector(`#cr-${id}`);
  if (cur) {
    cur.classList.add('current');
    cur.scrollIntoView({ block: 'nearest' });
  }
  const q = panel.querySelector('#cr-question');
  q.hidden = !pols.length;
  q.replaceChildren(...pols.map((p) => api.h('p', {},
    api.h('strong', { text: `Open question ${p.question}: ` }), document.createTextNode(`${p.title} — this emulator's policy: ${p.value}. `),
    api.h('span', { class: 'notcr', text: 'not in the CR' }))));
}

export async function toggle(api, open = !panel || panel.hidden) {
  await ensureCss();
  if (!panel) build(api);
  panel.hidden = !open;
  const btn = api.$('cr-toggle');
  btn.setAttribute('aria-expanded', String(open));
  btn.setAttribute('aria-controls', 'crpanel');
  api.hooks.cr = open ? () => sync(api) : null;
  lastKey = '';
  sync(api);
  // The ladder is narrower (or wider) now: lay it out again.
  api.ladder.setTrace(api.state.trace);
}

/** Open the panel at the sentence `id` (a clause chip of the inspector). */
export async function show(api, id) {
  await toggle(api, true);
  const p = panel.querySelector(`#cr-${id}`);
  if (!p) return;
  p.scrollIntoView({ block: 'center' });
  p.classList.add('flash');
  setTimeout(() => p.classList.remove('flash'), 1500);
  p.tabIndex = -1;
  p.focus({ preventScroll: true });
}
