// A small hand-written trace that follows docs/trace-contract.md field by field:
// Carol drops with BYE 480, Bob writes twice while she is away, she registers, the PF
// re-invites her and replays the store.
const step = (index, at_ms, from, to, protocol, label, kind, pf_state, queue_len, extra = {}) => ({
  index, at_ms, arrive_ms: from === to ? at_ms : at_ms + 10, from, to, protocol, label,
  raw: protocol === 'none' ? '' : `${label} sip:x SIP/2.0\r\n\r\n`,
  clauses: ['8.3.2.9'], note: `${label} note`, kind, policy: false, pf_state, queue_len, ...extra,
});

export function byeTrace() {
  return {
    version: 1,
    rules: 'post-cr',
    title: 'BYE 480, then path A',
    end_ms: 20000,
    lanes: [
      { id: 'carol', label: 'Carol (client)', role: 'client' },
      { id: 'carol-pf', label: "Carol's PF", role: 'pf' },
      { id: 'cf', label: 'CF (focus)', role: 'cf' },
      { id: 'bob', label: 'Bob', role: 'member' },
      { id: 'scscf', label: 'S-CSCF', role: 'ims' },
    ],
    steps: [
      step(0, 1000, 'bob', 'cf', 'MSRP', 'SEND', 'message', 'Active', 0, { chat: 1, event: 0 }),
      step(1, 1010, 'cf', 'carol-pf', 'MSRP', 'SEND', 'message', 'Active', 0, { chat: 1 }),
      step(2, 1020, 'carol-pf', 'carol', 'MSRP', 'SEND', 'message', 'Active', 0, { chat: 1 }),
      step(3, 5000, 'carol', 'carol-pf', 'SIP', 'BYE', 'message', 'Active', 0, { event: 1 }),
      step(4, 5010, 'carol-pf', 'carol-pf', 'none', 'Deferred', 'state', 'Deferred', 0, { event: 1 }),
      step(5, 5010, 'carol-pf', 'cf', 'SIP', 'SUBSCRIBE', 'message', 'Deferred', 0),
      step(6, 8000, 'bob', 'cf', 'MSRP', 'SEND', 'message', 'Deferred', 0, { chat: 2, event: 2 }),
      step(7, 8010, 'cf', 'carol-pf', 'MSRP', 'SEND', 'message', 'Deferred', 0, { chat: 2 }),
      step(8, 8020, 'carol-pf', 'carol-pf', 'none', 'stored #1', 'store', 'Deferred', 1, { chat: 2 }),
      step(9, 9000, 'bob', 'cf', 'MSRP', 'SEND', 'message', 'Deferred', 1, { chat: 3, event: 3 }),
      step(10, 9010, 'cf', 'carol-pf', 'MSRP', 'SEND', 'message', 'Deferred', 1, { chat: 3 }),
      step(11, 9020, 'carol-pf', 'carol-pf', 'none', 'stored #2', 'store', 'Deferred', 2, { chat: 3 }),
      step(12, 15000, 'scscf', 'carol-pf', 'SIP', 'REGISTER', 'message', 'DeliveringA', 2, { event: 4 }),
      step(13, 15500, 'carol-pf', 'carol', 'SIP', 'INVITE', 'message', 'DeliveringA', 2),
      step(14, 15600, 'carol', 'carol-pf', 'SIP', '200 OK', 'message', 'Replaying', 2),
      step(15, 16000, 'carol-pf', 'carol', 'MSRP', 'SEND', 'deliver', 'Replaying', 2, { chat: 2 }),
      step(16, 16010, 'carol', 'carol-pf', 'MSRP', '200 OK', 'message', 'Replaying', 1, { chat: 2 }),
      step(17, 16020, 'carol-pf', 'carol', 'MSRP', 'SEND', 'deliver', 'Replaying', 1, { chat: 3 }),
      step(18, 16030, 'carol', 'carol-pf', 'MSRP', '200 OK', 'message', 'Active', 0, { chat: 3 }),
      step(19, 20000, 'carol-pf', 'carol-pf', 'none', 'Timer B stopped', 'timer', 'Active', 0),
    ],
    chats: [
      { id: 1, from: 'bob', text: 'hello <b>all</b>', imdn_id: 'a1', sent_ms: 1000, sent_step: 0, for_carol: true,
        stored_ms: null, stored_step: null, in_flight_ms: null, in_flight_step: null,
        delivered_ms: 1030, delivered_step: 2, outcome: 'live', removed_ms: null, removed_step: null, possible_duplicate: false },
      { id: 2, from: 'bob', text: 'still there?', imdn_id: 'a2', sent_ms: 8000, sent_step: 6, for_carol: true,
        stored_ms: 8020, stored_step: 8, in_flight_ms: 16000, in_flight_step: 15,
        delivered_ms: 16010, delivered_step: 16, outcome: 'from_store', removed_ms: null, removed_step: null, possible_duplicate: false },
      { id: 3, from: 'bob', text: 'ping', imdn_id: 'a3', sent_ms: 9000, sent_step: 9, for_carol: true,
        stored_ms: 9020, stored_step: 11, in_flight_ms: 16020, in_flight_step: 17,
        delivered_ms: 16030, delivered_step: 18, outcome: 'from_store', removed_ms: null, removed_step: null, possible_duplicate: false },
    ],
    timers: [
      { name: "PF's reaction delay", lane: 'carol-pf', start_ms: 15000, end_ms: 15500, outcome: 'fired', clause: 'policy:q2-reaction' },
      { name: 'Timer B', lane: 'carol-pf', start_ms: 15500, end_ms: 15600, outcome: 'stopped', clause: 'RFC 3261 §17.1.1.2' },
    ],
    pf_states: [
      { state: 'Active', from_ms: 0, to_ms: 5010 },
      { state: 'Deferred', from_ms: 5010, to_ms: 15000 },
      { state: 'DeliveringA', from_ms: 15000, to_ms: 15600 },
      { state: 'Replaying', from_ms: 15600, to_ms: 16030 },
      { state: 'Active', from_ms: 16030, to_ms: 20000 },
    ],
    participants: [
      { at_ms: 0, step: 0, holder: 'pf', users: [{ id: 'bob', name: 'Bob', status: 'connected' }, { id: 'alice', name: 'Alice', status: 'connected' }] },
      { at_ms: 0, step: 0, holder: 'client', users: [{ id: 'bob', name: 'Bob', status: 'connected' }, { id: 'alice', name: 'Alice', status: 'connected' }] },
      { at_ms: 8500, step: 7, holder: 'pf', users: [{ id: 'bob', name: 'Bob', status: 'connected' }, { id: 'alice', name: 'Alice', status: 'disconnected' }] },
      { at_ms: 16030, step: 18, holder: 'client', users: [{ id: 'bob', name: 'Bob', status: 'connected' }, { id: 'alice', name: 'Alice', status: 'disconnected' }] },
    ],
    policies: [],
    summary: { sent_while_away: 2, stored: 2, delivered_from_store: 2, lost: 0, discarded: 0, still_stored: 0, delivered_live: 1, possible_duplicates: 0 },
  };
}
