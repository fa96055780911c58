// Share links: the page state (scenario, rules, policies, playhead, selection) as JSON, packed
// with the browser's own deflate (CompressionStream 'deflate-raw') and written in base64url
// into the URL fragment: #s=<payload>. Loaded on demand (dynamic import), so a page opened
// without a link never downloads this file.
//
// Decoding never trusts the link: the fragment length, the base64url alphabet, the unpacked
// size (counted while streaming, so a small "zip bomb" stops early), UTF-8, JSON and the shape
// are all checked, and every failure is a ShareError with a sentence for the user.

import { ensureCss } from './lazy-css.js';

export const PREFIX = '#s=';
export const MAX_FRAGMENT = 64 * 1024; // characters of fragment we accept
export const MAX_UNPACKED = 2 * 1024 * 1024; // bytes of JSON after inflating
export const MAX_DEPTH = 100; // nesting of arrays and objects (a page state needs 5; the engine allows 128)
export const VERSION = 1;

export class ShareError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ShareError';
  }
}

/** Is this location.hash a share link? */
export const isShareHash = (hash) => typeof hash === 'string' && hash.startsWith(PREFIX);

// Base64url: the native codec where the browser has it (Uint8Array.prototype.toBase64 /
// Uint8Array.fromBase64), else btoa/atob with the URL alphabet mapped onto the standard one.
export function toBase64url(bytes) {
  if (typeof bytes.toBase64 === 'function') return bytes.toBase64({ alphabet: 'base64url', omitPadding: true });
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new ShareError('it contains characters that cannot be in a share link (it was probably changed or cut while copying)');
  try {
    if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text, { alphabet: 'base64url', lastChunkHandling: 'loose' });
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    throw new ShareError('it is not complete (the encoded data ends in the middle of a character)');
  }
}

