// Pure parts of exports.js and files.js: the PNG band plan and scenario-file checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planPng, CANVAS } from '../../www/exports.js';
import { parseScenarioText, fileName } from '../../www/files.js';

test('PNG plan: one band when it fits, else bands within the limits that cover the whole height', () => {
  assert.deepEqual(planPng(1666, 2238).parts, [{ y: 0, h: 2238, H: 2238 }]);
  for (const [w, h, scale] of [[1666, 46802, 1], [1666, 46802, 2], [4000, 300000, 1], [50000, 1000, 1]]) {
    const p = planPng(w, h, { scale });
    const total = p.parts.reduce((a, b) => a + b.h, 0);
    assert.ok(Math.abs(total - h) < 1e-6, `covers ${h}`);
    assert.ok(p.W <= CANVAS.maxSide, 'width within the limit');
    for (const b of p.parts) {
      assert.ok(b.H <= CANVAS.maxSide, `band height ${b.H}`);
      assert.ok(b.H * p.W <= CANVAS.maxArea, 'band area');
    }
  }
  assert.equal(planPng(1666, 2238, { maxHeight: 700 }).parts.length, 4);
});

test('scenario files: JSON, format, then the engine check with the field', () => {
  const check = (text) => (JSON.parse(text).events.length ? null : 'events: at least one event is needed');
  assert.match(parseScenarioText('{', 'a.json', check).error, /^Cannot open a\.json: it is not JSON/);
  assert.match(parseScenarioText('[1]', 'a.json', check).error, /not a scenario/);
  assert.match(parseScenarioText('{"format":"x"}', 'a.json', check).error, /format: expected "cpm-deferral-scenario", found "x"/);
  assert.equal(parseScenarioText('{"format":"cpm-deferral-scenario","events":[]}', 'a.json', check).error, 'Cannot open a.json: events: at least one event is needed');
  assert.ok(parseScenarioText('{"format":"cpm-deferral-scenario","events":[{}]}', 'a.json', check).scenario);
  assert.equal(fileName('BYE 480, then <path A>', 'svg'), 'bye-480-then-path-a.svg');
  assert.equal(fileName('', 'json'), 'scenario.json');
});
