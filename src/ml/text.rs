//! Text to numbers, by rules simple enough to restate in a few lines of any
//! language (the model file carries them, and docs/data-science.md, "The model file",
//! spells them out): ASCII-lowercase, split on anything but `[a-z0-9]`, drop short,
//! numeric and stop words; then sublinear TF times smoothed IDF, L2-normalised.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a document becomes tokens. Stored in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tokenizer {
    /// Tokens shorter than this (in bytes: they are ASCII) are dropped.
    pub min_token_len: usize,
    /// Tokens made only of digits are dropped (years, counts: noise here).
    pub drop_numeric: bool,
    /// Dropped after lowercasing, sorted.
    pub stop_words: Vec<String>,
}

/// Common English function words: they say nothing about a book's genre.
const STOP_WORDS: &str = "about above after again against all also am an and any are as at be \
because been before being below between both but by can could did do does doing down during \
each even ever every few for from further get got had has have having he her here hers herself \
him himself his how however if in into is it its itself just let like may me might more most \
much must my myself never no nor not now of off on once one only or other our ours ourselves out \
over own same shall she should so some still such than that the their theirs them themselves \
then there these they this those though through to too under until up upon us very was we were \
what when where whether which while who whom whose why will with within without would yet you \
your yours yourself yourselves";

impl Default for Tokenizer {
    fn default() -> Self {
        let mut stop_words: Vec<String> =
            STOP_WORDS.split_whitespace().map(str::to_owned).collect();
        stop_words.sort();
        stop_words.dedup();
        Tokenizer {
            min_token_len: 2,
            drop_numeric: true,
            stop_words,
        }
    }
}

impl Tokenizer {
    /// The tokens of `text`, in order, repeats kept.
    pub fn tokens<'a>(&'a self, text: &'a str) -> impl Iterator<Item = String> + 'a {
        self.candidates(text)
            .map(str::to_ascii_lowercase)
            .filter(move |token| self.stop_words.binary_search(token).is_err())
    }

    /// The runs of ASCII letters and digits long enough and not numeric, as
    /// written (not yet lowercased, stop words still in).
    fn candidates<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(move |token| token.len() >= self.min_token_len)
            .filter(move |token| !(self.drop_numeric && token.bytes().all(|b| b.is_ascii_digit())))
    }

    /// How often each token occurs in `text`.
    pub fn counts(&self, text: &str) -> BTreeMap<String, u32> {
        let mut counts = BTreeMap::new();
        for token in self.tokens(text) {
            *counts.entry(token).or_insert(0) += 1;
        }
        counts
    }
}

/// A sparse vector: ascending term indices and their weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f64>,
}

impl SparseVector {
    /// The dot product with a dense row.
    pub fn dot(&self, dense: &[f64]) -> f64 {
        self.as_ref().dot(dense)
    }

    /// The dot product with another sparse vector.
    pub fn dot_sparse(&self, other: &SparseVector) -> f64 {
        self.as_ref().dot_sparse(other.as_ref())
    }

    pub fn as_ref(&self) -> SparseRef<'_> {
        SparseRef {
            indices: &self.indices,
            values: &self.values,
        }
    }
}

/// A borrowed sparse vector: ascending term indices and their weights, for
/// vectors kept side by side in flat arrays.
#[derive(Debug, Clone, Copy)]
pub struct SparseRef<'a> {
    pub indices: &'a [u32],
    pub values: &'a [f64],
}

impl SparseRef<'_> {
    /// The dot product with a dense row, summed in ascending term order.
    pub fn dot(&self, dense: &[f64]) -> f64 {
        self.indices
            .iter()
            .zip(self.values)
            .map(|(&i, &v)| v * dense[i as usize])
            .sum()
    }

    /// The dot product with another sparse vector, summed over the shared
    /// terms in ascending order.
    pub fn dot_sparse(&self, other: SparseRef<'_>) -> f64 {
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < self.indices.len() && j < other.indices.len() {
            match self.indices[i].cmp(&other.indices[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += self.values[i] * other.values[j];
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }
}

/// TF-IDF over a fixed vocabulary. Stored in the model file.
///
/// For a document: `tf = 1 + ln(count)` for each vocabulary term it holds,
/// times `idf[term]`, then divided by the vector's Euclidean norm (a document
/// with no vocabulary term is the zero vector).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vectorizer {
    pub tokenizer: Tokenizer,
    /// The terms, sorted; a term's index is its position.
    pub vocabulary: Vec<String>,
    /// `ln((1 + n) / (1 + df)) + 1` per term, over the `n` fitting documents.
    pub idf: Vec<f64>,
}

/// How the vocabulary is chosen from the fitting documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VocabularyRules {
    /// A term must occur in at least this many documents.
    pub min_df: u32,
    /// Keep at most this many terms, the most frequent by document count
    /// (ties by term, alphabetically).
    pub max_terms: usize,
}