/** deflate-raw with the platform's CompressionStream. */
export async function deflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** inflate-raw with the platform's DecompressionStream, stopping once `max` bytes are exceeded. */
export async function inflate(bytes, max = MAX_UNPACKED) {
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  // Errors surface on the reading side; keep the writer's promises from going unhandled.
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    let r;
    try {
      r = await reader.read();
    } catch {
      throw new ShareError('it is damaged or incomplete (its compressed data does not unpack)');
    }
    if (r.done) break;
    n += r.value.length;
    if (n > max) {
      reader.cancel().catch(() => {});
      throw new ShareError(`it unpacks to more than ${Math.round(max / 1024 / 1024)} MB, more than any timeline needs`);
    }
    parts.push(r.value);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Whether valid JSON text nests arrays and objects deeper than `max`. JSON.parse copes with any
 * depth, but JSON.stringify (the page's next step, engine.check) recurses and throws a
 * RangeError some thousands of levels down: a 100-byte link would stop the page.
 */
export function tooDeep(text, max = MAX_DEPTH) {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) i = skipString(text, i);
    else if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}
/**
 * The text of the last member `key` of the JSON object `text` (valid JSON, as JSON.parse takes
 * the last of duplicate keys), or null.
 */
export function memberText(text, key) {
  let found = null;
  let i = text.indexOf('{') + 1;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  for (;;) {
    ws();
    if (text[i] !== '"') return found;
    const k = skipString(text, i);
    const name = JSON.parse(text.slice(i, k + 1));
    i = k + 1;
    ws();
    i++; // ':'
    ws();
    const v = i;
    i = skipValue(text, i);
    if (name === key) found = text.slice(v, i);
    ws();
    if (text[i] !== ',') return found;
    i++;
  }
}
// The index just past the JSON value that starts at `i`.
function skipValue(text, i) {
  const c = text[i];
  if (c === '"') return skipString(text, i) + 1;
  if (c === '{' || c === '[') {
    let depth = 0;
    for (; i < text.length; i++) {
      const d = text.charCodeAt(i);
      if (d === 34) i = skipString(text, i);
      else if (d === 91 || d === 123) depth++;
      else if ((d === 93 || d === 125) && --depth === 0) return i + 1;
    }
    return i;
  }
  while (i < text.length && !',}] \t\n\r'.includes(text[i])) i++;
  return i;
}
// The index of the closing quote of the string that opens at `i`.
function skipString(text, i) {
  for (;;) {
    const q = text.indexOf('"', i + 1);
    if (q < 0) return text.length; // not closed (not valid JSON): nothing more to count
    let b = q; // an even number of backslashes before the quote: it ends the string
    while (text.charCodeAt(b - 1) === 92) b--;
    if ((q - b) % 2 === 0) return q;
    i = q;
  }
}

/** The share state → the fragment (with the leading '#s='). */
export async function encodeShare(state) {
  const json = new TextEncoder().encode(JSON.stringify({ v: VERSION, ...state }));
  return PREFIX + toBase64url(await deflate(json));
}

/**
 * A fragment → the share state, or a ShareError saying what is wrong with the link.
 * Only the shape is checked here; the page asks the engine to check the scenario itself.
 */
export async function decodeShare(hash, { maxFragment = MAX_FRAGMENT, maxUnpacked = MAX_UNPACKED } = {}) {
  if (!isShareHash(hash)) throw new ShareError('it is not a share link of this page');
  if (hash.length > maxFragment) throw new ShareError(`it is ${Math.round(hash.length / 1024)} KB long, more than the ${Math.round(maxFragment / 1024)} KB a share link may have`);
  const payload = hash.slice(PREFIX.length);
  if (!payload) throw new ShareError('it is empty after "#s="');
  const bytes = await inflate(fromBase64url(payload), maxUnpacked);
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ShareError('it does not unpack to text (it was probably changed)');
  }
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ShareError(`it does not unpack to valid JSON (${e.message})`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new ShareError('its content is not a page state');
  if (tooDeep(text)) throw new ShareError(`its content is nested more than ${MAX_DEPTH} levels deep, more than any timeline needs`);
  // Only a number is shown: the field could hold a 2 MB string.
  if (obj.v !== VERSION) throw new ShareError(typeof obj.v === 'number' ? `it has version ${obj.v}, this page reads version ${VERSION}` : `it has no version number (this page reads version ${VERSION})`);
  if (!obj.scenario || typeof obj.scenario !== 'object' || !Array.isArray(obj.scenario.events)) throw new ShareError('it has no scenario with events');
  const out = {
    scenario: obj.scenario,
    // The scenario as written in the link, for the engine's check: JSON.parse reads 1000.0, 1e3
    // and -0 as numbers that JSON.stringify writes as 1000 and 0, which `check` would not see.
    scenarioText: memberText(text, 'scenario'),
    rules: obj.rules === 'pre-cr' ? 'pre-cr' : 'post-cr',
    compare: obj.compare === true,
    preset: typeof obj.preset === 'string' ? obj.preset : '',
    t: Number.isFinite(obj.t) && obj.t >= 0 ? obj.t : 0,
    cursor: Number.isInteger(obj.cursor) && obj.cursor >= 0 ? obj.cursor : null,
    scroll: Number.isFinite(obj.scroll) && obj.scroll >= 0 ? obj.scroll : null,
    hideFuture: obj.hideFuture === true,
    sel: null,
    // Filters (filters.js ids; unknown ones are dropped there) and the timeline's zoom.
    filters: Array.isArray(obj.filters) ? obj.filters.filter((f) => typeof f === 'string' && f.length < 40).slice(0, 16) : [],
    zoom: obj.zoom && Number.isFinite(obj.zoom.from) && Number.isFinite(obj.zoom.to) && obj.zoom.to > obj.zoom.from ? { from: obj.zoom.from, to: obj.zoom.to } : null,
  };
  const s = obj.sel;
  if (s && typeof s === 'object' && (s.side === 'main' || s.side === 'alt') && Number.isInteger(s.step) && s.step >= 0) {
    out.sel = { side: s.side, step: s.step, chat: Number.isInteger(s.chat) ? s.chat : null };
  }
  return out;
}

/** A small box under the Share button with the link, selected, and a Copy button. */
export async function showShareBox(anchor, link, { tooLong = false } = {}) {
  await ensureCss();
  let box = document.getElementById('share-box');
  if (!box) {
    box = document.createElement('div');
    box.id = 'share-box';
    box.className = 'popover';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-label', 'Share link');
    const input = document.createElement('input');
    input.id = 'share-url';
    input.readOnly = true;
    input.setAttribute('aria-label', 'Share link of this view');
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.id = 'share-copy';
    copy.textContent = 'Copy';
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = '×';
    close.setAttribute('aria-label', 'Close');
    const status = document.createElement('p');
    status.id = 'share-status';
    status.setAttribute('role', 'status');
    box.append(input, copy, close, status);
    const hide = () => {
      box.hidden = true;
      anchor.focus();
    };
    close.addEventListener('click', hide);
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        hide();
      }
    });
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(input.value);
        status.textContent = 'Copied. Anyone who opens it sees this view.';
      } catch {
        input.select();
        status.textContent = 'Selected: press Ctrl+C to copy.';
      }
    });
    anchor.after(box);
  }
  box.hidden = false;
  const input = box.querySelector('input');
  const status = box.querySelector('[role="status"]');
  input.value = tooLong ? '' : link;
  box.querySelector('#share-copy').disabled = tooLong;
  status.textContent = tooLong
    ? `This timeline needs a ${Math.round(link.length / 1024)} KB link, more than the ${MAX_FRAGMENT / 1024} KB a link may have: save it as a file instead (File menu).`
    : `${link.length} characters. The link holds the whole view; nothing is uploaded.`;
  input.focus();
  input.select();
  return box;
}

// ---------------------------------------------------------------- the page's side
// (api: the page's state and hooks, see app.js)

