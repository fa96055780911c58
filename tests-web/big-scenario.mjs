// The big timeline of the benchmark and the scale tests: n group messages (Alice and Bob
// alternating every 400 ms), Carol's BYE with Reason SIP;cause=480 a third of the way in, her
// REGISTER at two thirds (path A replay). `imdn: 'none'`: Carol's client sends no IMDNs, so the
// trace is the one docs/bench.md measured (with the default `replayed`, each of the ~n/3 replayed
// messages adds a delivered and a displayed IMDN, about 14 steps).
export function bigScenario(n = 1000) {
  const events = [];
  const step = 400;
  for (let i = 0; i < n; i++) {
    events.push({ at_ms: 1000 + i * step, kind: 'message', from: i % 2 ? 'bob' : 'alice', text: `message ${i + 1} of ${n}: lorem ipsum dolor sit amet` });
  }
  events.push({ at_ms: 1000 + Math.floor(n / 3) * step + step / 2, kind: 'bye', reason: 'SIP;cause=480;text="Temporarily Unavailable"' });
  events.push({ at_ms: 1000 + Math.floor((2 * n) / 3) * step + step / 2, kind: 'register', reaction_ms: 500 });
  events.sort((a, b) => a.at_ms - b.at_ms);
  return { format: 'cpm-deferral-scenario', version: 1, title: `${n} messages, BYE 480, path A`, setup: 'established', t1_ms: 500, imdn: 'none', events };
}
