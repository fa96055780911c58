// Makes docs/screenshot.png: the bye-480-path-a preset at 1280×720, paused during replay,
// with a delivered message selected and the CR panel open at the sentence of that step. Run after scripts/build-wasm.sh: node tests-web/screenshot.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../scripts/serve.mjs';
import { launch, watchErrors } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = createServer(ROOT);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const b = await launch();
try {
  const page = await b.context.newPage();
  const errors = watchErrors(page);
  await page.goto(`http://127.0.0.1:${server.address().port}/www/`);
  await page.waitForSelector('html[data-ready="yes"]');
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  await page.evaluate(() => {
    localStorage.clear();
    localStorage.setItem('cpm-deferral-explorer:lead-seen', '1'); // no first-visit line
  });
  await page.reload();
  await page.waitForSelector('html[data-ready="yes"]');
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  await page.selectOption('#preset', 'bye-480-path-a');
  const i = await page.evaluate(() => {
    const st = window.__explorer.state.trace.steps;
    const k = st.findIndex((s) => s.kind === 'deliver');
    return k >= 0 ? k : Math.floor(st.length / 2);
  });
  await page.keyboard.press('Home');
  for (let k = 0; k <= i; k++) await page.keyboard.press('ArrowRight');
  await page.click('#cr-toggle');
  await page.waitForSelector('#crpanel .cr-s.current');
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(ROOT, 'docs/screenshot.png') });
  if (errors.length) throw new Error(errors.join('\n'));
  console.log('docs/screenshot.png written');
} finally {
  await b.close();
  server.close();
}
