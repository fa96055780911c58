// The Policies panel: a picker per open question of the CR (every option "not in the CR"), drawn
// when the panel is first opened; a change is an edit of the scenario's policies. The page's
// first wasm module carries no descriptions (Cargo feature `policy-text`): the pickers are drawn
// at once and the descriptions filled in from the second module's catalogue when it has loaded.
import { setPolicy } from './scenario.js';

let texts = null; // id → description, once known
let asked = null;

/** Fill #policy-list from the engine's catalogue and the scenario's choices. */
export function draw(api) {
  const { state, $, h, guard, edit } = api;
  if (!texts && state.catalogue.every((p) => p.description)) texts = new Map(state.catalogue.map((p) => [p.id, p.description]));
  const list = $('policy-list');
  const current = state.scenario.policies || {};
  list.replaceChildren(...state.catalogue.map((p) => {
    const sel = h('select', { id: `policy-${p.id}`, 'aria-label': `${p.question} ${p.title} (not in the CR)` });
    for (const o of p.options) sel.append(h('option', { value: o, text: o === p.default ? `${o} (default)` : o }));
    sel.value = current[p.id] ?? p.default;
    sel.addEventListener('change', guard(() => edit(setPolicy(state.scenario, p.id, sel.value, p.default))));
    return h('div', { class: 'policy' },
      h('div', { class: 'ptitle' }, document.createTextNode(`${p.question}: ${p.title} `), h('span', { class: 'notcr', text: 'not in the CR' })),
      sel,
      h('p', { class: 'pdesc', 'data-policy': p.id, text: texts ? texts.get(p.id) || '' : 'Loading the description…' }));
  }));
  if (!texts) {
    asked ||= state.engine.loadFast().then((m) => {
      if (!m) throw new Error('the descriptions did not load (pkg/export/ is missing or was refused)');
      texts = new Map(m.policies().map((p) => [p.id, p.description]));
    });
    asked.then(
      () => { for (const el of list.querySelectorAll('.pdesc')) el.textContent = texts.get(el.dataset.policy) || ''; },
      (e) => {
        asked = null;
        for (const el of list.querySelectorAll('.pdesc')) el.textContent = `(${e.message || e})`;
      },
    );
  }
}
