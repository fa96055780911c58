// The judge of a capture (pkg/judge/: the engine, the capture reader and `conform`'s judge) in a
// module Worker, so judging a big capture never holds the page's thread, and Cancel is
// terminate(). Started by www/judge.js; one worker per judgement.
import init, { judge_capture } from '../pkg/judge/cpm_deferral.js';

onmessage = async ({ data: m }) => {
  try {
    await init({ module_or_path: new URL('../pkg/judge/cpm_deferral_bg.wasm', import.meta.url) });
    postMessage({ value: judge_capture(new Uint8Array(m.bytes), m.rules, m.pf || undefined, m.cf || undefined) });
  } catch (e) {
    postMessage({ error: String(e && e.message ? e.message : e) });
  }
};
