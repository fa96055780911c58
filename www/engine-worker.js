// The engine in a module Worker (issue 13, item 9): a big timeline's run (20,000 messages: 1-2 s)
// is made here, off the page's thread, by the speed-optimised module (pkg/export/). Started by
// www/longrun.js with the module already compiled; one worker per run (a cancelled or superseded
// run is ended with terminate()), and the worker of the drawn trace answers its `raw` asks.
import init, * as engine from '../pkg/export/cpm_deferral.js';

let ready = null;

/** The typed arrays' buffers of a packed trace, moved rather than copied to the page. */
function buffers(p, out) {
  if (p && p.packed === 2) for (const a of [p.steps, p.chats, p.ends]) if (a && a.buffer) out.push(a.buffer);
  return out;
}

function answer(id, fn) {
  try {
    const value = fn();
    const moved = value && value.post ? buffers(value.post, buffers(value.pre, [])) : buffers(value, []);
    postMessage({ id, value }, [...new Set(moved)]);
  } catch (e) {
    const panic = globalThis.__cpmPanic;
    if (panic || e instanceof WebAssembly.RuntimeError) postMessage({ id, panic: String(panic || e.message || e) });
    else postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
}

onmessage = async ({ data: m }) => {
  if (m.op === 'init') {
    ready = init({ module_or_path: m.module }).then(
      () => postMessage({ id: m.id, value: true }),
      (e) => postMessage({ id: m.id, error: `the engine did not start in a worker: ${e && e.message ? e.message : e}` }),
    );
    return;
  }
  await ready;
  if (m.op === 'run') answer(m.id, () => (m.both ? engine.run_both(m.json) : engine.run(m.json, m.rules)));
  else if (m.op === 'raw') answer(m.id, () => engine.raw(m.rules, m.index) ?? '');
};
