// The event editor: the fields of the selected timeline event (loaded on the first selection).
// Values go to the engine as typed; one it refuses is not applied and the engine's message shows.
import { KIND, REASON_PROTOCOLS, REJOIN_IDS, DEVICE_KINDS, composeReason, parseReason, updateEvent, membersOf, hasTablet, setTablet } from './scenario.js';
import { SYMBOL } from './timeline.js';
import { ensureCss } from './lazy-css.js';

// Its styles are in extra.css (issue 10: the first load's weight): the module is ready once they are.
await ensureCss();

/**
 * The engine's refusal of an edit in the editor (#ed-error). A big timeline's refusal comes
 * when its run (in a worker, www/longrun.js) answers, after the editor was drawn again.
 */
export function showRefusal(api, why) {
  const box = api.$('editor');
  if (box.hidden) return;
  const p = box.querySelector('#ed-error') || api.h('p', { id: 'ed-error', class: 'ed-error', role: 'alert' });
  p.textContent = why;
  box.querySelector('h2')?.after(p);
}

/** Draw the editor of `api.state.selEvent` into #editor. */
export function draw(api) {
  const { state, $, h, fmtMs, edit, guard, report, drawTimeline, deleteSelected } = api;
  const drawEditor = () => api.drawEditor();
  const box = $('editor');
  const i = state.selEvent;
  const ev = i != null ? state.scenario.events[i] : null;
  if (!ev) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  // The value as typed goes to the engine; one it refuses is not applied and the editor shows
  // the engine's own message (the same as `check` gives for a file).
  const apply = (patch) => {
    const r = updateEvent(state.scenario, i, patch, { exact: true });
    const why = edit(r.scenario, { selEvent: r.index });
    if (why) showRefusal(api, why);
  };
  const num = (input) => (input.value.trim() === '' ? NaN : Number(input.value));
  const members = membersOf(state.scenario);
  const memberSelect = (value, withCarol, onChange) => {
    const sel = h('select', { onchange: () => onChange(sel.value) });
    const opts = withCarol ? [{ id: 'carol', name: 'Carol' }, ...members] : members;
    for (const m of opts) sel.append(h('option', { value: m.id, text: `${m.name}${m.in_group === false ? ' (not in group)' : ''}` }));
    sel.value = value;
    return sel;
  };
  const kind = KIND.get(ev.kind);
  const rows = [
    h('h2', {}, h('span', { class: 'marker-sym', text: `${SYMBOL[ev.kind] || ''} ` }), document.createTextNode(`${kind?.label || ev.kind} event`)),
    h('p', { class: 'muted', text: kind?.hint || '' }),
  ];
  const at = h('input', { type: 'number', min: 0, step: 100, value: String(ev.at_ms), id: 'ed-at', onchange: () => apply({ at_ms: num(at) }) });
  rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('at (ms)'), at), h('span', { class: 'muted', text: fmtMs(ev.at_ms) })));
  if (ev.kind === 'message') {
    const txt = h('input', { type: 'text', value: ev.text ?? '', id: 'ed-text', onchange: () => apply({ text: txt.value }) });
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('from'), memberSelect(ev.from, true, (v) => apply({ from: v })))));
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('text')), txt));
  }
  if (ev.kind === 'bye') {
    const r = parseReason(ev.reason);
    const proto = h('select', { id: 'ed-proto' });
    proto.append(h('option', { value: '', text: 'no Reason (bare BYE)' }));
    for (const p of REASON_PROTOCOLS) proto.append(h('option', { value: p, text: p }));
    if (r.protocol && !REASON_PROTOCOLS.includes(r.protocol)) proto.append(h('option', { value: r.protocol, text: r.protocol }));
    proto.value = r.protocol;
    const cause = h('input', { type: 'number', min: 0, value: r.cause, id: 'ed-cause' });
    const text = h('input', { type: 'text', value: r.text, id: 'ed-rtext' });
    const upd = () => apply({ reason: composeReason(proto.value, cause.value, text.value) });
    for (const x of [proto, cause, text]) x.addEventListener('change', upd);
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('Reason protocol'), proto), h('label', {}, document.createTextNode('cause'), cause)));
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('text')), text));
    rows.push(h('p', { class: 'muted', text: `Header: ${ev.reason == null ? '(none)' : `Reason: ${ev.reason}`}` }));
  }
  if (ev.kind === 'leave' || ev.kind === 'join') {
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('member'), memberSelect(ev.member, ev.kind === 'leave', (v) => apply({ member: v })))));
    if (ev.kind === 'join') {
      const nm = h('input', { type: 'text', placeholder: 'new member name', id: 'ed-newmember' });
      // The id is derived from the name (valid and unique, members.js memberId): shown, never a surprise.
      if (state.added && state.added.id === ev.member) rows.push(h('p', { class: 'muted', id: 'ed-added', text: `Added “${state.added.name}” with the id ${state.added.id}.` }));
      rows.push(h('div', { class: 'row' }, nm, h('button', {
        type: 'button', text: 'Add member',
        onclick: () => {
          if (!nm.value.trim()) return;
          state.added = null;
          box.querySelector('#ed-added')?.remove();
          import('./members.js').then(guard((m) => {
            const r = m.addMember(state.scenario, nm.value.trim());
            const u = updateEvent(r.scenario, i, { member: r.id });
            state.added = edit(u.scenario, { selEvent: u.index }) ? null : { id: r.id, name: nm.value.trim() };
            drawEditor();
          })).catch(report);
        },
      })));
    }
  }
  if (ev.kind === 'invite_rejected') {
    const st = h('select', { id: 'ed-status', onchange: () => apply({ status: Number(st.value) }) });
    for (const c of [408, 480, 486, 500, 503, 603]) st.append(h('option', { value: c, text: String(c) }));
    st.value = String(ev.status);
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('final answer'), st)));
  }
  if (ev.kind === 'rejoin') {
    // Q20: the session IDs of her INVITE (`same`, the format's default, is the CR's re-join).
    const ids = h('select', { id: 'ed-ids', onchange: () => apply({ ids: ids.value }) });
    for (const [v, text] of Object.entries(REJOIN_IDS)) ids.append(h('option', { value: v, text }));
    ids.value = ev.ids || 'same';
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('session IDs'), ids), h('span', { class: 'notcr', text: 'other IDs: not in the CR' })));
  }
  if (ev.kind === 'register') {
    const rd = h('input', { type: 'number', min: 0, step: 100, value: String(ev.reaction_ms ?? 0), id: 'ed-reaction', onchange: () => apply({ reaction_ms: num(rd) }) });
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('PF reaction delay (ms)'), rd), h('span', { class: 'notcr', text: 'not in the CR' })));
  }
  if (DEVICE_KINDS.includes(ev.kind) && (ev.kind !== 'leave' || ev.member === 'carol')) {
    // Carol's second device (issue 11, Q15): the scenario's devices, and which one this event is.
    const tab = hasTablet(state.scenario);
    const cb = h('input', { type: 'checkbox', id: 'ed-tablet', onchange: () => {
      const why = edit(setTablet(state.scenario, cb.checked), { selEvent: i });
      if (why) showRefusal(api, why);
    } });
    cb.checked = tab;
    rows.push(h('div', { class: 'row' }, h('label', {}, cb, document.createTextNode(' Carol also has a tablet (a second device)')), h('span', { class: 'notcr', text: 'Q15: not in the CR' })));
    if (tab) {
      const dv = h('select', { id: 'ed-device', onchange: () => apply({ device: dv.value === 'tablet' ? 'tablet' : undefined }) });
      for (const [v, t] of [['phone', 'her phone'], ['tablet', 'her tablet']]) dv.append(h('option', { value: v, text: t }));
      dv.value = ev.device === 'tablet' ? 'tablet' : 'phone';
      rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('device'), dv)));
    }
  }
  if (ev.kind === 'cf_reinvite') {
    // An empty Subject is no Subject header (the format's null).
    const sj = h('input', { type: 'text', value: ev.subject ?? '', placeholder: '(no new subject)', id: 'ed-subject', onchange: () => apply({ subject: sj.value.trim() ? sj.value : null }) });
    rows.push(h('div', { class: 'row' }, h('label', {}, document.createTextNode('new Subject')), sj));
  }
  rows.push(h('div', { class: 'row' },
    h('button', { type: 'button', class: 'danger', id: 'ed-delete', text: 'Delete event', onclick: guard(() => deleteSelected()) }),
    h('button', { type: 'button', text: 'Close', onclick: () => { state.selEvent = null; drawEditor(); drawTimeline(); } })));
  box.replaceChildren(...rows);
}
