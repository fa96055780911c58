// The saved timeline (issue 13, items 2, 3, 4, 13): where it is kept, how it is read back, and
// what happens when it cannot be kept or another tab changed it.
//
// - localStorage holds the record while it fits (about 5 M characters); a bigger scenario goes
//   to IndexedDB and localStorage keeps the settings and a pointer. When neither can take it
//   (the quota is used up) the write fails loudly: `save` answers { lost }, and the page says so
//   and offers the timeline as a download.
// - Every write bumps a revision kept under REV_KEY ("rev tab"). A tab writes only over the
//   revision it loaded or wrote itself; when another tab wrote since, `save` answers
//   { conflict } and writes nothing, and the `storage` event tells the other tabs at once. The
//   page lets the user choose (load the other tab's timeline, or keep this one); nothing is
//   replaced silently.
// - `read` checks what it finds like a file: the settings against their allowed values (a bad
//   value falls back to its default), the scenario by the engine's own `check` (in app.js).
//   A record that cannot be opened is kept, untouched, until the user downloads or discards it.

export const STORE_KEY = 'cpm-deferral-explorer:v1';
export const REV_KEY = `${STORE_KEY}:rev`;
const DB_NAME = 'cpm-deferral-explorer';
const DB_STORE = 'saved';
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
/** The engine's latest event time (src/scenario.rs MAX_AT_MS, 30 days): a saved playhead past it is garbage. */
export const MAX_T = 30 * 24 * 3600 * 1000;

/**
 * Past this many characters a record is kept in IndexedDB (written off the page's thread), not
 * in localStorage (a synchronous write). A 1,000-message timeline is ~110 K characters.
 */
export const BIG_TEXT = 256 * 1024;

const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** The settings of a saved record, each checked against what it may be; bad values give the default. */
export function cleanSettings(s) {
  const o = s && typeof s === 'object' && !Array.isArray(s) ? s : {};
  return {
    rules: o.rules === 'pre-cr' ? 'pre-cr' : 'post-cr',
    compare: o.compare === true,
    large: o.large === true,
    theme: o.theme === 'dark' || o.theme === 'light' ? o.theme : null,
    speed: SPEEDS.includes(o.speed) ? o.speed : 1,
    t: typeof o.t === 'number' && Number.isFinite(o.t) && o.t >= 0 && o.t <= MAX_T ? o.t : 0,
    preset: typeof o.preset === 'string' && o.preset.length <= 100 ? o.preset : '',
    // Filter ids (filters.js drops the ones it does not know when it loads).
    filters: Array.isArray(o.filters) && o.filters.length <= 16 && o.filters.every((f) => typeof f === 'string' && /^[a-z0-9-]{1,40}$/.test(f)) ? o.filters : [],
  };
}

function parseRev(v) {
  const m = /^(\d+) (\S+)$/.exec(v || '');
  return m ? { rev: Number(m[1]), tab: m[2] } : { rev: 0, tab: '' };
}

let dbPromise = null;
function db() {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('IndexedDB is not available'));
  dbPromise ||= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB_NAME, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(DB_STORE);
    r.onsuccess = () => {
      const d = r.result;
      d.onversionchange = () => {
        d.close();
        dbPromise = null;
      };
      resolve(d);
    };
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  dbPromise.catch(() => {
    dbPromise = null;
  });
  return dbPromise;
}
async function idb(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(DB_STORE, mode);
    let out;
    const req = fn(tx.objectStore(DB_STORE));
    if (req) req.onsuccess = () => { out = req.result; };
    tx.oncomplete = () => resolve(out);
    tx.onerror = () => reject(tx.error || req?.error);
    tx.onabort = () => reject(tx.error || new Error('the write was aborted'));
    // A write is sent at once (it completes even if the page is closed next); a read must not
    // be committed early (Chromium then drops the request's result).
    if (mode === 'readwrite') tx.commit?.();
  });
}