impl Vectorizer {
    /// Learns the vocabulary and IDF from `documents`.
    pub fn fit<'a>(
        tokenizer: Tokenizer,
        rules: VocabularyRules,
        documents: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self::fit_transform(tokenizer, rules, documents).0
    }

    /// Learns the vocabulary and IDF from `documents` and returns each
    /// one's vector too: the very vectors [`Vectorizer::transform`] gives,
    /// bit for bit (a test pins it), from one tokenizing pass.
    ///
    /// Each distinct lowercased token is looked up once, in a hash map, and
    /// a document becomes token numbers: no allocation per token and no
    /// second tokenizing pass. At 1,000 books this took fitting plus
    /// transforming from about 150 ms to about 15 ms.
    pub fn fit_transform<'a>(
        tokenizer: Tokenizer,
        rules: VocabularyRules,
        documents: impl IntoIterator<Item = &'a str>,
    ) -> (Self, Vec<SparseVector>) {
        const STOP_WORD: u32 = u32::MAX;
        let mut numbers: rustc_hash::FxHashMap<String, u32> = Default::default();
        let mut tokens: Vec<String> = Vec::new();
        let mut df: Vec<u32> = Vec::new();
        // Each document's distinct token numbers with their counts, sorted.
        let mut counted: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut lower = String::new();
        for document in documents {
            let mut ids: Vec<u32> = Vec::new();
            for candidate in tokenizer.candidates(document) {
                lowercase_into(&mut lower, candidate);
                let id = match numbers.get(lower.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = if tokenizer.stop_words.binary_search(&lower).is_ok() {
                            STOP_WORD
                        } else {
                            tokens.push(lower.clone());
                            df.push(0);
                            tokens.len() as u32 - 1
                        };
                        numbers.insert(lower.clone(), id);
                        id
                    }
                };
                if id != STOP_WORD {
                    ids.push(id);
                }
            }
            let counts = count_sorted(ids);
            for &(id, _) in &counts {
                df[id as usize] += 1;
            }
            counted.push(counts);
        }
        let n = counted.len() as u32;

        let mut kept: Vec<u32> = (0..tokens.len() as u32)
            .filter(|&id| df[id as usize] >= rules.min_df)
            .collect();
        // Most frequent first, then alphabetical: a total order, so the
        // cut is the same on every run.
        kept.sort_by(|&a, &b| {
            df[b as usize]
                .cmp(&df[a as usize])
                .then_with(|| tokens[a as usize].cmp(&tokens[b as usize]))
        });
        kept.truncate(rules.max_terms);
        kept.sort_by(|&a, &b| tokens[a as usize].cmp(&tokens[b as usize]));
        let mut term_of = vec![u32::MAX; tokens.len()];
        for (index, &id) in kept.iter().enumerate() {
            term_of[id as usize] = index as u32;
        }
        let idf = kept
            .iter()
            .map(|&id| ((1.0 + f64::from(n)) / (1.0 + f64::from(df[id as usize]))).ln() + 1.0)
            .collect();
        let vocabulary = kept
            .iter()
            .map(|&id| std::mem::take(&mut tokens[id as usize]))
            .collect();
        let vectorizer = Vectorizer::new(tokenizer, vocabulary, idf);

        let vectors = counted
            .into_iter()
            .map(|counts| {
                let mut counts: Vec<(u32, u32)> = counts
                    .into_iter()
                    .filter_map(|(id, count)| {
                        let term = term_of[id as usize];
                        (term != u32::MAX).then_some((term, count))
                    })
                    .collect();
                counts.sort_unstable_by_key(|(term, _)| *term);
                vectorizer.weigh(counts)
            })
            .collect();
        (vectorizer, vectors)
    }

    /// A vectorizer from stored parts (`vocabulary` sorted and distinct).
    ///
    /// Terms are found by binary search in the sorted vocabulary rather than
    /// through a hash index: nothing to build when a model is opened (a
    /// 5,000-term index cost about a millisecond of each cold start).
    pub fn new(tokenizer: Tokenizer, vocabulary: Vec<String>, idf: Vec<f64>) -> Self {
        Vectorizer {
            tokenizer,
            vocabulary,
            idf,
        }
    }

    /// The index of `term` in the vocabulary.
    fn term_index(&self, term: &str) -> Option<u32> {
        let found = self.vocabulary.binary_search_by(|t| t.as_str().cmp(term));
        found.ok().map(|index| index as u32)
    }

    pub fn len(&self) -> usize {
        self.vocabulary.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vocabulary.is_empty()
    }

    /// The L2-normalised TF-IDF vector of `document`.
    ///
    /// Counts only vocabulary terms, lowercasing each candidate into one
    /// buffer: no allocation per token, and no stop-word lookup, since the
    /// vocabulary holds no stop word (the same result as counting
    /// [`Tokenizer::tokens`], a test pins it, at a fraction of the cost).
    pub fn transform(&self, document: &str) -> SparseVector {
        let mut terms: Vec<u32> = Vec::new();
        let mut lower = String::new();
        for candidate in self.tokenizer.candidates(document) {
            lowercase_into(&mut lower, candidate);
            if let Some(index) = self.term_index(&lower) {
                terms.push(index);
            }
        }
        self.weigh(count_sorted(terms))
    }

    /// The L2-normalised TF-IDF vector of vocabulary terms with their
    /// counts, in ascending term order: every vector is weighed here, so
    /// the sums run in one order and vectors agree bit for bit.
    fn weigh(&self, counts: Vec<(u32, u32)>) -> SparseVector {
        let mut entries: Vec<(u32, f64)> = counts
            .into_iter()
            .map(|(index, count)| {
                let tf = 1.0 + f64::from(count).ln();
                (index, tf * self.idf[index as usize])
            })
            .collect();
        let norm = entries.iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (_, value) in &mut entries {
                *value /= norm;
            }
        }
        let (indices, values) = entries.into_iter().unzip();
        SparseVector { indices, values }
    }
}

