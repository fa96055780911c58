// The deck's side of the host control API (docs/host-api.md): a fragment shown sends its
// data-explorer command (nextKey), a fragment hidden sends the opposite (prevKey); entering the
// explorer's slide from the front rewinds it. Commands wait until the explorer says "ready" (or
// answers the "state" this asks for at once, when it was ready before this module listened).
import Reveal from '../node_modules/reveal.js/dist/reveal.mjs';

const frame = document.getElementById('explorer');
const ORIGIN = new URL(frame.src, location.href).origin;
const PROTOCOL = 'cpm-deferral-explorer';
const OPPOSITE = { nextKey: 'prevKey', prevKey: 'nextKey', next: 'prev', prev: 'next' };
let ready = false;
const waiting = [];

function send(cmd, args = {}) {
  const msg = { protocol: PROTOCOL, v: 1, cmd, ...args };
  if (ready) frame.contentWindow.postMessage(msg, ORIGIN);
  else waiting.push(msg);
}

addEventListener('message', (e) => {
  // Only the explorer's frame, only its origin, only its protocol.
  if (e.source !== frame.contentWindow || e.origin !== ORIGIN) return;
  const d = e.data;
  if (!d || d.protocol !== PROTOCOL) return;
  // "ready", or the answer to the "state" asked for below when the explorer was ready first.
  if (!ready && (d.event === 'ready' || d.event === 'state')) {
    ready = true;
    for (const m of waiting.splice(0)) frame.contentWindow.postMessage(m, ORIGIN);
  }
  if (d.event === 'state') {
    document.getElementById('explorer-state').textContent = `step ${d.step} of ${d.steps} · PF ${d.pfState} · store ${d.stored}${d.key ? ` · ${d.key}` : ''}`;
  }
});

// The explorer may have said "ready" before this module listened (a first visit draws without
// waiting for its engine): ask for its state; an explorer not there yet says "ready" later.
frame.contentWindow.postMessage({ protocol: PROTOCOL, v: 1, cmd: 'state' }, ORIGIN);

const deck = Reveal;
deck.on('fragmentshown', (e) => {
  const cmd = e.fragment.dataset.explorer;
  if (cmd in OPPOSITE) send(cmd);
});
deck.on('fragmenthidden', (e) => {
  const cmd = e.fragment.dataset.explorer;
  if (cmd in OPPOSITE) send(OPPOSITE[cmd]);
});
deck.on('slidechanged', (e) => {
  // Entered from the slide before: the explorer starts from the beginning.
  if (e.currentSlide.id === 'explorer-slide' && e.previousSlide && deck.getIndices(e.previousSlide).h < e.indexh) send('goto', { index: 0 });
});
deck.initialize({ hash: true, width: 1100, height: 760, transition: 'none' });
window.__deck = deck; // for tests-web/e2e/reveal.test.mjs
