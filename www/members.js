// Members added from the event editor (issue 13, item 6): an id the engine accepts, derived from
// the display name. Loaded on the first "Add member".
import { membersOf } from './scenario.js';

const clone = (x) => (typeof structuredClone === 'function' ? structuredClone(x) : JSON.parse(JSON.stringify(x)));

/** Ids the scenario format keeps for the actors (src/scenario.rs RESERVED_IDS). */
export const RESERVED_IDS = ['carol', 'carol-pf', 'cf', 'scscf'];
const MAX_ID = 16;
/**
 * A member id from a display name that the engine accepts (src/scenario.rs valid_id: 1-16 of
 * a-z, 0-9, '-', starting with a letter, not reserved) and that `taken` does not hold:
 * "Alexandra Richardson" → "alexandra-richar", "2nd shift" → "m-2nd-shift", "CF" → "cf-2".
 */
export function memberId(name, taken = () => false) {
  let base = String(name).normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (base && !/^[a-z]/.test(base)) base = `m-${base}`;
  const fit = (b, room) => b.slice(0, room).replace(/-+$/, '');
  base = fit(base, MAX_ID) || 'member';
  const free = (id) => !RESERVED_IDS.includes(id) && !taken(id);
  if (free(base)) return base;
  for (let k = 2; ; k++) {
    const id = `${fit(base, MAX_ID - String(k).length - 1)}-${k}`;
    if (free(id)) return id;
  }
}

/** Add a member who is not in the group yet (for join events); returns { scenario, id }. */
export function addMember(scenario, name) {
  const s = clone(scenario);
  s.members = membersOf(s).slice();
  const id = memberId(name, (x) => s.members.some((m) => m.id === x));
  s.members.push({ id, name: String(name), in_group: false });
  return { scenario: s, id };
}
