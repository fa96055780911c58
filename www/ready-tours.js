// Ready tours with exercises for a few presets (issue 15: "a few ready exercises ship with the
// presets"). Built from the run itself, so they follow the engine: one stop per key stop of the
// story (www/story.js keyStops), captioned with its key titles; at the trigger a multiple choice
// on the case of §8.3.2.9, at the end a task the engine grades. Loaded on use by tour.js.
import { keyStops, keysAt } from './story.js';

const CASES = [
  'Case 1: Carol’s client sends BYE with a Reason other than SIP 200',
  'Case 2: an INVITE towards Carol fails or times out',
  'Case 3: the MSRP connection towards Carol fails',
];
const WHICH = 'Which case of §8.3.2.9 (as the CR amends it) makes the PF defer here?';
const EXPLAIN = [
  '§8.3.2.9, case 1: a BYE whose Reason header is not SIP cause 200 is not a goodbye; the PF stays in the group and stores for Carol.',
  '§8.3.2.9, case 2: the PF’s INVITE to Carol timed out (Timer B), so it cannot reach her; it defers instead of leaving.',
  '§8.3.2.9, case 3: the MSRP connection to Carol failed; the PF defers (when a connection counts as lost is the Editor’s Note’s open question, a policy here).',
];

/** name → what to ask: the case (index into CASES) and the task at the end. */
const READY = {
  'bye-480-path-a': {
    case: 0,
    task: {
      id: 'bye-480-path-b', question: 'Add one event so that the PF takes path B: Carol’s client re-joins before the PF invites her.',
      expect: [{ key: 'Path B' }],
      explain: '§8.3.2.9 allows two ways back: path A, the PF’s own INVITE after the 3rd-party REGISTER, or path B, Carol’s re-join, which the PF answers itself. A re-join event before the PF reacts gives path B.',
    },
  },
  'invite-timeout-path-a': {
    case: 1,
    task: {
      id: 'invite-timeout-pre-cr', question: 'Under the rules before the CR, change the timeline so that no message is lost.',
      rules: 'pre-cr', expect: [{ count: 'lost', max: 0 }],
      explain: 'Before the CR only a BYE with a Reason defers; a timed-out INVITE makes the PF leave, and what the group sends meanwhile is lost. Only a timeline with nothing sent while Carol is away loses nothing.',
    },
  },
  'msrp-loss-path-a': {
    case: 2,
    task: {
      id: 'msrp-loss-pre-cr', question: 'Make the PF defer even under the rules before the CR: replace the MSRP failure with the one trigger the old text knows.',
      rules: 'pre-cr', expect: [{ key: 'Deferred' }],
      explain: 'Before the CR, §8.3.2.9 defers only on a BYE with a Reason other than SIP cause 200; an MSRP failure was not a trigger. A BYE with Reason SIP;cause=480 instead defers under both rule sets.',
    },
  },
};

/** The preset names that have a ready tour. */
export const names = Object.keys(READY);

/** The ready tour of preset `name` for this run (post-CR trace), or null. */
export function readyTour(name, trace) {
  const r = READY[name];
  if (!r || !trace?.steps?.length) return null;
  const stops = keyStops(trace).map((c) => {
    const keys = keysAt(trace, c);
    return { step: trace.steps[c - 1].sid, caption: keys.length ? keys.map((k) => k.key).join(' · ') : 'The end of the story.' };
  });
  const trigger = stops.findIndex((s) => s.caption.startsWith('Trigger'));
  if (trigger >= 0) stops[trigger].ask = { id: `${name}-case`, question: WHICH, choices: CASES, answer: r.case, explain: EXPLAIN[r.case] };
  stops[stops.length - 1].ask = r.task;
  return { title: 'Ready tour with exercises', stops };
}