export class Store {
  constructor() {
    this.tab = Math.random().toString(36).slice(2, 10) || 'tab';
    /** The revision this tab loaded or last wrote. */
    this.rev = 0;
    this.queue = Promise.resolve();
    /** Called with { rev, tab } when another tab wrote. */
    this.onForeign = null;
    if (typeof addEventListener === 'function') {
      addEventListener('storage', (e) => {
        if (e.key !== REV_KEY && e.key !== null) return;
        const r = parseRev(localStorage.getItem(REV_KEY));
        if (r.tab !== this.tab && r.rev !== this.rev) this.onForeign?.(r);
      });
    }
  }

  /** The revision in storage now. */
  stored() {
    try {
      return parseRev(localStorage.getItem(REV_KEY));
    } catch {
      return { rev: 0, tab: '' };
    }
  }

  /**
   * The saved record: { raw, settings, scenario, problem, text }. `scenario` is the scenario object
   * (not yet checked by the engine), `problem` a sentence when the record cannot be opened, `raw`
   * the text as stored (for a download), `text` the scenario's own JSON text where it is stored
   * apart (IndexedDB). null when nothing is saved.
   */
  async read() {
    let raw;
    try {
      raw = localStorage.getItem(STORE_KEY);
    } catch (e) {
      return { raw: null, settings: cleanSettings(null), scenario: null, problem: `the browser's storage cannot be read (${e.message})` };
    }
    this.rev = this.stored().rev;
    if (raw == null) return null;
    let rec;
    try {
      rec = JSON.parse(raw);
    } catch (e) {
      return { raw, settings: cleanSettings(null), scenario: null, problem: `it is not complete or not JSON (${e.message.slice(0, 80)})` };
    }
    const settings = cleanSettings(rec);
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return { raw, settings, scenario: null, problem: 'it is not a saved page state' };
    if (rec.stored === 'indexeddb') {
      try {
        const big = await idb('readonly', (os) => os.get('scenario'));
        // A Blob (this version), or the text itself (records written before it).
        const text = big && big.rev === rec.rev ? (typeof big.text === 'string' ? big.text : big.blob instanceof Blob ? await big.blob.text() : null) : null;
        if (text == null) return { raw, settings, scenario: null, problem: 'its scenario, kept in IndexedDB, is missing' };
        raw = text;
        return { raw, text, settings, scenario: JSON.parse(text), problem: null };
      } catch (e) {
        return { raw, settings, scenario: null, problem: `its scenario cannot be read from IndexedDB (${String(e.message || e).slice(0, 80)})` };
      }
    }
    const sc = rec.scenario;
    if (!sc || typeof sc !== 'object' || Array.isArray(sc) || !Array.isArray(sc.events)) return { raw, settings, scenario: null, problem: 'it holds no scenario with events' };
    return { raw, settings, scenario: sc, problem: null };
  }

