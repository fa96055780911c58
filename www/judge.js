// "Judge a capture" (issue 14, "Bring your own PF"): a pcap or pcapng of a real PF's traffic,
// read in this browser (it never leaves it), judged against §8.3.2.9 by the same code as
// `cpm-deferral conform` (pkg/judge/, in a Worker; on the page's thread where no Worker may
// start). Shows the verdict per sentence of the amended clause (each a link into the CR panel),
// the first deviation on each side, the policy options consistent with the capture, what the
// judge had to infer, and "Make this a scenario": the timeline rebuilt from the capture, opened
// in the page as an ordinary, editable one. Beside the table, the observed ladder (the capture's
// messages, as the capture shows them) and the expected one (the model's run of the rebuilt
// timeline), drawn by the page's own renderer side by side as in Compare, each deviation marked
// on both (the Ladder's `diff` row); a deviation's row scrolls both ladders there. Reading shows progress and can be cancelled; so can
// the judging. Loaded on use (File › Judge a capture…).
import { ensureCss } from './lazy-css.js';
import { Ladder } from './ladder.js';

/** The largest capture the page reads in its worker, streaming (memory stays bounded there; the
 * limit keeps a read within minutes). The CLI has none. */
export const MAX_BYTES = 1e9;
/** The largest capture read on the page's thread, held whole (where no Worker may start). */
export const MAX_BYTES_ON_THREAD = 256 * 1024 * 1024;

let box = null;
let job = null; // { cancel() } of the reading or judging under way

function fmtBytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`;
}

function build(api) {
  const { h } = api;
  const file = h('input', { type: 'file', id: 'judge-file', accept: '.pcap,.pcapng,.cap,application/vnd.tcpdump.pcap', 'aria-label': 'Capture file (pcap or pcapng)' });
  const rules = h('select', { id: 'judge-rules', 'aria-label': 'Rules to judge against' },
    h('option', { value: 'post-cr', text: 'the amended text (post-CR)' }), h('option', { value: 'pre-cr', text: 'the text before the CR (pre-CR)' }));
  const pf = h('input', { id: 'judge-pf', placeholder: 'found from the capture', size: 18, 'aria-label': 'The PF, IP or IP:port (optional)' });
  const cf = h('input', { id: 'judge-cf', placeholder: 'found from the capture', size: 18, 'aria-label': 'The CF, IP or IP:port (optional)' });
  box = h('section', { class: 'judge', id: 'judge', role: 'dialog', 'aria-labelledby': 'judge-h', tabindex: -1 },
    h('div', { class: 'judge-head' },
      h('h2', { id: 'judge-h', text: 'Judge a capture against §8.3.2.9' }),
      h('button', { type: 'button', id: 'judge-close', 'aria-label': 'Close', text: '×' })),
    h('p', { class: 'muted', id: 'judge-privacy', text: 'The capture is read in this browser and never leaves it: nothing is uploaded. The same judge runs in the command line as cpm-deferral conform.' }),
    h('div', { class: 'judge-form' },
      h('label', {}, document.createTextNode('Capture (pcap, pcapng) '), file),
      h('label', {}, document.createTextNode('Rules '), rules),
      h('label', {}, document.createTextNode('PF '), pf),
      h('label', {}, document.createTextNode('CF '), cf)),
    h('p', { class: 'judge-drop muted', id: 'judge-drop', text: 'Or drop a capture here.' }),
    h('div', { class: 'judge-progress', id: 'judge-progress', hidden: true, role: 'status' },
      h('span', { id: 'judge-progress-text' }), document.createTextNode(' '),
      h('button', { type: 'button', id: 'judge-cancel', text: 'Cancel' })),
    h('p', { class: 'judge-error', id: 'judge-error', role: 'alert', hidden: true }),
    h('div', { id: 'judge-result', 'aria-live': 'polite' }));
  document.body.append(box);
  const close = () => {
    job?.cancel();
    box.hidden = true;
    api.$('judge-open')?.focus();
  };
  box.querySelector('#judge-close').addEventListener('click', close);
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      if (job) job.cancel();
      else close();
    }
  });
  box.querySelector('#judge-cancel').addEventListener('click', () => job?.cancel());
  file.addEventListener('change', () => file.files[0] && judgeFile(api, file.files[0]));
  const drop = box.querySelector('#judge-drop');
  box.addEventListener('dragover', (e) => {
    e.preventDefault();
    e.stopPropagation();
    drop.classList.add('over');
  });
  box.addEventListener('dragleave', () => drop.classList.remove('over'));
  box.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation(); // not the page's own drop (a scenario file)
    drop.classList.remove('over');
    const f = e.dataTransfer?.files?.[0];
    if (f) judgeFile(api, f);
  });
}

/** Open the panel. */
export async function open(api) {
  await ensureCss();
  if (!box) build(api);
  box.hidden = false;
  box.focus();
}

function progress(text) {
  const p = box.querySelector('#judge-progress');
  p.hidden = text === null;
  if (text !== null) box.querySelector('#judge-progress-text').textContent = text;
}

function error(text) {
  const e = box.querySelector('#judge-error');
  e.hidden = !text;
  e.textContent = text || '';
}

/** Reads a File in slices with progress; resolves to its bytes, or null when cancelled. */
function tooBig(f, max) {
  return new Error(`${f.name} is ${fmtBytes(f.size)}; the page reads captures up to ${fmtBytes(max)}: cut it to the group session (editcap -A/-B) or use cpm-deferral conform, which has no limit`);
}

async function readBytes(f, owner) {
  if (f.size > MAX_BYTES_ON_THREAD) throw tooBig(f, MAX_BYTES_ON_THREAD);
  const reader = f.stream().getReader();
  let cancelled = false;
  job = { cancel: () => { cancelled = true; reader.cancel().catch(() => {}); }, owner };
  const out = new Uint8Array(f.size);
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read().catch((e) => (cancelled ? { done: true } : Promise.reject(e)));
    if (cancelled) return null;
    if (done) break;
    if (at + value.length > out.length) throw new Error(`${f.name} changed while it was read`);
    out.set(value, at);
    at += value.length;
    progress(`Reading ${f.name}: ${fmtBytes(at)} of ${fmtBytes(f.size)}…`);
  }
  return out.subarray(0, at);
}

/**
 * Runs the judge in a Worker, which reads the File itself, streaming, and reports progress; where
 * no Worker may start, reads the file here (held whole, up to MAX_BYTES_ON_THREAD) and judges on
 * this thread. Resolves to the judgement's JSON, or null when cancelled.
 */
function runJudge(f, opts, mine) {
  return new Promise((resolve, reject) => {
    let w = null;
    try {
      w = new Worker(new URL('./judge-worker.js', import.meta.url), { type: 'module' });
    } catch {
      w = null;
    }
    const onThread = async () => {
      try {
        const bytes = await readBytes(f, mine);
        if (bytes === null) {
          resolve(null);
          return;
        }
        job = { cancel: () => {}, owner: mine };
        progress(`Judging ${f.name} (${fmtBytes(bytes.length)}) against §8.3.2.9…`);
        const m = await import('../pkg/judge/cpm_deferral.js');
        await m.default({ module_or_path: new URL('../pkg/judge/cpm_deferral_bg.wasm', import.meta.url) });
        resolve(m.judge_capture(bytes, opts.rules, opts.pf || undefined, opts.cf || undefined));
      } catch (e) {
        reject(e);
      }
    };
    if (!w) {
      onThread();
      return;
    }
    job = { cancel: () => { w.terminate(); resolve(null); }, owner: mine };
    w.onmessage = ({ data }) => {
      if (data.progress) {
        const p = data.progress;
        progress(p.judging
          ? `Judging ${f.name} against §8.3.2.9 (${p.messages} messages read)…`
          : `Reading ${f.name} in the judge: ${fmtBytes(p.read)} of ${fmtBytes(p.size)}, ${p.messages} messages…`);
        box.querySelector('#judge-progress').dataset.read = String(p.read);
        return;
      }
      w.terminate();
      if (data.error) reject(new Error(data.error));
      else resolve(data.value);
    };
    w.onerror = (e) => {
      e.preventDefault();
      w.terminate();
      onThread(); // the worker script could not load (a strict worker-src): judge here instead
    };
    w.postMessage({ file: f, ...opts });
  });
}

/** Judges a capture file and shows the result. */
export async function judgeFile(api, f) {
  job?.cancel();
  error('');
  box.querySelector('#judge-result').replaceChildren();
  const opts = { rules: box.querySelector('#judge-rules').value, pf: box.querySelector('#judge-pf').value.trim(), cf: box.querySelector('#judge-cf').value.trim() };
  const mine = {};
  const current = () => job && job.owner === mine;
  try {
    if (f.size > MAX_BYTES) throw tooBig(f, MAX_BYTES);
    progress(`Reading ${f.name}…`);
    const json = await runJudge(f, opts, mine);
    if (!current()) return; // superseded by a newer file (which cancelled this one)
    job = null;
    progress(null);
    if (json === null) {
      error('Cancelled: nothing was judged.');
      return;
    }
    show(api, JSON.parse(json), f.name);
  } catch (e) {
    job = null;
    progress(null);
    const msg = String(e && e.message ? e.message : e);
    error(/judge\/cpm_deferral|Failed to fetch|dynamically imported/.test(msg)
      ? 'The judge did not load (pkg/judge/ is missing here, e.g. in the offline single file): use a served copy of the explorer, or cpm-deferral conform.'
      : `This capture cannot be judged: ${msg.length > 400 ? `${msg.slice(0, 400)}…` : msg}`);
  }
}

const VERDICT = { pass: 'PASS: the PF conforms', fail: 'FAIL: the PF deviates', inconclusive: 'INCONCLUSIVE: no deviation, but the capture does not show enough' };

function show(api, j, name) {
  const { h } = api;
  const res = box.querySelector('#judge-result');
  const clauseLink = (id) => h('button', { type: 'button', class: 'linkish judge-clause', 'data-clause': id, title: 'Show this sentence in the CR panel', text: id });
  const rows = j.clauses.map((c) => h('tr', { 'data-verdict': c.verdict },
    h('td', {}, clauseLink(c.id)), h('td', { class: `v-${c.verdict.replace(' ', '-')}`, text: c.verdict }), h('td', { text: c.title }), h('td', { class: 'muted', text: c.why })));
  const devs = j.deviations.map((d, k) => h('li', { class: 'judge-dev' },
    clauseLink(d.clause), document.createTextNode(` towards the ${d.side}, at ${(d.at_ms / 1000).toFixed(3)} s, ${d.frame ? `frame ${d.frame}` : 'no frame'}: expected `),
    h('code', { text: d.expected }), document.createTextNode(', observed '), h('code', { text: d.observed }), document.createTextNode(' '),
    h('button', { type: 'button', class: 'judge-goto', 'data-dev': k, title: 'Scroll both ladders to this deviation and mark it', text: 'Show on the ladders' })));
  const pols = Object.entries(j.policies).map(([p, opts]) => h('li', {}, h('code', { text: p }), document.createTextNode(`: ${opts.length ? opts.join(' or ') : 'none'}`)));
  const inferred = (j.inferred || []).map((x) => h('li', { text: x }));
  // What the capture shows that the judge's model does not reach (src/judge/limits.rs): the
  // verdict is then inconclusive even with deviations, which stay listed.
  const notJudged = (j.not_judged || []).map((x) => h('li', { text: x }));
  const roles = j.roles;
  res.replaceChildren(
    h('p', { class: `judge-verdict v-${j.verdict}`, id: 'judge-verdict', text: `${notJudged.length ? 'INCONCLUSIVE: the capture shows what the judge does not model' : VERDICT[j.verdict] || j.verdict} (rules ${j.rules})` }),
    ...(notJudged.length ? [h('ul', { id: 'judge-not-judged', class: 'muted' }, ...notJudged)] : []),
    h('p', { class: 'muted', text: `${name}: ${j.capture.messages} messages, ${j.capture.pf_messages} of them the PF's. PF ${roles.pf}, CF ${roles.cf ?? 'not seen'}, Carol's side ${roles.carol ?? 'not seen'}, S-CSCF ${roles.scscf ?? 'not seen'}.` }),
    h('div', { class: 'judge-actions' },
      h('button', { type: 'button', id: 'judge-scenario', title: 'Open the timeline rebuilt from the capture in the explorer, editable', text: 'Make this a scenario' }),
      h('button', { type: 'button', id: 'judge-download', text: 'Download the judgement (.json)' })),
    h('table', { class: 'judge-table', id: 'judge-clauses' },
      h('caption', { text: 'Per sentence of the amended §8.3.2.9' }),
      h('thead', {}, h('tr', {}, h('th', { text: 'sentence' }), h('th', { text: 'verdict' }), h('th', { text: 'says' }), h('th', { text: 'why' }))),
      h('tbody', {}, ...rows)),
    ...(devs.length ? [h('h3', { text: 'First deviation on each side' }), h('ul', { id: 'judge-deviations' }, ...devs)] : []),
    ...(j.ladders ? [ladders(api, j)] : []),
    h('h3', { text: 'Open questions: options consistent with the capture (not in the CR)' }), h('ul', { id: 'judge-policies' }, ...pols),
    ...(inferred.length ? [h('h3', { text: 'Inferred (no message shows these)' }), h('ul', { id: 'judge-inferred' }, ...inferred)] : []));
  for (const b of res.querySelectorAll('.judge-goto')) b.addEventListener('click', () => markDeviation(j, Number(b.dataset.dev), true));
  if (j.ladders) {
    for (const l of drawn) l.ladder.update(l.trace, { cursor: l.trace.steps.length });
    markDeviation(j, 0, false);
  }
  for (const b of res.querySelectorAll('.judge-clause')) {
    b.addEventListener('click', () => {
      const id = b.dataset.clause;
      if (!id.startsWith('cr-')) return;
      import('./crpanel.js').then((m) => m.show(api, id.slice(3))).catch(() => {});
    });
  }
  res.querySelector('#judge-scenario').addEventListener('click', async () => {
    const text = JSON.stringify({ ...j.scenario, title: `Rebuilt from ${name}`.slice(0, 120) });
    const files = await import('./files.js');
    await files.openFile(api, new File([text], `${name}.json`, { type: 'application/json' }));
    box.hidden = true;
  });
  res.querySelector('#judge-download').addEventListener('click', () => {
    import('./files.js').then((m) => m.download(`${JSON.stringify(j, null, 2)}\n`, `${name.replace(/\.[^.]*$/, '')}-judgement.json`, 'application/json'));
  });
}

/** The two ladders drawn now: [{ side: 'observed'|'expected', ladder, trace }]. */
let drawn = [];

/** The observed and the expected ladder side by side (as in Compare), empty until drawn. */
function ladders(api, j) {
  const { h } = api;
  drawn = [];
  const pane = (side, title) => {
    const host = h('div', { class: 'judge-pane', id: `judge-${side}` }, h('div', { class: 'pane-title', text: title }));
    const trace = j.ladders[side];
    const ladder = new Ladder(host, { label: `${title}: ladder`, onSelect: () => {} });
    drawn.push({ side, ladder, trace });
    return host;
  };
  const n = j.ladders.observed.steps.length;
  return h('div', { class: 'judge-ladders-box' },
    h('h3', { text: 'Observed and expected ladders' }),
    h('p', { class: 'muted', id: 'judge-ladders-note', text: j.deviations.length
      ? 'The first deviation is marked on both ladders; each deviation above scrolls both there.'
      : `No deviation: ${n} message${n === 1 ? '' : 's'} of the capture, beside the model's run of the timeline rebuilt from it.` }),
    h('div', { class: 'judge-ladders', id: 'judge-ladders' },
      pane('observed', `Observed: the capture (${n} message${n === 1 ? '' : 's'})`),
      pane('expected', "Expected: the model's PF on the rebuilt timeline")));
}

/** Marks deviation k on both ladders (its step on each) and scrolls both there. */
function markDeviation(j, k, focus) {
  const d = j.deviations[k];
  for (const l of drawn) {
    const i = d ? d[`${l.side}_step`] : null;
    l.ladder.setDiff(i ?? null);
    if (i != null) l.ladder.reveal(i, true);
  }
  if (focus) drawn[0]?.ladder.scroll.focus();
}
