// Scenario files: open (file picker or drop) and save, as the versioned JSON format of
// docs/trace-contract.md ("format": "cpm-deferral-scenario", "version": 1, or 2 with a tour: README
// "Tours"). Loaded on demand.

export const MAX_FILE = 8 * 1024 * 1024; // the engine's limit too (scenario::MAX_BYTES)
export const FORMAT = 'cpm-deferral-scenario';

/** A file text longer than this may be a big timeline (FAST_EVENTS events: about 200 KB). */
const BIG_TEXT = 100000;

const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Read and check a scenario file. The size is checked before anything is read.
 * @param {File} file
 * @param {(scenario: object) => string|null} check  the engine's check: null or "field: problem"
 * @returns {Promise<{scenario?: object, error?: string}>}
 */
export async function readScenarioFile(file, check, prepare = null) {
  const name = String(file.name || 'the file').slice(0, 120);
  if (file.size > MAX_FILE) return { error: `Cannot open ${name}: it is ${mib(file.size)}, more than the ${mib(MAX_FILE)} a scenario file may have.` };
  let bytes;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    return { error: `Cannot read ${name}: ${e.message || e}` };
  }
  // Strict UTF-8, as the CLI reads it (src/input.rs): invalid or overlong bytes are refused, not
  // turned into U+FFFD; a BOM is kept for the engine to name.
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { error: `Cannot open ${name}: not UTF-8 text (invalid or overlong UTF-8 at byte ${utf8ErrorAt(bytes)}); save it as UTF-8.` };
  }
  if (prepare) await prepare(text); // a file with a tour is checked by the second module
  return parseScenarioText(text, name, check);
}

/** The offset of the first byte that is not well-formed UTF-8 (RFC 3629 §4), or -1. */
export function utf8ErrorAt(b) {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    let n;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) { n = 2; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/**
 * Parse and check scenario JSON text; errors name the file and the field. `check` is the
 * engine's check of the text as written (one validator for the page and the CLI: a BOM, 1000.0,
 * 1e3, -0 or "version": 1.0 are refused as `cpm-deferral check` refuses them).
 */
export function parseScenarioText(text, name, check) {
  if (text.startsWith('\ufeff')) return { error: `Cannot open ${name}: ${check(text)}` };
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return { error: `Cannot open ${name}: it is not JSON (${e.message.slice(0, 120)}).` };
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { error: `Cannot open ${name}: it is not a scenario (expected a JSON object with "format": "${FORMAT}").` };
  if (obj.format !== FORMAT) return { error: `Cannot open ${name}: format: expected "${FORMAT}", found ${JSON.stringify(obj.format ?? null).slice(0, 80)}.` };
  const problem = check(text);
  if (problem) return { error: `Cannot open ${name}: ${problem}` };
  return { scenario: obj };
}

/** A file name from a title: lower case, dashes, at most 60 characters. */
export function fileName(title, ext) {
  const base = String(title || 'scenario').toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'scenario';
  return `${base}.${ext}`;
}

/** Offer bytes or text as a download. */
export function download(data, name, type) {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** Save the scenario as a versioned JSON file (format and version first). */
export function saveScenario(scenario) {
  const { format, version, ...rest } = scenario;
  const out = { format: format || FORMAT, version: rest.tour ? 2 : version ?? 1, ...rest };
  download(`${JSON.stringify(out, null, 2)}\n`, fileName(scenario.title, 'json'), 'application/json');
}

/** Open a file in the page (api: the page's hooks, see app.js): checked, then an undoable edit. */
export async function openFile(api, file) {
  const { state, $ } = api;
  // A big file, once something is drawn, is checked as written by its run, in the worker
  // (longrun.js; a refusal names the file there); any other is checked here, at once.
  let later = null;
  const check = (text) => {
    if (state.trace && text.length > BIG_TEXT && !text.startsWith('\ufeff')) {
      later = text;
      return null;
    }
    return state.engine.checkText(text);
  };
  const r = await readScenarioFile(file, check, (text) => state.engine.prepare(text));
  const name = String(file.name || 'the file').slice(0, 120);
  if (!r.error && later && !state.engine.isBig(r.scenario)) {
    const problem = state.engine.checkText(later);
    if (problem) r.error = `Cannot open ${name}: ${problem}`;
    later = null;
  }
  if (r.error) {
    api.notice(r.error);
    return;
  }
  api.notice('');
  state.preset = '';
  $('preset').value = '';
  api.setDescription(r.scenario.description || '');
  // Checked as written, by the engine; shown from its start, nothing selected.
  api.edit(r.scenario, { selEvent: null, checked: !later, fresh: true, file: later && { text: later, name } });
  api.drawPolicies();
}
