// The Policies panel: a picker per open question of the CR (every option "not in the CR"), drawn
// when the panel is first opened; a change is an edit of the scenario's policies.
import { setPolicy } from './scenario.js';

/** Fill #policy-list from the engine's catalogue and the scenario's choices. */
export function draw(api) {
  const { state, $, h, guard, edit } = api;
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
      h('p', { text: p.description || '' }));
  }));
}
