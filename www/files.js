// Scenario files: open (file picker or drop) and save, as the versioned JSON format of
// docs/trace-contract.md ("format": "cpm-deferral-scenario", "version": 1). Loaded on demand.

export const MAX_FILE = 8 * 1024 * 1024; // the engine's limit too (scenario::MAX_BYTES)
export const FORMAT = 'cpm-deferral-scenario';

const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Read and check a scenario file. The size is checked before anything is read.
 * @param {File} file
 * @param {(scenario: object) => string|null} check  the engine's check: null or "field: problem"
 * @returns {Promise<{scenario?: object, error?: string}>}
 */
export async function readScenarioFile(file, check) {
  const name = file.name || 'the file';
  if (file.size > MAX_FILE) return { error: `Cannot open ${name}: it is ${mib(file.size)}, more than the ${mib(MAX_FILE)} a scenario file may have.` };
  let text;
  try {
    text = await file.text();
  } catch (e) {
    return { error: `Cannot read ${name}: ${e.message || e}` };
  }
  return parseScenarioText(text, name, check);
}

/** Parse and check scenario JSON text; errors name the file and the field. */
export function parseScenarioText(text, name, check) {
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return { error: `Cannot open ${name}: it is not JSON (${e.message}).` };
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { error: `Cannot open ${name}: it is not a scenario (expected a JSON object with "format": "${FORMAT}").` };
  if (obj.format !== FORMAT) return { error: `Cannot open ${name}: format: expected "${FORMAT}", found ${JSON.stringify(obj.format ?? null)}.` };
  const problem = check(obj);
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
  const out = { format: format || FORMAT, version: version ?? 1, ...rest };
  download(`${JSON.stringify(out, null, 2)}\n`, fileName(scenario.title, 'json'), 'application/json');
}

/** Open a file in the page (api: the page's hooks, see app.js): checked, then an undoable edit. */
export async function openFile(api, file) {
  const { state, $ } = api;
  const r = await readScenarioFile(file, (sc) => state.engine.check(sc));
  if (r.error) {
    api.notice(r.error);
    return;
  }
  api.notice('');
  state.preset = '';
  $('preset').value = '';
  api.setDescription(r.scenario.description || '');
  state.sel = null;
  state.t = 0;
  api.edit(r.scenario, { selEvent: null });
  api.drawPolicies();
}
