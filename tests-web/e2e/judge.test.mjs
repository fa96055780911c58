// Judge a capture in Chromium (issue 14, "The page"): a capture made by the page's own pcap
// export is read in the browser (never uploaded), judged by pkg/judge/ in a Worker, and the
// verdict table, the deviations, the policies, the CR-panel links and "Make this a scenario"
// work; a pre-CR PF fails the amended text; a file that is not a capture gets the judge's reason
// and the page keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { useBrowser, openExplorer } from '../harness.mjs';

const env = useBrowser();
const preset = JSON.parse(fs.readFileSync(new URL('../../scenarios/invite-timeout-path-a.json', import.meta.url), 'utf8'));

async function exportPcap(page) {
  if (!(await page.locator('#file-menu').evaluate((d) => d.open))) await page.click('#file-menu summary');
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('[data-export="pcap"]')]);
  return fs.readFileSync(await dl.path());
}

async function openJudge(page) {
  if (!(await page.locator('#file-menu').evaluate((d) => d.open))) await page.click('#file-menu summary');
  await page.click('#judge-open');
  await page.waitForSelector('#judge:not([hidden])');
}

async function judge(page, name, buffer) {
  await page.evaluate(() => document.querySelector('#judge-result')?.replaceChildren());
  await page.setInputFiles('#judge-file', { name, mimeType: 'application/vnd.tcpdump.pcap', buffer });
  await page.waitForFunction(() => document.querySelector('#judge-verdict') || !document.querySelector('#judge-error').hidden, null, { timeout: 60000 });
}

/** The step marked as a deviation on one of the judge panel's ladders: its index and tooltip, or null. */
function marked(page, side) {
  return page.$eval(`#judge-${side}`, (pane) => {
    const r = pane.querySelector('rect.row-diff');
    if (!r) return null;
    const y1 = Number(r.getAttribute('y'));
    const y2 = y1 + Number(r.getAttribute('height'));
    const yOf = (g) => {
      const ln = g.querySelector('line.hit, line.ln');
      if (ln) return Number(ln.getAttribute('y1'));
      const b = g.querySelector('rect.box');
      return b ? Number(b.getAttribute('y')) + Number(b.getAttribute('height')) / 2 : NaN;
    };
    const row = [...pane.querySelectorAll('g.step')].find((g) => yOf(g) >= y1 && yOf(g) <= y2);
    return row ? { step: Number(row.dataset.step), title: row.querySelector('title').textContent } : { step: null, title: '' };
  });
}

const rowsDrawn = (page, side) => page.$$eval(`#judge-${side} g.step`, (g) => g.length);

test('a capture of the page\'s own post-CR run conforms; each sentence links into the CR panel; it becomes a scenario', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: preset });
  const requests = [];
  page.on('request', (r) => requests.push(r.method()));
  const pcap = await exportPcap(page);
  await openJudge(page);
  assert.match(await page.textContent('#judge-privacy'), /never leaves it/);
  const before = requests.filter((m) => m !== 'GET').length;
  await judge(page, 'post.pcap', pcap);
  assert.match(await page.textContent('#judge-verdict'), /^PASS/);
  assert.equal(await page.$('#judge-not-judged'), null, 'one device of Carol\'s: nothing is said to be beyond the model');
  assert.equal(requests.filter((m) => m !== 'GET').length, before, 'nothing is sent anywhere: no POST/PUT');
  const verdicts = await page.$$eval('#judge-clauses tbody tr', (rows) => Object.fromEntries(rows.map((r) => [r.querySelector('.judge-clause').textContent, r.dataset.verdict])));
  assert.equal(verdicts['cr-case2'], 'pass');
  assert.equal(verdicts['cr-path-a'], 'pass');
  assert.equal(verdicts['cr-case1'], 'not exercised');
  assert.ok((await page.textContent('#judge-policies')).includes('q1-rejoin-after-invite'));

  // Observed and expected ladders side by side, drawn by the page's renderer; nothing marked.
  await page.waitForSelector('#judge-ladders #judge-observed .ladder-scroll');
  assert.ok((await rowsDrawn(page, 'observed')) > 5, 'the observed ladder draws the capture\'s messages');
  assert.ok((await rowsDrawn(page, 'expected')) > 5, 'the expected ladder draws the model\'s run');
  assert.equal(await marked(page, 'observed'), null);
  assert.equal(await marked(page, 'expected'), null);
  assert.match(await page.textContent('#judge-observed .pane-title'), /Observed: the capture \(\d+ messages\)/);
  const lanes = await page.$$eval('#judge-observed svg.ladder-head text', (t) => t.map((x) => x.textContent).join(' | '));
  assert.match(lanes, /Carol's PF/);

  // A sentence opens the CR panel there.
  await page.click('#judge-clauses .judge-clause[data-clause="cr-case2"]');
  await page.waitForSelector('#crpanel:not([hidden]) #cr-case2');

  // Make this a scenario: the rebuilt timeline is the page's, editable and undoable.
  await page.click('#judge-scenario');
  await page.waitForFunction(() => window.__explorer.state.scenario.title.startsWith('Rebuilt from post.pcap'));
  const kinds = await page.evaluate(() => window.__explorer.state.scenario.events.map((e) => e.kind));
  assert.ok(kinds.includes('register') && kinds.filter((k) => k === 'message').length === 3, `rebuilt events: ${kinds}`);
  assert.equal(await page.locator('#judge').isHidden(), true);
  assert.deepEqual(errors, []);
});

