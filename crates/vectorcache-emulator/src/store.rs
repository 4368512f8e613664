//! The in-memory semantic cache, segmented by (project, context).
//!
//! Each segment keeps its embeddings in one contiguous `Vec<f32>` so a search is a single
//! cache-friendly linear scan, and a map from the canonical prompt text to its entry so an
//! identical prompt (up to case and punctuation) is found without scanning at all.

use std::collections::HashMap;
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

#[derive(Default)]
struct Segment {
    /// `entries.len() * DIM` floats: entry `i` owns `embeddings[i * DIM..(i + 1) * DIM]`.
    embeddings: Vec<f32>,
    entries: Vec<Entry>,
    /// Canonical prompt text -> index of the first entry with it.
    exact: HashMap<String, usize>,
}

/// The whole cache. Safe to share between threads; searches only take a read lock.
#[derive(Default)]
pub struct Store {
    segments: RwLock<HashMap<SegmentKey, Segment>>,
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
    /// Finds the entry most similar to a prompt in one segment.
    pub fn search(&self, key: &SegmentKey, canonical: &str, embedding: &Embedding) -> SearchResult {
        // A poisoned lock only means another request panicked mid-operation; the data is
        // still usable for an emulator, so carry on rather than failing every later request.
        let segments = self.segments.read().unwrap_or_else(PoisonError::into_inner);
        let Some(segment) = segments.get(key) else {
            return SearchResult {
                best: None,
                entry_count: 0,
            };
        };
        let entry_count = segment.entries.len();
        if let Some(&index) = segment.exact.get(canonical) {
            return SearchResult {
                best: segment.entries.get(index).map(|entry| Match {
                    entry: entry.clone(),
                    score: 1.0,
                }),
                entry_count,
            };
        }
        let mut best: Option<(usize, f32)> = None;
        for (index, stored) in segment.embeddings.chunks_exact(DIM).enumerate() {
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

    /// Adds an entry to a segment and returns its id.
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
        let mut segments = self
            .segments
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let segment = segments.entry(key).or_default();
        let index = segment.entries.len();
        segment.embeddings.extend_from_slice(embedding);
        segment.entries.push(Entry {
            id: id.clone(),
            prompt: prompt.to_owned(),
            response: response.to_owned(),
            model: model.to_owned(),
        });
        segment.exact.entry(canonical).or_insert(index);
        id
    }

    /// Removes every entry of every segment.
    pub fn clear(&self) {
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Total number of entries across all segments.
    pub fn len(&self) -> usize {
        self.segments
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|s| s.entries.len())
            .sum()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    #[test]
    fn uuids_look_like_v4() {
        let id = new_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
