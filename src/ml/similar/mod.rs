//! Content-based neighbours: for every book, the books whose text is most
//! alike, by the cosine of their TF-IDF vectors (title and description,
//! [`text`](super::text), the vocabulary fitted on the whole catalogue).
//! `books build-db` stores them in `similar_books`, `books validate`
//! checks that table, and `/books/{id}/similar` serves them.
//!
//! The vectors are L2-normalised, so the cosine is their dot product. A
//! book's candidates come from an inverted index (term → the books holding
//! it): only a book sharing a term with it can score above 0.
//!
//! **Exact while the index is small, bounded beyond.** Scoring every book
//! that shares any term costs the sum of those terms' document counts per
//! book, which grows with the square of the catalogue (551 s at 100k books).
//! So each book reads at most [`SCAN_BUDGET`] postings:
//! - when its terms' postings fit in the budget (every book of the real
//!   1,000-book catalogue), all are read, in ascending term order: the very
//!   sums [`SparseVector::dot_sparse`] takes, bit for bit, so the list is
//!   the exact one;
//! - otherwise the terms that can add the most to a cosine (the book's
//!   weight times the term's largest weight in any book) are read first,
//!   as long as they fit; the common terms left out add at most a little to
//!   any score. The [`RESCORED`] best candidates by those partial sums are
//!   then scored exactly, so every stored score is an exact cosine, and each
//!   list also takes the books that listed it ([`SimilarityIndex::all`]);
//!   what is given up is that a book reached only through skipped terms can
//!   be missed. docs/scale.md gives the measured time and the overlap with
//!   the exact lists.

mod index;

pub use index::{OwnNeighbours, Scratch, SimilarityIndex};

use super::text::{SparseVector, Tokenizer, Vectorizer, VocabularyRules, book_text};
use crate::domain::{Book, BookId};

/// Neighbours kept per book (all the others in a catalogue of at most this
/// many books): the largest `limit` the endpoint accepts.
pub const NEIGHBOURS: usize = 20;

/// The vocabulary: terms found in at least two books, the 5,000 most common.
pub const VOCABULARY: VocabularyRules = VocabularyRules {
    min_df: 2,
    max_terms: 5000,
};

/// Postings a book's candidates are gathered from, at most. Every book of
/// the real catalogue fits; at 1M synthetic books, lists take 4 min with it
/// (16,384 kept more of the exact lists but ran past 10 min there).
pub const SCAN_BUDGET: usize = 1 << 13;

/// Candidates scored exactly when a book's terms did not all fit in
/// [`SCAN_BUDGET`]: the best by their partial sums.
pub const RESCORED: usize = 100;

/// Scores are kept to this many decimal places, so that they print short and
/// two books that tie in print tie in the order too (broken by id).
pub const SCORE_DECIMALS: i32 = 6;

/// One neighbour of a book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub id: BookId,
    /// The cosine similarity, in [0, 1], to [`SCORE_DECIMALS`] places.
    pub score: f64,
}

/// A cosine as stored: within [0, 1] (rounding can take the cosine of two
/// identical texts a hair past 1) and to [`SCORE_DECIMALS`] places.
pub fn score(cosine: f64) -> f64 {
    let scale = 10f64.powi(SCORE_DECIMALS);
    // Not `clamp`: an empty sum can be -0.0, which must store as 0.
    let cosine = if cosine > 0.0 { cosine.min(1.0) } else { 0.0 };
    (cosine * scale).round() / scale
}

/// The order of a neighbour list: score descending, ties by id ascending.
pub fn ranks_before(a: &Neighbour, b: &Neighbour) -> std::cmp::Ordering {
    b.score.total_cmp(&a.score).then(a.id.cmp(&b.id))
}

/// The TF-IDF vectors of `books` (in the given order), the vectorizer fitted
/// on those same books.
pub fn vectors(books: &[&Book]) -> Vec<SparseVector> {
    let texts: Vec<String> = books
        .iter()
        .map(|b| book_text(&b.title, &b.description))
        .collect();
    let (_, vectors) = Vectorizer::fit_transform(
        Tokenizer::default(),
        VOCABULARY,
        texts.iter().map(String::as_str),
    );
    vectors
}

