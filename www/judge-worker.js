// The judge of a capture (pkg/judge/: the engine, the capture reader and `conform`'s judge) in a
// module Worker, so judging a big capture never holds the page's thread, and Cancel is
// terminate(). Started by www/judge.js; one worker per judgement. Given a File, the worker reads
// it itself, slice by slice, into the streaming judge (CaptureJudging, src/judge/stream.rs):
// the capture is never held whole, and a progress message goes back about every megabyte.
import init, { judge_capture, CaptureJudging } from '../pkg/judge/cpm_deferral.js';

const STEP = 1 << 20;

onmessage = async ({ data: m }) => {
  try {
    await init({ module_or_path: new URL('../pkg/judge/cpm_deferral_bg.wasm', import.meta.url) });
    if (!m.file) {
      postMessage({ value: judge_capture(new Uint8Array(m.bytes), m.rules, m.pf || undefined, m.cf || undefined) });
      return;
    }
    const j = new CaptureJudging();
    const reader = m.file.stream().getReader();
    let read = 0;
    let told = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const more = j.push(value);
      read += value.length;
      if (read - told >= STEP) {
        told = read;
        postMessage({ progress: { read, size: m.file.size, messages: j.messages() } });
      }
      if (!more) {
        reader.cancel().catch(() => {});
        break;
      }
    }
    postMessage({ progress: { read, size: m.file.size, messages: j.messages(), judging: true } });
    postMessage({ value: j.finish(m.rules, m.pf || undefined, m.cf || undefined) });
  } catch (e) {
    postMessage({ error: String(e && e.message ? e.message : e) });
  }
};