test('a pre-CR PF judged against the amended text fails at "remain" and case 2; a non-capture is refused with the reason', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: preset, rules: 'pre-cr' });
  const pcap = await exportPcap(page);
  await openJudge(page);
  await judge(page, 'pre.pcap', pcap);
  assert.match(await page.textContent('#judge-verdict'), /^FAIL/);
  const devs = await page.textContent('#judge-deviations');
  assert.match(devs, /cr-remain/);
  assert.match(devs, /frame \d+/);
  const v = await page.$eval('#judge-clauses tr:has([data-clause="cr-case2"])', (r) => r.dataset.verdict);
  assert.equal(v, 'fail');

  // The first deviation is marked on both ladders, on the rows of the messages it names.
  await page.waitForSelector('#judge-observed rect.row-diff');
  await page.waitForSelector('#judge-expected rect.row-diff');
  const first = await page.$$eval('#judge-deviations li', (li) => li.map((l) => [...l.querySelectorAll('code')].map((c) => c.textContent)));
  const method = (key) => key.replace(/^(SIP|MSRP) /, '').split(' ')[0];
  const obs = await marked(page, 'observed');
  const exp = await marked(page, 'expected');
  // The real PF's message at the deviation: sent by the PF, with the observed key's method.
  assert.match(obs.title, new RegExp(`^#${obs.step} \\S+ carol-pf → \\S+ (SIP|MSRP) ${method(first[0][1])}`), obs.title);
  assert.match(exp.title, new RegExp(`^#${exp.step} \\S+ carol-pf → \\S+ (SIP|MSRP) ${method(first[0][0])}`), exp.title);
  // Each deviation's row (keyboard: its button) scrolls both ladders to it and marks it there.
  const sent = (k) => !/^nothing/.test(k);
  if (first.length > 1 && sent(first[1][1])) {
    await page.focus('.judge-goto[data-dev="1"]');
    await page.keyboard.press('Enter');
    const obs2 = await marked(page, 'observed');
    assert.match(obs2.title, new RegExp(`^#${obs2.step} \\S+ carol-pf → \\S+ (SIP|MSRP) ${method(first[1][1])}`), obs2.title);
    assert.notEqual(obs2.step, obs.step);
  }

  // The same capture under the rules before the CR conforms.
  await page.selectOption('#judge-rules', 'pre-cr');
  await judge(page, 'pre.pcap', pcap);
  assert.match(await page.textContent('#judge-verdict'), /^PASS/);

  await judge(page, 'notes.txt', Buffer.from('this is not a capture'));
  assert.match(await page.textContent('#judge-error'), /cannot be judged: .*not a pcap or pcapng/);
  // Escape closes the panel; the page still works.
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#judge').isHidden(), true);
  await page.click('#next');
  assert.deepEqual(errors, []);
});

