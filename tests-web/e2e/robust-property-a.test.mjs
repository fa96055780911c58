// Issue 13, acceptance: the Chromium property test (tests-web/property.mjs), sequences with seed 13.
// With robust-property-b.test.mjs: 1,000 sequences in all.
import { test } from 'node:test';
import { useBrowser } from '../harness.mjs';
import { runProperty } from '../property.mjs';

const env = useBrowser();

test('500 random edit/undo/redo/reload/second-tab/quota sequences (seed 13): the last edit is always recoverable, no page error', { timeout: 600000 }, (t) => runProperty(t, env, { sequences: 500, seed: 13 }));
