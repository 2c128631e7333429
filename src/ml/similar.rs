//! Content-based neighbours: for every book, the books whose text is most
//! alike, by the cosine of their TF-IDF vectors (title and description,
//! [`text`](super::text), the vocabulary fitted on the whole catalogue).
//! `books build-db` stores them in `similar_books`, `books validate`
//! recomputes them to check that table, and `/books/{id}/similar` serves them.
//!
//! The vectors are L2-normalised, so the cosine is their dot product. Every
//! pair sharing a term is scored through an inverted index (term → books
//! holding it), each sum taken in ascending term order: the very sums
//! [`SparseVector::dot_sparse`] takes, bit for bit.

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
    (cosine.clamp(0.0, 1.0) * scale).round() / scale
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
    let mut sorted: Vec<&Book> = books.iter().collect();
    sorted.sort_by_key(|b| b.id);
    let vectors = vectors(&sorted);

    // term -> (book index, weight), in book order.
    let terms = vectors
        .iter()
        .flat_map(|v| v.indices.iter())
        .max()
        .map_or(0, |&t| t as usize + 1);
    let mut postings: Vec<Vec<(usize, f64)>> = vec![Vec::new(); terms];
    for (book, vector) in vectors.iter().enumerate() {
        for (&term, &weight) in vector.indices.iter().zip(&vector.values) {
            postings[term as usize].push((book, weight));
        }
    }

    // Each book's list depends only on the vectors, so the books are split
    // into one contiguous range per core and ranked in parallel: the same
    // lists, in the same order, as one thread gives.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, sorted.len().max(1));
    let chunk = sorted.len().div_ceil(threads).max(1);
    let (sorted, vectors, postings) = (&sorted, &vectors, &postings);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..sorted.len())
            .step_by(chunk)
            .map(|from| {
                let books = from..(from + chunk).min(sorted.len());
                scope.spawn(move || rank(books, sorted, vectors, postings, k))
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The neighbour lists of the books at `books` (indices into `sorted`).
///
/// Only the books sharing a term with book i (`touched`) can score above 0;
/// every other one scores exactly 0 and ranks by id, so at most the first k
/// of those (in id order) can make the list. Ranking those candidates alone
/// gives the same list as ranking all n books, in time proportional to the
/// postings visited rather than to n per book.
fn rank(
    books: std::ops::Range<usize>,
    sorted: &[&Book],
    vectors: &[SparseVector],
    postings: &[Vec<(usize, f64)>],
    k: usize,
) -> Vec<(BookId, Vec<Neighbour>)> {
    let mut dots = vec![0.0f64; sorted.len()];
    let mut touched_in = vec![usize::MAX; sorted.len()];
    let mut touched: Vec<usize> = Vec::new();
    let mut candidates: Vec<Neighbour> = Vec::new();
    let mut out = Vec::with_capacity(books.len());
    for i in books {
        let vector = &vectors[i];
        for (&term, &weight) in vector.indices.iter().zip(&vector.values) {
            for &(j, other) in &postings[term as usize] {
                if touched_in[j] != i {
                    touched_in[j] = i;
                    touched.push(j);
                }
                dots[j] += weight * other;
            }
        }
        candidates.clear();
        candidates.extend(touched.iter().filter(|&&j| j != i).map(|&j| Neighbour {
            id: sorted[j].id,
            score: score(dots[j]),
        }));
        candidates.extend(
            (0..sorted.len())
                .filter(|&j| j != i && touched_in[j] != i)
                .take(k)
                .map(|j| Neighbour {
                    id: sorted[j].id,
                    score: score(0.0),
                }),
        );
        for &j in &touched {
            dots[j] = 0.0;
        }
        touched.clear();
        if k < candidates.len() {
            candidates.select_nth_unstable_by(k, ranks_before);
            candidates.truncate(k);
        }
        candidates.sort_by(ranks_before);
        out.push((sorted[i].id, candidates.clone()));
    }
    out
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
        // Short random texts over a small vocabulary: many ties, books that
        // share nothing, duplicates, and lists padded with zero scores.
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
        let books: Vec<Book> = (1..=300)
            .map(|id| {
                let (title, description) = (text(1), text(id as usize % 7));
                book(id * 3 % 1000 + 1, &title, &description)
            })
            .collect();
        for k in [1, 5, 20, 400] {
            assert_eq!(
                neighbours(&books, k),
                neighbours_over_all_books(&books, k),
                "k = {k}"
            );
        }
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
