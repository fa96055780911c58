// A first visit that leads (issue 12): one line saying what this is and an invitation to start
// the story on its first key step. Dismissible; remembered in local storage, so it shows once.
// Loaded on the first visit only (not in embed or presenter mode, not from a share link).
export const LEAD_KEY = 'cpm-deferral-explorer:lead-seen';

export function seen() {
  try {
    return localStorage.getItem(LEAD_KEY) === '1';
  } catch {
    return true; // no storage: better no lead than one that comes back on every visit
  }
}

export function show(api) {
  const { h, $ } = api;
  if (seen() || $('lead')) return;
  const done = () => {
    try {
      localStorage.setItem(LEAD_KEY, '1');
    } catch {
      /* storage disabled: the lead goes for this visit */
    }
    box.remove();
  };
  const box = h('div', { class: 'lead', id: 'lead', role: 'region', 'aria-label': 'Welcome' },
    h('p', {},
      h('strong', { text: 'How a CPM Participating Function keeps Carol’s place in a group chat when she drops out without meaning to ' }),
      document.createTextNode('(OMA CPM §8.3.2.9, as the CR for D130 changes it). Press ▶ to play, → for one step, Shift+→ for the next key step of the story.')),
    h('button', { type: 'button', id: 'lead-start', class: 'lead-start', text: 'Start the story ▶', onclick: () => { done(); api.keyNext(); } }),
    h('button', { type: 'button', id: 'lead-close', 'aria-label': 'Dismiss this introduction', text: '×', onclick: done }));
  $('ladders').prepend(box);
  // Starting to play or step also counts as having read it.
  api.hooks.lead = () => {
    if (api.state.cursor > 0 || api.state.playing) {
      api.hooks.lead = null;
      done();
    }
  };
}
