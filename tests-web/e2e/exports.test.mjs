// Exports in Chromium: every button downloads a file of its kind. The SVG parses, the PNG has the
// SVG's full height (and comes in parts past the canvas limit), the pcap has the libpcap magic,
// and the Mermaid text rendered by Mermaid itself keeps every label, ; # < > and quotes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useBrowser, newPage, openExplorer, shot, pngSize } from '../harness.mjs';

const env = useBrowser();

const TITLE = 'Tricky; #1 <b>"q"</b> \'a\' & b';
function tricky() {
  return {
    format: 'cpm-deferral-scenario', version: 1, title: TITLE, setup: 'established', t1_ms: 500,
    members: [{ id: 'alice', name: 'Al;ce #<1> "A"' }, { id: 'bob', name: "Bob's <b>" }],
    events: [
      { at_ms: 1000, kind: 'message', from: 'alice', text: 'x; #y <z> "w"' },
      { at_ms: 2000, kind: 'bye', reason: 'SIP;cause=480;text="Temp; #1 <x>"' },
      { at_ms: 3000, kind: 'message', from: 'bob', text: 'hi' },
      { at_ms: 9000, kind: 'register', reaction_ms: 500 },
    ],
  };
}

async function exportFile(page, kind) {
  if (!(await page.locator('#file-menu').evaluate((d) => d.open))) await page.click('#file-menu summary');
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click(`[data-export="${kind}"]`)]);
  return { name: dl.suggestedFilename(), buf: fs.readFileSync(await dl.path()) };
}
const svgInfo = (page, text) => page.evaluate((t) => {
  const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
  const svg = doc.documentElement;
  return {
    error: doc.getElementsByTagName('parsererror').length > 0, root: svg.nodeName,
    width: Number(svg.getAttribute('width')), height: Number(svg.getAttribute('height')), texts: [...doc.querySelectorAll('text')].map((e) => e.textContent),
  };
}, text);

test('each export downloads: SVG parses, PNG full height, transcript, Mermaid, PlantUML, pcap', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: tricky() });
  const steps = await page.evaluate(() => window.__explorer.state.trace.steps.length);

  const svg = await exportFile(page, 'svg');
  assert.match(svg.name, /^tricky-1-b-q-b-a-b-post-cr\.svg$/);
  const info = await svgInfo(page, svg.buf.toString('utf8'));
  assert.equal(info.error, false, 'the SVG parses');
  assert.equal(info.root, 'svg');
  assert.ok(info.height > steps * 10, `full length: ${info.height} px for ${steps} steps`);
  assert.ok(info.texts.some((x) => x.includes(TITLE)), 'the title is text in the SVG');

  const png = await exportFile(page, 'png');
  assert.match(png.name, /\.png$/);
  const size = pngSize(png.buf);
  assert.equal(size.width, info.width, 'PNG width');
  assert.equal(size.height, info.height, 'PNG has the full height of the SVG');
  assert.ok(png.buf.length > 10000, `PNG not empty (${png.buf.length} bytes)`);
  fs.writeFileSync('test-results/export-ladder.png', png.buf);

  const txt = (await exportFile(page, 'transcript')).buf.toString('utf8');
  assert.ok(txt.includes(TITLE), 'transcript names the scenario');
  assert.match(txt, /BYE/);

  const puml = (await exportFile(page, 'plantuml')).buf.toString('utf8');
  assert.match(puml, /^@startuml/);
  assert.match(puml.trimEnd(), /@enduml$/);

  const pcap = await exportFile(page, 'pcap');
  assert.match(pcap.name, /\.pcap$/);
  const magic = pcap.buf.readUInt32LE(0);
  assert.ok(magic === 0xa1b2c3d4 || magic === 0xd4c3b2a1, `pcap magic ${magic.toString(16)}`);
  assert.ok(pcap.buf.length > 24 + 16, 'pcap has packets');

  const mmd = await exportFile(page, 'mermaid');
  assert.match(mmd.name, /\.mmd$/);
  fs.writeFileSync('test-results/export.mmd', mmd.buf);
  assert.equal(await page.locator('#banner').isHidden(), true, 'no message');
  assert.deepEqual(errors, []);

  // Mermaid itself renders the export; every label comes out intact.
  const { page: mp, errors: me } = await newPage(t, env);
  await mp.goto(`${env.origin}/tests-web/pages/mermaid.html`);
  await mp.waitForFunction(() => window.mermaidReady === true);
  const text = mmd.buf.toString('utf8');
  const r = await mp.evaluate((x) => window.renderMermaid(x), text);
  assert.equal(r.error, null);
  const drawn = r.texts.join('\n');
  const unescape = (s) => s.replace(/#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)));
  const labels = [];
  for (const line of text.split('\n').slice(1)) {
    const m = /^\s*(?:title (.*)|participant \S+ as (.*)|Note over [^:]+: (.*)|\S+?-{1,2}>>\S+?: (.*))$/.exec(line);
    if (m) labels.push(unescape((m[1] ?? m[2] ?? m[3] ?? m[4]).trim()));
  }
  assert.ok(labels.length > steps / 2, `labels found: ${labels.length}`);
  for (const l of [`${TITLE} (rules: post-cr)`, 'Al;ce #<1> "A"', "Bob's <b>"]) assert.ok(labels.includes(l), `export has ${l}`);
  const missing = labels.filter((l) => !drawn.includes(l.replace(/\s+/g, ' ')));
  assert.deepEqual(missing, [], 'every label drawn by Mermaid as it is');
  await mp.screenshot({ path: 'test-results/export-mermaid.png' });
  assert.deepEqual(me, []);
});