  /**
   * Write the settings and the scenario's JSON text. Resolves to { ok, where } or { conflict }
   * (another tab wrote since; nothing written) or { lost } (no storage could take it: a
   * sentence). `force`: write over another tab's revision (the user chose to).
   */
  save(settings, scenarioText, { force = false } = {}) {
    const run = () => this.write(settings, scenarioText, force);
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  async write(settings, scenarioText, force) {
    const now = this.stored();
    if (!force && now.rev !== this.rev && now.tab !== this.tab) return { conflict: now };
    const rev = Math.max(now.rev, this.rev) + 1;
    const rest = JSON.stringify({ ...cleanSettings(settings), rev });
    let where = 'localStorage';
    try {
      // A big timeline goes to IndexedDB at once: localStorage writes synchronously on the
      // page's thread (a 2 MB record: 20-70 ms, and the browser echoes it back in one more task).
      if (scenarioText.length > BIG_TEXT) throw new Error('big');
      localStorage.setItem(STORE_KEY, `{"scenario":${scenarioText},${rest.slice(1)}`);
    } catch (e1) {
      // Too big for localStorage (about 5 M characters), or big: IndexedDB, with a pointer here.
      try {
        // As a Blob: IndexedDB then copies (and compresses) no 2 MB value on the page's thread.
        const blob = await (await import('./blob-text.js')).blobOf(scenarioText);
        await idb('readwrite', (os) => os.put({ rev, blob }, 'scenario'));
        localStorage.setItem(STORE_KEY, JSON.stringify({ ...cleanSettings(settings), rev, scenario: null, stored: 'indexeddb' }));
        where = 'indexeddb';
      } catch (e2) {
        const why = e2 && e2.name === 'QuotaExceededError' ? "the browser's storage for this page is full" : `${(e2 && (e2.message || e2.name)) || e2}`.slice(0, 120);
        return { lost: `This timeline (${mib(scenarioText.length)}) cannot be kept in this browser: ${why}. After a reload the last timeline that could be kept comes back. Download this one to keep it.` };
      }
    }
    try {
      localStorage.setItem(REV_KEY, `${rev} ${this.tab}`);
    } catch {
      /* the revision is a few bytes: a full storage has already failed above */
    }
    this.rev = rev;
    return { ok: true, where };
  }

  /** Forget what is saved (the user discarded a record that cannot be opened). */
  async discard() {
    try {
      localStorage.removeItem(STORE_KEY);
      localStorage.setItem(REV_KEY, `${this.stored().rev + 1} ${this.tab}`);
      this.rev = this.stored().rev;
    } catch {
      /* nothing to remove */
    }
    try {
      await idb('readwrite', (os) => os.delete('scenario'));
    } catch {
      /* no IndexedDB: nothing there */
    }
  }
}

// ---------------------------------------------------------------- the page's side (app.js api)

/**
 * What the page does with the store: saves after edits, and a banner of its own (#keep-banner)
 * when a timeline cannot be kept (download), when another tab saved (load theirs or keep this
 * one), or when the saved record cannot be opened (download it as saved, or discard it).
 * While a choice is open nothing is written.
 */
export function keeper(api) {
  const store = new Store();
  const { state, h } = api;
  let hold = null; // 'conflict' | 'bad': saving waits for the user's choice
  let bad = null; // the record that cannot be opened
  const bar = h('div', { id: 'keep-banner', class: 'banner problem', role: 'alert', hidden: true });
  document.getElementById('banner').after(bar);
  const show = (text, buttons) => {
    bar.replaceChildren(h('span', { id: 'keep-text', text }), ...buttons.map(([id, label, fn]) => h('button', { type: 'button', id, text: label, onclick: api.guard(fn) })));
    bar.hidden = false;
  };
  const hide = () => {
    bar.hidden = true;
    bar.replaceChildren();
  };
  const settings = () => ({ rules: state.rules, preset: state.preset, compare: state.compare, large: state.large, theme: state.theme, speed: state.speed, t: state.t, filters: state.filters });
  const downloadCurrent = () => import('./files.js').then((m) => m.saveScenario(state.scenario));

  /** The engine's check of a scenario object: null, or why it cannot be opened. */
  function check(sc) {
    try {
      return state.engine.check(sc);
    } catch (e) {
      if (e instanceof api.EngineCrash) throw e;
      return `it cannot be read (${String(e.message || e).slice(0, 80)})`; // nested too deeply to serialise, say
    }
  }
  /**
   * Open a checked record: its timeline and settings (an undoable step when `record`). A big one
   * (once a timeline is drawn) is checked and run in the worker, with progress and Cancel
   * (longrun.js openRecord); `how` then says what its refusal or Cancel shows, and nothing is saved
   * over the record until its run is drawn. Answers a promise for a big one.
   */
  function open(rec, record = true, how = {}) {
    const st = rec.settings;
    const $ = api.$;
    const big = state.trace && state.engine.isBig(rec.scenario);
    const prev = state.scenario;
    if (record && prev && !big) state.history.push(prev);
    if (!big) state.scenario = rec.scenario;
    state.rules = st.rules;
    document.querySelector(`input[name="rules"][value="${state.rules}"]`).checked = true;
    state.compare = st.compare && !api.MODE.embed;
    $('compare').checked = state.compare;
    state.preset = state.presets.some((p) => p.name === st.preset) ? st.preset : '';
    $('preset').value = state.preset;
    api.setDescription(state.presets.find((p) => p.name === state.preset)?.description || rec.scenario.description || '');
    state.t = st.t;
    state.sel = null;
    state.selEvent = null;
    if (big) {
      const persist = state.persist;
      state.persist = false; // nothing is saved over the record while its run is under way
      return import('./longrun.js').then((m) => m.openRecord(api, rec, record, prev, how, refuse, persist));
    }
    api.rerun({ sync: true });
    api.drawEditor();
    api.drawPolicies();
    api.updateUndo();
  }

  function conflict() {
    hold = 'conflict';
    show('Another tab saved a different timeline. This tab is not saved until you choose.', [
      ['keep-load', "Open the other tab's timeline", loadTheirs],
      ['keep-mine', "Keep this tab's (replaces the other)", () => {
        hold = null;
        hide();
        return save({ force: true });
      }],
    ]);
  }
  async function loadTheirs() {
    const rec = await store.read();
    if (rec?.scenario) await state.engine.prepare(rec.scenario);
    const cannot = (err) => show(`The other tab's timeline cannot be opened: ${err}`, [['keep-mine', "Keep this tab's", () => save({ force: true }).then(hide)]]);
    // A big one is checked by its run, in the worker (open); meanwhile nothing is saved.
    const big = rec?.scenario && state.trace && state.engine.isBig(rec.scenario);
    const err = rec?.scenario ? (big ? null : check(rec.scenario)) : rec?.problem || 'nothing is saved';
    if (err) return cannot(err);
    if (big) {
      hide();
      return open(rec, true, {
        done: () => {
          hold = null; // theirs is this tab's now (read() took its revision)
        },
        refused: (msg) => (cannot(msg), ''),
        cancelled: () => (conflict(), "The other tab's timeline was not opened: its run was cancelled."),
      });
    }
    hold = null;
    hide();
    open(rec);
  }
  store.onForeign = () => {
    if (state.persist && !bad) conflict();
  };

  async function save({ force = false } = {}) {
    if (!state.persist || !state.scenario) return null;
    if (hold && !force) return { held: hold };
    let json;
    try {
      // A big timeline's change not yet checked by its run (app.js rerunLong) is not kept yet.
      const sc = state.long?.unchecked ? state.drawn.scenario : state.scenario;
      json = state.texts?.get(sc) ?? api.scenarioJson(sc);
    } catch (e) {
      return { lost: e.message };
    }
    const r = await store.save(settings(), json, { force });
    if (r.conflict) conflict();
    else if (r.lost) show(r.lost, [['keep-download', 'Download this timeline', downloadCurrent]]);
    else if (!hold) hide();
    if (r.ok) document.documentElement.dataset.saved = String(store.rev);
    return r;
  }

  /**
   * The saved record cannot be opened: say so, keep it until the user chooses. `again`: it was
   * not opened but may be (its run was cancelled): a button opens it.
   */
  function refuse(rec, again = false) {
    bad = rec;
    hold = 'bad';
    show(`Your saved timeline ${again ? 'was not opened' : 'cannot be opened'}: ${String(rec.problem).slice(0, 300)}. It is kept as it was until you choose; showing ${again ? 'another timeline' : 'a preset'} meanwhile.`, [
      ...(again ? [['keep-open', 'Open it', () => {
        bad = null;
        hold = null;
        hide();
        return open(rec, true);
      }]] : []),
      ['keep-raw', 'Download it as saved', () => import('./files.js').then((m) => m.download(rec.raw ?? '', 'saved-timeline.json', 'application/json'))],
      ['keep-discard', 'Discard it', async () => {
        await store.discard();
        bad = null;
        hold = null;
        hide();
        return save();
      }],
    ]);
  }

  return { store, save, read: () => store.read(), refuse, check, open, get held() { return hold; } };
}