/** The view as a share link carries it. */
export function viewOf(api) {
  const { state } = api;
  return {
    scenario: state.scenario, rules: state.rules, compare: state.compare, preset: state.preset,
    t: state.t, cursor: state.cursor, sel: state.sel?.gone ? null : state.sel, hideFuture: state.hideFuture,
    scroll: Math.round(api.ladder.scroll.scrollTop), filters: state.filters, zoom: state.zoom || null,
  };
}

/** The share link of the current view. */
export async function linkOf(api) {
  return location.href.replace(/[?#].*$/, '') + (await encodeShare(viewOf(api)));
}

/** The Share button: the link in a box under it, ready to copy. */
export async function share(api, anchor) {
  const link = await linkOf(api);
  await showShareBox(anchor, link, { tooLong: link.length - link.indexOf('#') > MAX_FRAGMENT });
}

/**
 * Open the share link in location.hash. A bad link (truncated, changed, too big, invalid
 * scenario) gives a message and leaves the page as it was; the saved timeline is untouched.
 * @returns {Promise<boolean>} whether the link was applied
 */
export async function openLink(api, fallbackText) {
  const { state, $, MODE } = api;
  let st;
  let big = false;
  try {
    st = await decodeShare(location.hash);
    await state.engine.prepare(st.scenarioText ?? st.scenario); // a tour: the second module checks it
    // A big one (once a timeline is drawn) is checked by its run, in the worker (below).
    big = !!state.trace && state.engine.isBig(st.scenario);
    const err = big ? null : st.scenarioText != null ? state.engine.checkText(st.scenarioText) : state.engine.check(st.scenario);
    if (err) throw new ShareError(`its scenario is not valid: ${err}`);
  } catch (e) {
    if (e.name !== 'ShareError') throw e;
    api.notice(`This share link cannot be opened: ${e.message}. ${fallbackText}`);
    return false;
  }
  api.pause();
  const prev = { persist: state.persist, fromLink: state.fromLink, scenario: state.scenario, preset: state.preset, hideFuture: state.hideFuture, filters: state.filters, description: state.description };
  state.persist = false; // until the first edit: the link must not replace the saved timeline
  state.fromLink = true;
  if (state.scenario && !big) state.history.push(state.scenario);
  if (!big) state.scenario = st.scenario;
  state.rules = st.rules;
  state.compare = st.compare && !MODE.embed;
  state.hideFuture = st.hideFuture;
  const p = state.presets.find((x) => x.name === st.preset);
  state.preset = p ? p.name : '';
  $('preset').value = state.preset;
  api.setDescription(p?.description || st.scenario.description || '');
  document.querySelector(`input[name="rules"][value="${state.rules}"]`).checked = true;
  $('compare').checked = state.compare;
  $('hidefuture').checked = state.hideFuture;
  api.ladder.setHideFuture(state.hideFuture);
  api.altLadder.setHideFuture(state.hideFuture);
  state.sel = null;
  state.selEvent = null;
  state.t = st.t;
  state.filters = st.filters;
  api.setZoom?.(st.zoom);
  if (big) {
    // Run in the worker with progress and Cancel (longrun.js openBig); its view once drawn.
    const back = (msg) => {
      Object.assign(state, { persist: prev.persist, fromLink: prev.fromLink, preset: prev.preset, hideFuture: prev.hideFuture, filters: prev.filters });
      $('preset').value = state.preset;
      $('hidefuture').checked = state.hideFuture;
      api.ladder.setHideFuture(state.hideFuture);
      api.altLadder.setHideFuture(state.hideFuture);
      api.setDescription(prev.description || '');
      return msg;
    };
    const m = await import('./longrun.js');
    return m.openBig(api, st.scenario, st.scenarioText ?? null, {
      done: () => {
        if (prev.scenario) state.history.push(prev.scenario);
        showView(api, st);
      },
      refused: (msg) => back(`This share link cannot be opened: its scenario is not valid: ${msg}. ${fallbackText}`),
      cancelled: () => back(`The share link was not opened: its run was cancelled. ${fallbackText}`),
      dropped: () => back(),
    });
  }
  if (!api.rerun({ sync: true })) return false;
  showView(api, st);
  return true;
}

/** The link's view of its drawn trace: the cursor, the selection, the scroll position. */
function showView(api, st) {
  const { state } = api;
  const n = state.trace.steps.length;
  // The cursor as the sender had it (several steps can share one time).
  if (st.cursor != null && st.cursor <= n && (st.cursor === 0 || state.trace.steps[st.cursor - 1].at_ms <= state.t)) {
    state.cursor = st.cursor;
    api.ladder.setCursor(st.cursor);
  }
  if (st.sel) api.selectStep(st.sel.side, st.sel.step, st.sel.chat);
  if (st.scroll != null) api.ladder.scroll.scrollTop = st.scroll;
  else if (state.sel) api.ladder.reveal(state.sel.step, true);
  api.drawEditor();
  api.drawPolicies();
  api.drawPlayer();
  api.drawQueue();
  api.updateUndo();
  api.notice('');
}