/// Puts `candidate` lowercased into `buffer`: candidates are ASCII (see
/// [`Tokenizer::candidates`]), so a byte-wise lowercase is the whole job.
fn lowercase_into(buffer: &mut String, candidate: &str) {
    buffer.clear();
    buffer.push_str(candidate);
    buffer.make_ascii_lowercase();
}

/// The distinct values of `values` with how often each occurs, ascending.
fn count_sorted(mut values: Vec<u32>) -> Vec<(u32, u32)> {
    values.sort_unstable();
    let mut counts: Vec<(u32, u32)> = Vec::new();
    for value in values {
        match counts.last_mut() {
            Some((last, count)) if *last == value => *count += 1,
            _ => counts.push((value, 1)),
        }
    }
    counts
}

/// The text a book is classified and compared by: title, then description.
pub fn book_text(title: &str, description: &str) -> String {
    format!("{title}\n{description}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_the_stated_rules() {
        let tokenizer = Tokenizer::default();
        let tokens: Vec<String> = tokenizer
            .tokens("The Café's 1984 edition: X-Men, RE-read at 2am!")
            .collect();
        // "the"/"at" are stop words, "s"/"x" too short, "1984" numeric,
        // "é" separates ("caf"), "2am" has a letter so it stays.
        assert_eq!(tokens, ["caf", "edition", "men", "re", "read", "2am"]);
    }

    #[test]
    fn tf_idf_is_sublinear_smoothed_and_unit_length() {
        let docs = ["apple apple banana", "banana cherry", "cherry apple"];
        let v = Vectorizer::fit(
            Tokenizer::default(),
            VocabularyRules {
                min_df: 1,
                max_terms: 10,
            },
            docs,
        );
        assert_eq!(v.vocabulary, ["apple", "banana", "cherry"]);
        let idf = ((1.0 + 3.0) / (1.0 + 2.0_f64)).ln() + 1.0;
        assert!(v.idf.iter().all(|&x| (x - idf).abs() < 1e-15));
        let x = v.transform("apple apple banana unknown");
        assert_eq!(x.indices, [0, 1]);
        let (a, b) = ((1.0 + 2f64.ln()) * idf, idf);
        let norm = (a * a + b * b).sqrt();
        assert!((x.values[0] - a / norm).abs() < 1e-15);
        assert!((x.values[1] - b / norm).abs() < 1e-15);
        assert!((x.dot_sparse(&x) - 1.0).abs() < 1e-12);
        assert_eq!(v.transform("nothing known"), SparseVector::default());
    }

    #[test]
    fn transform_equals_tf_idf_over_the_counted_tokens() {
        let docs = [
            "The Cat and THE cat, 1984: a Cat's tale of the dog",
            "Dogs and cats; the 2nd tale. A dog, a DOG!",
            "the of and 12 7 x",
        ];
        let v = Vectorizer::fit(
            Tokenizer::default(),
            VocabularyRules {
                min_df: 1,
                max_terms: 100,
            },
            docs,
        );
        for doc in docs
            .iter()
            .chain(&["unknown words only", "", "CAT cat Cat tale"])
        {
            let mut reference: Vec<(u32, f64)> = v
                .tokenizer
                .counts(doc)
                .into_iter()
                .filter_map(|(term, n)| {
                    let i = v.vocabulary.binary_search(&term).ok()? as u32;
                    Some((i, (1.0 + f64::from(n).ln()) * v.idf[i as usize]))
                })
                .collect();
            reference.sort_by_key(|(i, _)| *i);
            let norm = reference.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
            let x = v.transform(doc);
            assert_eq!(
                x.indices,
                reference.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
                "{doc}"
            );
            for (got, (_, w)) in x.values.iter().zip(&reference) {
                assert_eq!(*got, w / norm, "{doc}");
            }
        }
    }

    #[test]
    fn fit_transform_is_fit_then_transform_bit_for_bit() {
        let words = [
            "the", "Cat", "cat", "dog", "tale", "of", "1984", "x", "river", "RIVER", "stone",
            "night", "war", "love", "sea", "and", "2am", "Dragon", "poem", "a",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let docs: Vec<String> = (0..200)
            .map(|i| {
                (0..i % 23)
                    .map(|_| words[rng.usize(..words.len())])
                    .collect::<Vec<_>>()
                    .join(if i % 2 == 0 { " " } else { ", " })
            })
            .collect();
        for rules in [
            VocabularyRules {
                min_df: 1,
                max_terms: 100,
            },
            // Cuts on both sides: rare terms out, and ties at the limit.
            VocabularyRules {
                min_df: 3,
                max_terms: 7,
            },
        ] {
            let docs = docs.iter().map(String::as_str);
            let fitted = Vectorizer::fit(Tokenizer::default(), rules, docs.clone());
            let (both, vectors) =
                Vectorizer::fit_transform(Tokenizer::default(), rules, docs.clone());
            assert_eq!(both, fitted);
            let one_by_one: Vec<SparseVector> = docs.map(|d| fitted.transform(d)).collect();
            assert_eq!(vectors, one_by_one, "{rules:?}");
        }
    }

    /// [`Vectorizer::fit`] as first written, over [`Tokenizer::counts`]:
    /// the faster one must choose the same vocabulary and IDF.
    fn fit_by_counting(rules: VocabularyRules, docs: &[&str]) -> (Vec<String>, Vec<f64>) {
        let tokenizer = Tokenizer::default();
        let mut df: BTreeMap<String, u32> = BTreeMap::new();
        for doc in docs {
            for term in tokenizer.counts(doc).into_keys() {
                *df.entry(term).or_insert(0) += 1;
            }
        }
        let mut kept: Vec<(String, u32)> =
            df.into_iter().filter(|(_, d)| *d >= rules.min_df).collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(rules.max_terms);
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        let n = docs.len() as f64;
        let idf = kept
            .iter()
            .map(|(_, d)| ((1.0 + n) / (1.0 + f64::from(*d))).ln() + 1.0)
            .collect();
        (kept.into_iter().map(|(t, _)| t).collect(), idf)
    }

    #[test]
    fn fit_chooses_the_terms_counting_tokens_would() {
        let docs = [
            "The Cat and THE cat, 1984: a Cat's tale of the dog",
            "Dogs and cats; the 2nd tale. A dog, a DOG!",
            "the of and 12 7 x",
            "Tale tale TALE of a river; river stones and a cat",
            "",
        ];
        for (min_df, max_terms) in [(1, 100), (2, 100), (1, 3), (2, 2)] {
            let rules = VocabularyRules { min_df, max_terms };
            let fitted = Vectorizer::fit(Tokenizer::default(), rules, docs);
            let (vocabulary, idf) = fit_by_counting(rules, &docs);
            assert_eq!(fitted.vocabulary, vocabulary, "{rules:?}");
            assert_eq!(fitted.idf, idf, "{rules:?}");
        }
    }

    #[test]
    fn the_vocabulary_keeps_the_most_frequent_terms_deterministically() {
        let docs = ["bb aa", "bb cc", "dd bb", "aa cc"];
        let v = Vectorizer::fit(
            Tokenizer::default(),
            VocabularyRules {
                min_df: 2,
                max_terms: 2,
            },
            docs,
        );
        // df: bb 3, aa 2, cc 2, dd 1 -> bb, then aa before cc.
        assert_eq!(v.vocabulary, ["aa", "bb"]);
    }
}
