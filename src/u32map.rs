//! A small open-addressing hash map to `u32`, for the packer's interning ([`crate::packed`]) and
//! the story's counters ([`crate::story`]).
//!
//! Why not `std::collections::HashMap`: the page's first wasm module held three instantiations
//! of hashbrown (one per key type), about 8.5 KB of code, for maps that only ever insert, look up
//! and count. Here the probing and the growth are written once, for every key type (the key
//! comparison is the only per-type code, called through `&mut dyn FnMut`), which keeps the
//! initial page under its weight budget (docs/bench.md). Linear probing over a power-of-two
//! table at most half full, with the engine's word-at-a-time FNV hash ([`Fnv`]).

/// An FNV-style hash: interning hashes ~20,000 short strings and ~90,000 small keys per run;
/// SipHash's DoS resistance buys nothing here and costs a third of the packing time in wasm.
/// Whole words at a time (a key of five pointers is five steps, not twenty bytes).
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Fnv {
    fn mix(&mut self, x: u64) {
        let h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        self.0 = (h ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }

    /// Adds a number.
    pub(crate) fn word(&mut self, x: usize) {
        self.mix(x as u64);
    }

    /// Adds bytes, a word at a time.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.mix(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
        }
    }

    /// The hash so far.
    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// A key of a [`U32Map`]: equality and a hash.
pub(crate) trait MapKey: Eq {
    /// The key's hash (equal keys, equal hashes).
    fn hash64(&self) -> u64;
}

impl MapKey for (usize, usize) {
    fn hash64(&self) -> u64 {
        let mut h = Fnv::default();
        h.word(self.0);
        h.word(self.1);
        h.finish()
    }
}

impl MapKey for &str {
    fn hash64(&self) -> u64 {
        let mut h = Fnv::default();
        h.bytes(self.as_bytes());
        h.word(self.len());
        h.finish()
    }
}

impl MapKey for &[&str] {
    fn hash64(&self) -> u64 {
        let mut h = Fnv::default();
        for s in self.iter() {
            h.bytes(s.as_bytes());
            h.word(s.len());
        }
        h.word(self.len());
        h.finish()
    }
}

/// A map from keys `K` to `u32` values: insert, look up, count. No removal.
pub(crate) struct U32Map<K> {
    keys: Vec<K>,
    values: Vec<u32>,
    /// Each entry's hash, so growing never looks at the keys.
    hashes: Vec<u64>,
    /// Entry index + 1, or 0 for an empty slot; the length is 0 or a power of two.
    slots: Vec<u32>,
}

impl<K> Default for U32Map<K> {
    fn default() -> Self {
        U32Map { keys: Vec::new(), values: Vec::new(), hashes: Vec::new(), slots: Vec::new() }
    }
}

/// Where `hash`'s key is (`Ok(entry)`) or would go (`Err(slot)`); `same(entry)` compares keys.
/// One copy for every key type.
fn probe(slots: &[u32], hashes: &[u64], hash: u64, same: &mut dyn FnMut(usize) -> bool) -> Result<usize, usize> {
    let mask = slots.len() - 1;
    let mut i = (hash as usize ^ (hash >> 32) as usize) & mask;
    loop {
        match slots[i] {
            0 => return Err(i),
            e => {
                let e = e as usize - 1;
                if hashes[e] == hash && same(e) {
                    return Ok(e);
                }
            }
        }
        i = (i + 1) & mask;
    }
}

/// A table of at least `want` slots (a power of two, at least 16) holding every entry of `hashes`.
fn rebuild(hashes: &[u64], want: usize) -> Vec<u32> {
    let n = want.max(16).next_power_of_two();
    let mut slots = vec![0u32; n];
    let mask = n - 1;
    for (e, &h) in hashes.iter().enumerate() {
        let mut i = (h as usize ^ (h >> 32) as usize) & mask;
        while slots[i] != 0 {
            i = (i + 1) & mask;
        }
        slots[i] = e as u32 + 1;
    }
    slots
}

impl<K: MapKey> U32Map<K> {
    /// Room for `n` entries without growing.
    pub(crate) fn reserve(&mut self, n: usize) {
        let want = (self.keys.len() + n) * 2;
        if want > self.slots.len() {
            self.slots = rebuild(&self.hashes, want);
        }
        self.keys.reserve(n);
        self.values.reserve(n);
        self.hashes.reserve(n);
    }

    fn find(&self, key: &K, hash: u64) -> Result<usize, usize> {
        if self.slots.is_empty() {
            return Err(0);
        }
        let keys = &self.keys;
        probe(&self.slots, &self.hashes, hash, &mut |e| keys[e] == *key)
    }

    /// The value of `key`, if any.
    pub(crate) fn get(&self, key: &K) -> Option<u32> {
        self.find(key, key.hash64()).ok().map(|e| self.values[e])
    }

    /// The value of `key`, inserting `default` first when it has none.
    pub(crate) fn get_or_insert(&mut self, key: K, default: u32) -> &mut u32 {
        let hash = key.hash64();
        let e = match self.find(&key, hash) {
            Ok(e) => e,
            Err(mut slot) => {
                if (self.keys.len() + 1) * 2 > self.slots.len() {
                    self.slots = rebuild(&self.hashes, (self.keys.len() + 1) * 4);
                    slot = match probe(&self.slots, &self.hashes, hash, &mut |_| false) {
                        Ok(_) => unreachable!("the key is new"),
                        Err(s) => s,
                    };
                }
                self.slots[slot] = self.keys.len() as u32 + 1;
                self.keys.push(key);
                self.values.push(default);
                self.hashes.push(hash);
                self.keys.len() - 1
            }
        };
        &mut self.values[e]
    }

    /// Sets `key`'s value.
    pub(crate) fn insert(&mut self, key: K, value: u32) {
        *self.get_or_insert(key, value) = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Against std's map: the same answers over many keys, with collisions and growth.
    #[test]
    fn answers_as_a_hash_map() {
        let mut m: U32Map<(usize, usize)> = U32Map::default();
        let mut want = HashMap::new();
        for i in 0..20_000usize {
            let k = ((i * 7919) % 3001, i % 5);
            *m.get_or_insert(k, 0) += 1;
            *want.entry(k).or_insert(0u32) += 1;
            assert_eq!(m.get(&(i % 3001, i % 5)), want.get(&(i % 3001, i % 5)).copied());
        }
        for (k, v) in &want {
            assert_eq!(m.get(k), Some(*v));
        }
        assert_eq!(m.get(&(99_999, 0)), None);
        let texts: Vec<String> = (0..5000).map(|i| format!("k{i}")).collect();
        let mut s: U32Map<&str> = U32Map::default();
        s.reserve(10);
        for (i, t) in texts.iter().enumerate() {
            s.insert(t.as_str(), i as u32);
        }
        for (i, t) in texts.iter().enumerate() {
            assert_eq!(s.get(&t.as_str()), Some(i as u32));
        }
        assert_eq!(s.get(&""), None);
        let a: &[&str] = &["x", "y"];
        let b: &[&str] = &["xy"];
        let mut l: U32Map<&[&str]> = U32Map::default();
        l.insert(a, 1);
        assert_eq!(l.get(&b), None);
        assert_eq!(l.get(&&["x", "y"][..]), Some(1));
    }
}
