//! The in-memory semantic cache, segmented by (project, context).
//!
//! Each segment keeps its embeddings in one contiguous `Vec<f32>` so a search is a single
//! cache-friendly linear scan, and a map from the canonical prompt text to its entry so an
//! identical prompt (up to case and punctuation) is found without scanning at all. The store
//! is bounded: a long-running emulator fed ever new prompts forgets its oldest entries instead
//! of growing (and slowing) without end.

use std::collections::{HashMap, VecDeque};
use std::sync::{PoisonError, RwLock};

use crate::embed::{dot, round_score, Embedding, DIM};

/// Identifies a cache segment: entries are only ever compared within one segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SegmentKey {
    /// The project of the key that made the request.
    pub project: String,
    /// The request's `context`, if any.
    pub context: Option<String>,
}

/// A cached LLM answer.
#[derive(Clone, Debug)]
pub struct Entry {
    /// A UUID (v4) naming the entry in debug output.
    pub id: String,
    /// The prompt as first sent.
    pub prompt: String,
    /// The (emulated) LLM answer.
    pub response: String,
    /// The model the answer was produced with.
    pub model: String,
}

/// The best match of a search.
#[derive(Clone, Debug)]
pub struct Match {
    /// The matching entry.
    pub entry: Entry,
    /// Cosine similarity, clamped to `[0, 1]` and rounded to 4 decimals.
    pub score: f64,
}

/// The outcome of a search.
#[derive(Clone, Debug)]
pub struct SearchResult {
    /// The most similar entry, if the segment has any.
    pub best: Option<Match>,
    /// How many entries the searched segment holds.
    pub entry_count: usize,
}

/// One segment's entries, oldest first. Eviction takes from the front, so the embeddings of
/// evicted entries are only skipped (`dead`), and dropped once they are a quarter of the vector.
#[derive(Default)]
struct Segment {
    /// `dead * DIM` floats of evicted entries, then `entries.len() * DIM` floats: live entry
    /// `i` owns `embeddings[(dead + i) * DIM..(dead + i + 1) * DIM]`.
    embeddings: Vec<f32>,
    dead: usize,
    entries: VecDeque<Entry>,
    /// Each live entry's canonical prompt text, in the same order.
    canonicals: VecDeque<String>,
    /// Canonical prompt text -> number of the newest live entry with it. Two requests for one
    /// new prompt can both miss and both insert; pointing at the newest keeps the index valid
    /// until the last of them is evicted, since eviction goes oldest first.
    exact: HashMap<String, u64>,
    /// The number of `entries[0]`: entries are numbered from 0 in the order they came.
    first: u64,
}

impl Segment {
    fn live_embeddings(&self) -> &[f32] {
        &self.embeddings[self.dead * DIM..]
    }

    fn entry(&self, number: u64) -> Option<&Entry> {
        self.entries
            .get(usize::try_from(number.checked_sub(self.first)?).ok()?)
    }

    fn push(&mut self, canonical: String, embedding: &Embedding, entry: Entry) {
        let number = self.first + self.entries.len() as u64;
        self.embeddings.extend_from_slice(embedding);
        self.entries.push_back(entry);
        self.exact.insert(canonical.clone(), number);
        self.canonicals.push_back(canonical);
    }

    fn evict_oldest(&mut self) {
        if self.entries.pop_front().is_none() {
            return;
        }
        if let Some(canonical) = self.canonicals.pop_front() {
            if self.exact.get(&canonical) == Some(&self.first) {
                self.exact.remove(&canonical);
            }
        }
        self.first += 1;
        self.dead += 1;
        // A quarter dead: moving the live ones costs 3 embeddings per eviction, amortised.
        if self.dead * 4 >= self.dead + self.entries.len() {
            self.embeddings.drain(..self.dead * DIM);
            self.dead = 0;
        }
    }
}

/// The default bound of [`Store::with_capacity`]: 100,000 entries (about 200 MB).
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// The whole cache. Safe to share between threads; searches only take a read lock. It holds
/// at most its capacity of entries: beyond it the oldest, in any segment, is forgotten first.
pub struct Store {
    inner: RwLock<Inner>,
    capacity: usize,
}

