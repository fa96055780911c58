// The host control API (issue 15; protocol in docs/host-api.md): a page that embeds the explorer
// in an iframe drives it with postMessage and hears what it shows. Loaded only when the page is
// framed (app.js), never otherwise.
//
// Safety: a message is obeyed only when it comes from the embedding parent (event.source is
// window.parent) with the parent's origin (?host=ORIGIN, else location.ancestorOrigins, else the
// referrer's origin); anything else, or anything of an unexpected shape, is ignored without an
// answer. Nothing that arrives is evaluated: commands are looked up in a fixed table, arguments
// are checked for type and range, scenarios and tours go through JSON and the engine's own
// check. Answers go to window.parent with the parent's origin as targetOrigin, never '*'.
import { setPolicy } from './scenario.js';
import { pfStateAt, queueAt } from './viewmodel.js';
import { stepSentence } from './story.js';

export const PROTOCOL = 'cpm-deferral-explorer';
export const VERSION = 1;
const MAX_JSON = 8 * 1024 * 1024; // the engine's limit for a scenario file
const RULES = ['post-cr', 'pre-cr'];

/** The origin allowed to command this page, or null (unknown, or "null": no safe target). */
export function parentOrigin(search = location.search) {
  const want = new URLSearchParams(search).get('host');
  let o = null;
  try {
    if (want) o = new URL(want).origin;
    else if (location.ancestorOrigins?.length) o = location.ancestorOrigins[0];
    else if (document.referrer) o = new URL(document.referrer).origin;
  } catch {
    o = null;
  }
  return o && o !== 'null' ? o : null;
}

const plain = (x) => x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;
const str = (x, max) => typeof x === 'string' && x.length <= max;
const int = (x) => Number.isSafeInteger(x) && x >= 0;

/** A structured-clone value as plain JSON data (a copy), or null: too big, too deep, not JSON. */
async function asJson(x) {
  if (!plain(x)) return null; // a Map, an array, a string…
  const { tooDeep } = await import('./share.js'); // the share links' nesting limit (100)
  try {
    const text = JSON.stringify(x);
    if (typeof text !== 'string' || text.length > MAX_JSON || tooDeep(text)) return null;
    const v = JSON.parse(text);
    return plain(v) ? v : null;
  } catch {
    return null; // a RangeError from nesting, a BigInt…
  }
}

/**
 * The commands: name → (api, message) → undefined (done), a string (refused: the reason) or a
 * promise of either. `null` from a checker means the message has the wrong shape: ignored.
 */
const COMMANDS = {
  next: (api) => api.stepNext(),
  prev: (api) => api.stepPrev(),
  nextKey: (api) => api.keyNext(),
  prevKey: (api) => api.keyPrev(),
  play: (api) => api.play(),
  pause: (api) => api.pause(),
  state: () => undefined, // answered by the state event every command is followed by
  goto(api, m) {
    const { state } = api;
    if (str(m.step, 300)) {
      const i = state.trace.steps.findIndex((s) => s.sid === m.step);
      if (i < 0) return 'there is no step with this identity in the ladder';
      api.stepTo(i + 1);
    } else if (int(m.index)) api.stepTo(Math.min(m.index, state.trace.steps.length));
    else if (Number.isFinite(m.t) && m.t >= 0) {
      api.pause();
      api.setTime(Math.min(m.t, state.trace.end_ms));
    } else return null;
    return undefined;
  },
  rules(api, m) {
    if (!RULES.includes(m.rules)) return null;
    api.setRules(m.rules);
    return undefined;
  },
  async policy(api, m) {
    if (!str(m.policy, 80) || !str(m.value, 80)) return null;
    const p = api.state.catalogue.find((x) => x.id === m.policy);
    if (!p) return 'there is no policy with this id';
    if (!p.options.includes(m.value)) return `this policy's options are ${p.options.join(', ')}`;
    // The run waits for the engine module that runs it (a first view has none, the first module
    // runs the defaults only): "done" comes once the change is made.
    if (!(await api.state.engine.ensure(setPolicy(api.state.scenario, p.id, m.value, p.default)))) return 'the engine module that runs this policy did not load';
    return api.edit(setPolicy(api.state.scenario, p.id, m.value, p.default)) || undefined;
  },
  async filters(api, m) {
    if (!Array.isArray(m.filters) || m.filters.length > 16 || !m.filters.every((f) => str(f, 40))) return null;
    const { cleanFilters } = await import('./filters.js'); // unknown ids dropped
    api.setFilters(cleanFilters(m.filters));
    return undefined;
  },
  async scenario(api, m) {
    const sc = await asJson(m.scenario);
    if (!sc) return null;
    await api.state.engine.prepare(sc);
    const why = api.state.engine.check(sc);
    if (why) return `the scenario is not valid: ${why}`;
    api.state.sel = null;
    api.state.t = 0;
    api.state.preset = '';
    api.setDescription(typeof sc.description === 'string' ? sc.description : '');
    return api.edit(sc, { selEvent: null }) || undefined;
  },
  async tour(api, m) {
    const tour = await asJson(m.tour);
    if (!tour) return null;
    const t = await import('./tour.js');
    const why = api.edit(t.withTour(api.state.scenario, tour));
    if (why) return `the tour is not valid: ${why}`;
    if (m.play === true) await t.play(api, 0);
    return undefined;
  },
  async stop(api, m) {
    const t = await import('./tour.js');
    if (int(m.index)) await t.play(api, m.index);
    else if (m.by === 1 || m.by === -1) await t.step(api, m.by);
    else return null;
    return undefined;
  },
};

