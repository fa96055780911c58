// Scenario files in Chromium: open through the file picker (good file, bad file naming the field,
// non-JSON, too big), drag and drop onto the page, save as a versioned JSON download, undo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useBrowser, openExplorer, shot, pick } from '../harness.mjs';

const env = useBrowser();

function scenario(title = 'From a file') {
  return {
    format: 'cpm-deferral-scenario', version: 1, title, description: 'opened from a file', setup: 'established', t1_ms: 500,
    events: [
      { at_ms: 1000, kind: 'message', from: 'alice', text: 'one' },
      { at_ms: 2000, kind: 'bye', reason: 'SIP;cause=480' },
      { at_ms: 4000, kind: 'message', from: 'bob', text: 'two' },
      { at_ms: 9000, kind: 'register', reaction_ms: 500 },
    ],
  };
}
const bytes = (obj) => Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2));

const message = (page) => page.locator('#banner:not([hidden]) #banner-text').textContent({ timeout: 5000 });

test('open a scenario file with the picker; bad files name the field; undo goes back', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const before = await page.evaluate(() => window.__explorer.state.scenario.title);
  await pick(page, { name: 'good.json', mimeType: 'application/json', buffer: bytes(scenario()) });
  await page.waitForFunction(() => window.__explorer.state.scenario.title === 'From a file');
  assert.equal(await page.locator('#title').textContent(), 'From a file');
  assert.ok((await page.evaluate(() => window.__explorer.state.trace.summary.stored)) > 0, 'it ran');
  assert.equal(await page.locator('#banner').isHidden(), true);

  const bad = scenario('Backwards');
  bad.events[3].at_ms = 3000; // before events[2]
  await pick(page, { name: 'backwards.json', mimeType: 'application/json', buffer: bytes(bad) });
  assert.match(await message(page), /^Cannot open backwards\.json: events\[3\]\.at_ms: time goes backwards/);
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), 'From a file', 'the page kept its timeline');
  await shot(page, 'files-bad-field');

  const typo = scenario('Typo');
  typo.events[1].reasn = 'x';
  await pick(page, { name: 'typo.json', mimeType: 'application/json', buffer: bytes(typo) });
  assert.match(await message(page), /events\[1\]\.reasn/);

  await pick(page, { name: 'broken.json', mimeType: 'application/json', buffer: bytes('{"format": "cpm-deferral-scenario", ') });
  assert.match(await message(page), /^Cannot open broken\.json: it is not JSON/);

  await pick(page, { name: 'other.json', mimeType: 'application/json', buffer: bytes({ hello: 1 }) });
  assert.match(await message(page), /format: expected "cpm-deferral-scenario"/);

  await pick(page, { name: 'huge.json', mimeType: 'application/json', buffer: Buffer.alloc(8 * 1024 * 1024 + 1, 32) });
  assert.match(await message(page), /^Cannot open huge\.json: it is 8\.0 MiB, more than the 8\.0 MiB/);

  // Undo goes back to the timeline before the file.
  await page.click('#banner-close');
  await page.click('#undo');
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), before);
  assert.deepEqual(errors, []);
});

test('drag and drop a scenario file onto the page', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const drop = async (name, text) => {
    const dt = await page.evaluateHandle(([n, s]) => {
      const d = new DataTransfer();
      d.items.add(new File([s], n, { type: 'application/json' }));
      return d;
    }, [name, text]);
    await page.dispatchEvent('#pane-main', 'dragenter', { dataTransfer: dt });
    await page.dispatchEvent('#pane-main', 'dragover', { dataTransfer: dt });
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('dropping')), true, 'drop target shown');
    await shot(page, 'files-drop-target');
    await page.dispatchEvent('#pane-main', 'drop', { dataTransfer: dt });
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('dropping')), false);
  };
  await drop('dropped.json', JSON.stringify(scenario('Dropped')));
  await page.waitForFunction(() => window.__explorer.state.scenario.title === 'Dropped');
  const bad = scenario('Bad drop');
  bad.events[0].at_ms = -5;
  await drop('bad-drop.json', JSON.stringify(bad));
  assert.match(await message(page), /^Cannot open bad-drop\.json: events\[0\]\.at_ms/);
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), 'Dropped');
  assert.deepEqual(errors, []);
});

test('save the scenario as a versioned JSON file; it opens again', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: scenario('Saved <one> & "two"') });
  await page.click('#file-menu summary');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#save-file')]);
  assert.equal(dl.suggestedFilename(), 'saved-one-two.json');
  const file = await dl.path();
  const text = fs.readFileSync(file, 'utf8');
  const obj = JSON.parse(text);
  assert.equal(obj.format, 'cpm-deferral-scenario');
  assert.equal(obj.version, 1);
  assert.ok(text.startsWith('{\n  "format": "cpm-deferral-scenario",\n  "version": 1,'), 'format and version first');
  assert.deepEqual(obj, scenario('Saved <one> & "two"'));
  await pick(page, file);
  await page.waitForFunction(() => window.__explorer.state.history.canUndo());
  assert.equal(await page.locator('#banner').isHidden(), true);
  assert.deepEqual(errors, []);
});