#[derive(Default)]
struct Inner {
    segments: HashMap<SegmentKey, Segment>,
    /// The segment of every entry, oldest first (the next to evict is at the front).
    order: VecDeque<SegmentKey>,
}

impl Default for Store {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_MAX_ENTRIES)
    }
}

/// A random version-4 UUID in its usual text form.
pub fn new_uuid() -> String {
    let mut v = fastrand::u128(..);
    v = (v & !(0xf << 76)) | (0x4 << 76); // version 4
    v = (v & !(0x3 << 62)) | (0x2 << 62); // RFC 4122 variant
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl Store {
    /// An empty cache of at most `capacity` entries (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Store {
            inner: RwLock::default(),
            capacity: capacity.max(1),
        }
    }

    /// Finds the entry most similar to a prompt in one segment.
    pub fn search(&self, key: &SegmentKey, canonical: &str, embedding: &Embedding) -> SearchResult {
        // A poisoned lock only means another request panicked mid-operation; the data is
        // still usable for an emulator, so carry on rather than failing every later request.
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let Some(segment) = inner.segments.get(key) else {
            return SearchResult {
                best: None,
                entry_count: 0,
            };
        };
        let entry_count = segment.entries.len();
        if let Some(&number) = segment.exact.get(canonical) {
            return SearchResult {
                best: segment.entry(number).map(|entry| Match {
                    entry: entry.clone(),
                    score: 1.0,
                }),
                entry_count,
            };
        }
        let mut best: Option<(usize, f32)> = None;
        for (index, stored) in segment.live_embeddings().chunks_exact(DIM).enumerate() {
            let score = dot(stored, embedding);
            if best.is_none_or(|(_, b)| score > b) {
                best = Some((index, score));
            }
        }
        SearchResult {
            best: best.and_then(|(index, score)| {
                segment.entries.get(index).map(|entry| Match {
                    entry: entry.clone(),
                    score: round_score(score),
                })
            }),
            entry_count,
        }
    }

    /// Adds an entry to a segment, forgetting the oldest entry beyond the capacity, and
    /// returns its id.
    pub fn insert(
        &self,
        key: SegmentKey,
        canonical: String,
        embedding: &Embedding,
        prompt: &str,
        response: &str,
        model: &str,
    ) -> String {
        let id = new_uuid();
        let entry = Entry {
            id: id.clone(),
            prompt: prompt.to_owned(),
            response: response.to_owned(),
            model: model.to_owned(),
        };
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let inner = &mut *inner;
        inner.order.push_back(key.clone());
        inner
            .segments
            .entry(key)
            .or_default()
            .push(canonical, embedding, entry);
        while inner.order.len() > self.capacity {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(segment) = inner.segments.get_mut(&oldest) {
                segment.evict_oldest();
                if segment.entries.is_empty() {
                    inner.segments.remove(&oldest);
                }
            }
        }
        id
    }

    /// Removes every entry of every segment.
    pub fn clear(&self) {
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = Inner::default();
    }

    /// Total number of entries across all segments.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .order
            .len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most entries it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::{canonical, embed};

    fn key(context: Option<&str>) -> SegmentKey {
        SegmentKey {
            project: "p".into(),
            context: context.map(str::to_owned),
        }
    }

    fn put(store: &Store, k: SegmentKey, prompt: &str) -> String {
        store.insert(
            k,
            canonical(prompt),
            &embed(prompt),
            prompt,
            "answer",
            "gpt-4o",
        )
    }

    #[test]
    fn exact_and_semantic_matches() {
        let store = Store::default();
        let id = put(&store, key(None), "What is machine learning?");
        put(&store, key(None), "Best pizza in Naples");
        let p = "what is MACHINE learning";
        let r = store.search(&key(None), &canonical(p), &embed(p));
        let best = r.best.expect("a match");
        assert_eq!(
            (best.score, best.entry.id.as_str(), r.entry_count),
            (1.0, id.as_str(), 2)
        );
        let p = "Explain what machine learning is";
        let r = store.search(&key(None), &canonical(p), &embed(p));
        assert_eq!(r.best.expect("a match").entry.id, id);
    }

    #[test]
    fn segments_are_separate() {
        let store = Store::default();
        put(&store, key(Some("a")), "hello");
        let r = store.search(&key(Some("b")), "hello", &embed("hello"));
        assert!(r.best.is_none());
        assert_eq!(r.entry_count, 0);
        assert_eq!(store.len(), 1);
        store.clear();
        assert!(store.is_empty());
    }

    /// Whether `prompt` is still cached in `k`: its exact match, and the scan's best.
    fn cached(store: &Store, k: &SegmentKey, prompt: &str) -> (bool, bool) {
        let exact = store.search(k, &canonical(prompt), &embed(prompt));
        let exact = exact.best.is_some_and(|m| m.entry.prompt == prompt);
        let scanned = store.search(k, "not the canonical text", &embed(prompt));
        let scanned = scanned
            .best
            .is_some_and(|m| m.entry.prompt == prompt && m.score == 1.0);
        (exact, scanned)
    }

    #[test]
    fn beyond_its_capacity_the_oldest_entry_of_any_segment_is_forgotten() {
        let store = Store::with_capacity(3);
        put(&store, key(Some("a")), "first prompt about rust");
        put(&store, key(Some("b")), "second prompt about tide pools");
        put(&store, key(Some("a")), "third prompt about jazz");
        put(&store, key(Some("b")), "fourth prompt about tax returns");
        assert_eq!(store.len(), 3);
        assert_eq!(
            cached(&store, &key(Some("a")), "first prompt about rust"),
            (false, false)
        );
        for (k, prompt) in [
            ("b", "second prompt about tide pools"),
            ("a", "third prompt about jazz"),
            ("b", "fourth prompt about tax returns"),
        ] {
            assert_eq!(
                cached(&store, &key(Some(k)), prompt),
                (true, true),
                "{prompt}"
            );
        }
        // A segment whose entries are all forgotten is gone, and counts none.
        put(&store, key(Some("c")), "fifth");
        put(&store, key(Some("c")), "sixth");
        put(&store, key(Some("c")), "seventh");
        let a = store.search(&key(Some("a")), "x", &embed("third prompt about jazz"));
        assert_eq!((a.entry_count, a.best.is_none()), (0, true));
        assert_eq!(store.inner.read().unwrap().segments.len(), 1);
    }

    #[test]
    fn a_segment_that_evicts_for_long_keeps_finding_exactly_its_last_entries() {
        // Many turns of eviction and compaction in one segment: every live entry is found
        // by its own text and by the scan, with the right entry; no evicted one is.
        let store = Store::with_capacity(10);
        let prompt = |i: usize| format!("question {i} about topic {}", i * 7919 % 1009);
        for i in 0..1_000 {
            put(&store, key(None), &prompt(i));
            let live = i.saturating_sub(9)..=i;
            for j in i.saturating_sub(12)..=i {
                let expected = live.contains(&j);
                assert_eq!(
                    cached(&store, &key(None), &prompt(j)),
                    (expected, expected),
                    "{i} {j}"
                );
            }
        }
        let inner = store.inner.read().unwrap();
        let segment = &inner.segments[&key(None)];
        assert_eq!((segment.entries.len(), segment.exact.len()), (10, 10));
        assert!(
            segment.embeddings.len() <= 2 * 10 * DIM,
            "evicted embeddings are dropped"
        );
    }

    #[test]
    fn a_prompt_stored_twice_is_found_exactly_until_its_last_copy_is_forgotten() {
        // Concurrent misses of one new prompt store it twice; forgetting the older copy must
        // not drop the exact-match index while the newer one is live.
        let store = Store::with_capacity(3);
        put(&store, key(None), "the same prompt");
        let newer = put(&store, key(None), "the same prompt");
        put(&store, key(None), "another prompt");
        put(&store, key(None), "a third prompt");
        let p = "the same prompt";
        let indexed = |store: &Store| {
            let inner = store.inner.read().unwrap();
            inner.segments[&key(None)].exact.contains_key(&canonical(p))
        };
        // The scan would find it too; the index is what must survive.
        assert!(
            indexed(&store),
            "the older copy's eviction dropped the index"
        );
        let found = store.search(&key(None), &canonical(p), &embed(p));
        assert_eq!(found.best.expect("a match").entry.id, newer);
        put(&store, key(None), "a fourth prompt");
        assert!(!indexed(&store));
        assert_eq!(cached(&store, &key(None), p), (false, false));
    }

    #[test]
    fn uuids_look_like_v4() {
        let id = new_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