let target = null;
let last = '';
let queue = Promise.resolve();

/** Post an event to the parent (only there, only with its origin). */
function post(event, fields = {}) {
  if (!target) return;
  window.parent.postMessage({ protocol: PROTOCOL, v: VERSION, event, ...fields }, target);
}

/** The state event: what the explorer shows now. */
export function stateOf(api) {
  const { state } = api;
  const tr = state.trace;
  if (!tr) return null;
  const s = tr.steps[state.cursor - 1] || null;
  const q = queueAt(tr, state.cursor);
  let lost = 0;
  for (const c of tr.chats || []) if (c.outcome === 'lost' && (c.removed_step ?? c.sent_step ?? Infinity) < state.cursor) lost++;
  const stop = Number.isInteger(state.tourStop) ? state.tourStop : -1;
  const tourCaption = stop >= 0 ? state.scenario?.tour?.stops?.[stop]?.caption : undefined;
  return {
    step: state.cursor,
    steps: tr.steps.length,
    sid: s ? s.sid : null,
    t: state.t,
    rules: state.rules,
    playing: state.playing,
    pfState: pfStateAt(tr, state.cursor),
    stored: q.waiting,
    delivered: q.delivered,
    lost,
    key: s && s.key !== undefined ? s.key : null,
    caption: typeof tourCaption === 'string' ? tourCaption : stepSentence(tr, state.cursor),
    stop,
    filters: state.filters.slice(),
  };
}

function sendState(api, force = false) {
  const st = stateOf(api);
  if (!st) return;
  const key = JSON.stringify(st);
  if (!force && key === last) return;
  last = key;
  post('state', st);
}

/** An exercise's result, for the host to forward as an xAPI statement (docs/host-api.md). */
export function postResult(result) {
  post('result', result);
}

/** Start listening (once the page is ready); returns whether the API is on. */
export function start(api) {
  target = parentOrigin();
  if (!target || window.parent === window) return false;
  api.hooks.host = () => sendState(api);
  api.hooks.result = postResult;
  addEventListener('message', (e) => {
    if (e.source !== window.parent || e.origin !== target) return;
    const m = e.data;
    if (!plain(m) || m.protocol !== PROTOCOL || m.v !== VERSION || typeof m.cmd !== 'string' || !Object.hasOwn(COMMANDS, m.cmd)) return;
    const id = str(m.id, 64) || int(m.id) ? m.id : null;
    // One command at a time, in the order they came (some load a module first).
    queue = queue
      .then(() => api.guard(() => COMMANDS[m.cmd](api, m))())
      .then((r) => {
        if (r === null) return; // the wrong shape: ignored, as a message from elsewhere
        // The state first: a host that waits for the answer then has the state it led to.
        sendState(api, m.cmd === 'state');
        if (typeof r === 'string') post('error', { id, cmd: m.cmd, message: r.slice(0, 500) });
        else post('done', { id, cmd: m.cmd });
      })
      .catch((err) => post('error', { id, cmd: m.cmd, message: String(err?.message || err).slice(0, 500) }));
  });
  post('ready', { engine: api.state.engine.version(), commands: Object.keys(COMMANDS), title: api.state.scenario?.title || '' });
  sendState(api, true);
  return true;
}