/// The `k` nearest neighbours of every book, best first (see
/// [`ranks_before`]), never the book itself; for each book in ascending id
/// order. A book sharing no term with the others still gets `k` neighbours,
/// all scored 0 (by id).
pub fn neighbours(books: &[Book], k: usize) -> Vec<(BookId, Vec<Neighbour>)> {
    SimilarityIndex::new(books).all(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Price, Rating};

    fn book(id: u32, title: &str, description: &str) -> Book {
        Book {
            id: BookId::new(id).unwrap(),
            upc: format!("upc{id}"),
            title: title.to_owned(),
            category: "Fiction".to_owned(),
            price: Price::from_pence(100),
            price_excl_tax: Price::from_pence(100),
            tax: Price::from_pence(0),
            rating: Rating::new(3).unwrap(),
            availability: "In stock".to_owned(),
            stock: 1,
            review_count: 0,
            product_type: "Books".to_owned(),
            description: description.to_owned(),
            image_url: String::new(),
            product_url: String::new(),
        }
    }

    fn ids(list: &[Neighbour]) -> Vec<u32> {
        list.iter().map(|n| n.id.get()).collect()
    }

    #[test]
    fn neighbours_are_ranked_by_cosine_then_id_and_never_the_book_itself() {
        let books = [
            book(9, "Dragons", "dragons and castles and knights"),
            book(3, "Castles", "castles and knights"),
            book(5, "Recipes", "soup recipes"),
            book(7, "Soup", "soup recipes for winter"),
            book(4, "Nothing", "zzz"),
        ];
        let all = neighbours(&books, 10);
        let listed: Vec<u32> = all.iter().map(|(id, _)| id.get()).collect();
        assert_eq!(listed, [3, 4, 5, 7, 9], "in id order");
        for (id, list) in &all {
            assert_eq!(list.len(), 4, "every other book");
            assert!(list.iter().all(|n| n.id != *id), "not itself");
            assert!(list.windows(2).all(|w| ranks_before(&w[0], &w[1]).is_le()));
            assert!(list.iter().all(|n| (0.0..=1.0).contains(&n.score)));
        }
        let of = |id: u32| &all.iter().find(|(b, _)| b.get() == id).unwrap().1;
        assert_eq!(ids(of(9))[0], 3);
        assert_eq!(ids(of(5))[0], 7);
        // A book sharing no term: every score 0, so by id.
        assert_eq!(ids(of(4)), [3, 5, 7, 9]);
        assert!(of(4).iter().all(|n| n.score == 0.0));
        // Truncated to k.
        let two = neighbours(&books, 2);
        assert_eq!(ids(&two[0].1), ids(&of(3)[..2]));
    }

    /// The first implementation: every book's dot product with every
    /// other, ranked over all n. The faster one must match it exactly.
    fn neighbours_over_all_books(books: &[Book], k: usize) -> Vec<(BookId, Vec<Neighbour>)> {
        let mut sorted: Vec<&Book> = books.iter().collect();
        sorted.sort_by_key(|b| b.id);
        let vectors = vectors(&sorted);
        let mut out = Vec::new();
        for (i, vector) in vectors.iter().enumerate() {
            let mut candidates: Vec<Neighbour> = (0..sorted.len())
                .filter(|&j| j != i)
                .map(|j| Neighbour {
                    id: sorted[j].id,
                    score: score(vector.dot_sparse(&vectors[j])),
                })
                .collect();
            candidates.sort_by(ranks_before);
            candidates.truncate(k);
            out.push((sorted[i].id, candidates));
        }
        out
    }

    #[test]
    fn neighbours_are_those_of_ranking_every_book() {
        let books = random_books();
        for k in [1, 5, 20, 400] {
            assert_eq!(
                neighbours(&books, k),
                neighbours_over_all_books(&books, k),
                "k = {k}"
            );
        }
    }

    /// 300 books of short random texts over a small vocabulary: many
    /// ties, books that share nothing, duplicates.
    fn random_books() -> Vec<Book> {
        let words = [
            "dragon", "castle", "knight", "soup", "winter", "recipe", "light", "attic", "poem",
            "river", "stone", "night", "garden", "war", "love", "sea",
        ];
        let mut rng = fastrand::Rng::with_seed(42);
        let mut text = |n: usize| {
            (0..n)
                .map(|_| words[rng.usize(..words.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        (1..=300)
            .map(|id| {
                let (title, description) = (text(1), text(id as usize % 7));
                book(id * 3 % 1000 + 1, &title, &description)
            })
            .collect()
    }

    #[test]
    fn a_book_whose_postings_fit_the_budget_gets_the_exact_list() {
        let books = random_books();
        let exact = neighbours_over_all_books(&books, 20);
        let index = SimilarityIndex::new(&books);
        let mut scratch = index.scratch();
        for (i, (_, expected)) in exact.iter().enumerate() {
            let own = index.neighbours_of(i, 20, &mut scratch);
            assert!(own.exact, "300 books fit the default budget");
            assert_eq!(&own.list, expected);
        }
        // The same scratch, the same book again: the same list.
        assert_eq!(index.neighbours_of(7, 20, &mut scratch).list, exact[7].1);
        // Every posting of every book is more than a budget of 50 allows.
        let tight = SimilarityIndex::with_scan_budget(&books, 50);
        let mut scratch = tight.scratch();
        assert!((0..tight.len()).any(|i| !tight.neighbours_of(i, 20, &mut scratch).exact));
    }

    #[test]
    fn beyond_the_budget_lists_are_well_formed_exactly_scored_and_mostly_exact() {
        let books = random_books();
        let exact = neighbours_over_all_books(&books, 5);
        // A budget of 100 postings leaves most books' terms partly unread.
        let index = SimilarityIndex::with_scan_budget(&books, 100);
        let mut scratch = index.scratch();
        let bounded = (0..index.len())
            .filter(|&i| !index.neighbours_of(i, 5, &mut scratch).exact)
            .count();
        assert!(bounded > 200, "{bounded} of 300 books over the budget");
        let all = index.all(5);
        assert_eq!(all, index.all(5), "deterministic");
        let mut kept = 0;
        for (i, (id, list)) in all.iter().enumerate() {
            assert_eq!(*id, exact[i].0);
            assert_eq!(list.len(), 5);
            assert!(list.iter().all(|n| n.id != *id), "not itself");
            let mut seen: Vec<BookId> = list.iter().map(|n| n.id).collect();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 5, "no book twice");
            assert!(list.windows(2).all(|w| ranks_before(&w[0], &w[1]).is_le()));
            for n in list {
                let j = index.position(n.id).unwrap();
                assert_eq!(n.score, index.score_between(i, j), "an exact cosine");
            }
            let expected: Vec<BookId> = exact[i].1.iter().map(|n| n.id).collect();
            kept += list.iter().filter(|n| expected.contains(&n.id)).count();
        }
        // Measured 0.946 of the exact top 5 and 0.997 of their summed score
        // (0.998 and 1.000 at a budget of 200).
        let share = kept as f64 / (5 * all.len()) as f64;
        assert!(share >= 0.9, "only {share:.3} of the exact top 5 kept");
        let found: f64 = all
            .iter()
            .flat_map(|(_, l)| l.iter().map(|n| n.score))
            .sum();
        let best: f64 = exact
            .iter()
            .flat_map(|(_, l)| l.iter().map(|n| n.score))
            .sum();
        assert!(
            found / best >= 0.99,
            "summed score {:.3} of the exact",
            found / best
        );
    }

    #[test]
    fn an_empty_sum_scores_zero_not_minus_zero() {
        assert!(score(-0.0).is_sign_positive());
        assert_eq!(score(f64::NAN), 0.0);
    }

    #[test]
    fn scores_are_the_rounded_dot_products_of_the_vectors() {
        let books = [
            book(1, "Light attic", "poems of light and the attic"),
            book(2, "Attic", "an attic full of poems"),
            book(3, "Light", "light"),
            book(4, "Light attic", "poems of light and the attic"),
        ];
        let sorted: Vec<&Book> = books.iter().collect();
        let vectors = vectors(&sorted);
        for (id, list) in neighbours(&books, 3) {
            let i = id.get() as usize - 1;
            for n in list {
                let j = n.id.get() as usize - 1;
                assert_eq!(n.score, score(vectors[i].dot_sparse(&vectors[j])));
            }
        }
        // Identical texts score exactly 1.
        assert_eq!(neighbours(&books, 1)[0].1[0].id.get(), 4);
        assert_eq!(neighbours(&books, 1)[0].1[0].score, 1.0);
        assert_eq!(score(1.000_000_000_000_2), 1.0);
        assert_eq!(score(0.123_456_49), 0.123_456);
    }
}