test('PNG past the canvas limit comes in parts that add up to the full height', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: tricky() });
  const svg = await svgInfo(page, (await exportFile(page, 'svg')).buf.toString('utf8'));
  await page.evaluate(() => {
    window.__explorer.api.canvasLimit = 700;
  });
  await page.click('#file-menu summary');
  await page.click('[data-export="png"]');
  await page.waitForSelector('#png-parts a');
  assert.match(await page.locator('#banner-text').textContent(), /taller than this browser's canvas limit \(700 px\): the PNG is split into \d+ parts/);
  const n = await page.locator('#png-parts a').count();
  assert.equal(n, Math.ceil(svg.height / 700));
  await shot(page, 'export-png-parts');
  let total = 0;
  for (let i = 0; i < n; i++) {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#png-parts a').nth(i).click()]);
    assert.equal(dl.suggestedFilename(), `tricky-1-b-q-b-a-b-post-cr-part-${i + 1}-of-${n}.png`);
    const s = pngSize(fs.readFileSync(await dl.path()));
    assert.equal(s.width, svg.width);
    assert.ok(s.height <= 700);
    total += s.height;
  }
  assert.equal(total, svg.height, 'the parts add up to the full height');
  assert.deepEqual(errors, []);
});

test('a ladder taller than the real canvas limit (1,750 steps, ~46,800 px): SVG whole, PNG in parts, nothing cropped', async (t) => {
  const events = [];
  for (let i = 0; i < 200; i++) events.push({ at_ms: 1000 + i * 400, kind: 'message', from: i % 2 ? 'bob' : 'alice', text: `m${i}` });
  events.push({ at_ms: 30200, kind: 'bye', reason: 'SIP;cause=480' }, { at_ms: 60200, kind: 'register', reaction_ms: 500 });
  events.sort((a, b) => a.at_ms - b.at_ms);
  // Without Carol's IMDNs (issue 11), which would add about 14 steps per replayed message: the
  // ladder stays the ~1,750 steps this test is sized for (two PNG parts).
  const sc = { format: 'cpm-deferral-scenario', version: 1, title: 'Long', setup: 'established', t1_ms: 500, imdn: 'none', events };
  const { page, errors } = await openExplorer(t, env, { scenario: sc });
  const steps = await page.evaluate(() => window.__explorer.state.trace.steps.length);
  const svg = await svgInfo(page, (await exportFile(page, 'svg')).buf.toString('utf8'));
  assert.ok(svg.height > steps * 10, `${svg.height} px for ${steps} steps`);
  assert.ok(svg.height > 32767, `taller than Chromium's canvas limit: ${svg.height}`);
  await page.click('#file-menu summary');
  await page.click('[data-export="png"]');
  await page.waitForSelector('#png-parts a', { timeout: 120000 });
  const n = await page.locator('#png-parts a').count();
  assert.equal(n, 2);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#png-parts a').nth(i).click()]);
    total += pngSize(fs.readFileSync(await dl.path())).height;
  }
  assert.equal(total, svg.height, 'full height');
  assert.deepEqual(errors, []);
});