test('a capture where Carol uses two devices is not called a verdict: the page says what the judge does not model', async (t) => {
  // Her phone drops, two messages are stored, her tablet registers (issue 11, Q15; tests/devices.rs).
  const tablet = {
    format: 'cpm-deferral-scenario', version: 1, title: 'Carol\'s tablet registers', setup: 'full', devices: ['phone', 'tablet'],
    events: [
      { at_ms: 1000, kind: 'unreachable' },
      { at_ms: 2000, kind: 'message', from: 'alice', text: 'one' },
      { at_ms: 3000, kind: 'message', from: 'bob', text: 'two' },
      { at_ms: 40000, kind: 'register', device: 'tablet' },
    ],
  };
  const { page, errors } = await openExplorer(t, env, { scenario: tablet });
  const pcap = await exportPcap(page);
  await openJudge(page);
  await judge(page, 'tablet.pcap', pcap);
  assert.match(await page.textContent('#judge-verdict'), /^INCONCLUSIVE: the capture shows what the judge does not model/);
  assert.match(await page.textContent('#judge-not-judged'), /Carol uses 2 devices in this capture .*q15-which-device/);
  await page.keyboard.press('Escape');
  assert.deepEqual(errors, []);
});

/** A capture of about `mb` MB in the temp dir: the page's own pcap export, its records again and again a minute apart. */
function bigCapture(pcap, mb, name) {
  const head = pcap.subarray(0, 24);
  const recs = pcap.subarray(24);
  const path = `${os.tmpdir()}/${name}`;
  const fd = fs.openSync(path, 'w');
  fs.writeSync(fd, head);
  let size = 24;
  for (let copy = 0; size < mb * 1e6; copy++) {
    const c = Buffer.from(recs);
    for (let at = 0; at + 16 <= c.length; at += 16 + c.readUInt32LE(at + 8)) c.writeUInt32LE(c.readUInt32LE(at) + copy * 60, at);
    fs.writeSync(fd, c);
    size += c.length;
  }
  fs.closeSync(fd);
  return path;
}

test('a 100 MB capture is read in the judge\'s worker, streaming, with progress, the page responsive, and Cancel; a bigger one than the page reads is refused with the reason', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: preset });
  const pcap = await exportPcap(page);
  const big = bigCapture(pcap, 100, `cpm-judge-big-${process.pid}.pcap`);
  t.after(() => fs.rmSync(big, { force: true }));
  await openJudge(page);
  await page.setInputFiles('#judge-file', big);
  // The worker reads the file itself and reports bytes and messages read (its wasm counts them).
  await page.waitForFunction(() => /in the judge: [\d.]+ MB of 10\d\.\d MB, [1-9]\d* messages/.test(document.querySelector('#judge-progress-text')?.textContent || ''), null, { timeout: 60000 });
  const first = Number(await page.$eval('#judge-progress', (p) => p.dataset.read));
  // The page's thread is free meanwhile: it answers, and the reading goes on.
  assert.equal(await page.evaluate(() => document.querySelectorAll('#judge-clauses').length), 0);
  await page.waitForFunction((n) => Number(document.querySelector('#judge-progress').dataset.read) > n, first, { timeout: 60000 });
  // Cancel (a keyboard user's Enter on the focused button) ends it: nothing judged, the page works.
  await page.focus('#judge-cancel');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#judge-progress').hidden);
  assert.match(await page.textContent('#judge-error'), /Cancelled: nothing was judged/);
  assert.equal(await page.$('#judge-verdict'), null);

  // Past the page's limit (a sparse file: its size is all that is read).
  const huge = `${os.tmpdir()}/cpm-judge-huge-${process.pid}.pcap`;
  fs.writeFileSync(huge, pcap);
  fs.truncateSync(huge, 1.5 * 1024 ** 3);
  t.after(() => fs.rmSync(huge, { force: true }));
  await page.setInputFiles('#judge-file', huge);
  await page.waitForFunction(() => !document.querySelector('#judge-error').hidden && /reads captures up to/.test(document.querySelector('#judge-error').textContent));
  assert.match(await page.textContent('#judge-error'), /is 1\.61 GB; the page reads captures up to 1\.00 GB: .*cpm-deferral conform/);
  await page.click('#judge-close');
  await page.click('#next');
  assert.deepEqual(errors, []);
});
