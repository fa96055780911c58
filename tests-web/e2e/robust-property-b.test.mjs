// Issue 13, acceptance: the Chromium property test (tests-web/property.mjs), sequences with seed 14.
// With robust-property-a.test.mjs: 1,000 sequences in all.
import { test } from 'node:test';
import { useBrowser } from '../harness.mjs';
import { runProperty } from '../property.mjs';

const env = useBrowser();

test('500 random edit/undo/redo/reload/second-tab/quota sequences (seed 14): the last edit is always recoverable, no page error', { timeout: 600000 }, (t) => runProperty(t, env, { sequences: 500, seed: 14 }));
