// Timeline zoom (issue 12): the wheel (and a trackpad pinch, which Chromium sends as a wheel with
// Ctrl) zooms around the pointer, Shift+wheel or a sideways wheel pans, two fingers pinch on a
// touch screen, the −/+/Fit buttons and the + − 0 keys on the timeline zoom around the selected
// event or the playhead. Zoomed in far enough, the messages of a 1,000-message timeline are
// markers again, to select, drag and edit one by one. The window is part of share links.
// Loaded on the first zoom.

/** The narrowest window, in ms. */
export const MIN_SPAN = 200;

/** Show [from, to] (null: everything); keeps it inside the timeline. */
export function set(api, win) {
  const tl = api.timeline;
  const span = tl.scale?.span || 1;
  if (win) {
    const w = Math.max(MIN_SPAN, Math.min(win.to - win.from, span));
    if (w >= span) win = null;
    else {
      const from = Math.max(0, Math.min(win.from, span - w));
      win = { from: Math.round(from), to: Math.round(from + w) };
    }
  }
  api.state.zoom = tl.setWindow(win);
  const on = !!api.state.zoom;
  api.$('zoom-fit').disabled = !on;
  api.$('zoom-out').disabled = !on;
  api.$('timeline').dataset.zoom = on ? `${api.state.zoom.from}-${api.state.zoom.to}` : '';
}

/** Zoom by `factor` (< 1: in) keeping time `at` where it is (default: selected event or playhead). */
export function zoomBy(api, factor, at = null) {
  const tl = api.timeline;
  const { from, to } = tl;
  const sel = api.state.selEvent != null ? api.state.scenario.events[api.state.selEvent]?.at_ms : null;
  const c = at ?? sel ?? Math.max(from, Math.min(api.state.t, to));
  const w = (to - from) * factor;
  set(api, { from: c - (c - from) * (w / (to - from)), to: c - (c - from) * (w / (to - from)) + w });
}

export function pan(api, ms) {
  const tl = api.timeline;
  if (!api.state.zoom) return;
  set(api, { from: tl.from + ms, to: tl.to + ms });
}

/** A wheel event over the timeline (already prevented by the page). */
export function wheel(api, e) {
  const tl = api.timeline;
  const sideways = e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY);
  if (sideways && !e.ctrlKey) {
    pan(api, ((e.deltaX || e.deltaY) / Math.max(1, tl.width)) * (tl.to - tl.from));
    return;
  }
  zoomBy(api, Math.exp(Math.max(-1, Math.min(1, e.deltaY * (e.ctrlKey ? 0.01 : 0.002)))), tl.tAt(e.clientX));
}

/** The + − 0 keys on the timeline. */
export function key(api, e) {
  if (e.key === '+' || e.key === '=') zoomBy(api, 0.5);
  else if (e.key === '-' || e.key === '_') zoomBy(api, 2);
  else if (e.key === '0') set(api, null);
}

/** Two-finger pinch on a touch screen. */
export function attachPinch(api) {
  const host = api.$('timeline');
  const pts = new Map();
  let last = 0;
  const dist = () => {
    const [a, b] = [...pts.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  };
  host.addEventListener('pointerdown', (e) => {
    if (e.pointerType !== 'touch') return;
    pts.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pts.size === 2) last = dist();
  });
  host.addEventListener('pointermove', (e) => {
    if (!pts.has(e.pointerId)) return;
    pts.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pts.size !== 2 || !last) return;
    const d = dist();
    const mid = [...pts.values()].reduce((m, p) => m + p.x / 2, 0);
    if (d > 0) zoomBy(api, last / d, api.timeline.tAt(mid));
    last = d;
  });
  const up = (e) => {
    pts.delete(e.pointerId);
    if (pts.size < 2) last = 0;
  };
  host.addEventListener('pointerup', up);
  host.addEventListener('pointercancel', up);
}
