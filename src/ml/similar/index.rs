//! The index the neighbours are computed from: the books' vectors in flat
//! arrays and the inverted index over them, each book reading at most
//! [`SCAN_BUDGET`] postings (see the [parent module](super) for why).

use super::{Neighbour, RESCORED, SCAN_BUDGET, ranks_before, score, vectors};
use crate::domain::{Book, BookId};
use crate::ml::text::SparseRef;

/// The books' vectors and the inverted index over them: what a neighbour
/// list is computed from, for all books ([`SimilarityIndex::all`]) or for
/// a few ([`SimilarityIndex::neighbours_of`], what validation samples).
pub struct SimilarityIndex<'a> {
    /// The books in ascending id order; a book's position is its index here.
    books: Vec<&'a Book>,
    /// Their ids, searched for positions (no pointer to follow per step).
    ids: Vec<BookId>,
    /// Book i's vector is `terms[vector_starts[i]..vector_starts[i + 1]]`
    /// with its `term_weights`: one flat run per book, so that scoring a
    /// candidate reads two contiguous ranges (about a third of the time
    /// separate allocations took at 100k books).
    vector_starts: Vec<usize>,
    terms: Vec<u32>,
    term_weights: Vec<f64>,
    /// Term t's postings are `holders[starts[t]..starts[t + 1]]` (book
    /// positions, ascending) with their `weights`.
    starts: Vec<usize>,
    holders: Vec<u32>,
    weights: Vec<f64>,
    /// Each term's largest weight in any book.
    top_weight: Vec<f64>,
    /// Postings a book reads at most: [`SCAN_BUDGET`] but in tests.
    scan_budget: usize,
}

/// One thread's working memory for [`SimilarityIndex::neighbours_of`].
pub struct Scratch {
    sums: Vec<f64>,
    /// `touched_by[j] == i + 1` while book j shares a read term with book
    /// i; 0 between calls.
    touched_by: Vec<u32>,
    touched: Vec<u32>,
    /// Partial sums with book positions, when not every term was read.
    partial: Vec<(f64, u32)>,
    /// The book's vector spread over the vocabulary, for exact rescoring.
    dense: Vec<f64>,
    candidates: Vec<Neighbour>,
}

impl<'a> SimilarityIndex<'a> {
    pub fn new(books: &'a [Book]) -> Self {
        Self::with_scan_budget(books, SCAN_BUDGET)
    }

    /// An index whose books read at most `scan_budget` postings each: for
    /// tests, and for measuring what the budget buys.
    pub fn with_scan_budget(books: &'a [Book], scan_budget: usize) -> Self {
        let mut sorted: Vec<&Book> = books.iter().collect();
        sorted.sort_by_key(|b| b.id);
        let vectors = vectors(&sorted);
        let terms = vectors
            .iter()
            .flat_map(|v| v.indices.iter())
            .max()
            .map_or(0, |&t| t as usize + 1);
        let mut starts = vec![0usize; terms + 1];
        for vector in &vectors {
            for &term in &vector.indices {
                starts[term as usize + 1] += 1;
            }
        }
        for t in 0..terms {
            starts[t + 1] += starts[t];
        }
        let mut next = starts.clone();
        let mut holders = vec![0u32; starts[terms]];
        let mut weights = vec![0f64; starts[terms]];
        let mut top_weight = vec![0f64; terms];
        for (book, vector) in vectors.iter().enumerate() {
            for (&term, &weight) in vector.indices.iter().zip(&vector.values) {
                let t = term as usize;
                holders[next[t]] = book as u32;
                weights[next[t]] = weight;
                next[t] += 1;
                top_weight[t] = top_weight[t].max(weight);
            }
        }
        let mut vector_starts = Vec::with_capacity(vectors.len() + 1);
        vector_starts.push(0);
        let (mut flat_terms, mut flat_weights) = (Vec::new(), Vec::new());
        for vector in vectors {
            flat_terms.extend_from_slice(&vector.indices);
            flat_weights.extend_from_slice(&vector.values);
            vector_starts.push(flat_terms.len());
        }
        SimilarityIndex {
            ids: sorted.iter().map(|b| b.id).collect(),
            books: sorted,
            vector_starts,
            terms: flat_terms,
            term_weights: flat_weights,
            starts,
            holders,
            weights,
            top_weight,
            scan_budget,
        }
    }

    /// How many books.
    pub fn len(&self) -> usize {
        self.books.len()
    }

    pub fn is_empty(&self) -> bool {
        self.books.is_empty()
    }

    /// The id of the book at `position`.
    pub fn id(&self, position: usize) -> BookId {
        self.ids[position]
    }

    /// The position of the book with `id`.
    pub fn position(&self, id: BookId) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// The stored score of the books at positions `i` and `j`: their exact
    /// cosine, rounded (see [`score`]).
    pub fn score_between(&self, i: usize, j: usize) -> f64 {
        score(self.vector(i).dot_sparse(self.vector(j)))
    }

    /// The vector of the book at position `i`.
    fn vector(&self, i: usize) -> SparseRef<'_> {
        let range = self.vector_starts[i]..self.vector_starts[i + 1];
        SparseRef {
            indices: &self.terms[range.clone()],
            values: &self.term_weights[range],
        }
    }

    /// Working memory for [`SimilarityIndex::neighbours_of`].
    pub fn scratch(&self) -> Scratch {
        Scratch {
            sums: vec![0.0; self.len()],
            touched_by: vec![0; self.len()],
            touched: Vec::new(),
            partial: Vec::new(),
            dense: vec![0.0; self.top_weight.len()],
            candidates: Vec::new(),
        }
    }

    /// Every book's `k` neighbours, in ascending id order.
    ///
    /// Each book's own list depends only on the index, so the books are
    /// split into one contiguous range per core and ranked in parallel: the
    /// same lists, in the same order, as one thread gives. Then each list
    /// also considers the books that listed it: the cosine is symmetric, so
    /// when book j found book i through a term book i did not read, i gains
    /// j at its exact score. Exact lists are left as they were (a book that
    /// lists i but is not in i's exact top k ranks after all of them).
    pub fn all(&self, k: usize) -> Vec<(BookId, Vec<Neighbour>)> {
        let own: Vec<Vec<Neighbour>> =
            self.per_book(|i, scratch| self.neighbours_of(i, k, scratch).list);

        // Book i's offers to the books it lists, grouped by receiver.
        let mut offers: Vec<(u32, Neighbour)> = own
            .iter()
            .enumerate()
            .flat_map(|(i, list)| {
                list.iter().map(move |neighbour| {
                    let j = self.position(neighbour.id).expect("a listed book");
                    let offer = Neighbour {
                        id: self.books[i].id,
                        score: neighbour.score,
                    };
                    (j as u32, offer)
                })
            })
            .collect();
        offers.sort_by_key(|&(j, offer)| (j, offer.id));
        let mut offers = offers.as_slice();
        own.into_iter()
            .enumerate()
            .map(|(j, mut list)| {
                let split = offers.partition_point(|&(to, _)| to as usize <= j);
                let (to_j, rest) = offers.split_at(split);
                offers = rest;
                let listed: Vec<BookId> = list.iter().map(|n| n.id).collect();
                list.extend(
                    to_j.iter()
                        .map(|&(_, offer)| offer)
                        .filter(|offer| !listed.contains(&offer.id)),
                );
                keep_best(&mut list, k);
                list.sort_by(ranks_before);
                (self.books[j].id, list)
            })
            .collect()
    }

    /// `f` of every book position, in order, computed on one thread per
    /// core over contiguous ranges (each with its own [`Scratch`]).
    fn per_book<T: Send>(&self, f: impl Fn(usize, &mut Scratch) -> T + Sync) -> Vec<T> {
        let n = self.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, n.max(1));
        let chunk = n.div_ceil(threads).max(1);
        let f = &f;
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|from| {
                    scope.spawn(move || {
                        let mut scratch = self.scratch();
                        (from..(from + chunk).min(n))
                            .map(|i| f(i, &mut scratch))
                            .collect::<Vec<_>>()
                    })
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

    /// The `k` neighbours of the book at position `i` found from its own
    /// terms, best first.
    pub fn neighbours_of(&self, i: usize, k: usize, scratch: &mut Scratch) -> OwnNeighbours {
        let vector = self.vector(i);
        let postings = |term: u32| self.starts[term as usize]..self.starts[term as usize + 1];
        let all_fit = vector
            .indices
            .iter()
            .map(|&t| postings(t).len())
            .sum::<usize>()
            <= self.scan_budget;
        // The terms read, as positions into the vector, in ascending term
        // order either way.
        let read: Vec<usize> = if all_fit {
            (0..vector.indices.len()).collect()
        } else {
            let mut by_reach: Vec<usize> = (0..vector.indices.len()).collect();
            let reach = |e: usize| vector.values[e] * self.top_weight[vector.indices[e] as usize];
            by_reach.sort_by(|&a, &b| reach(b).total_cmp(&reach(a)).then(a.cmp(&b)));
            let mut left = self.scan_budget;
            let mut read: Vec<usize> = by_reach
                .into_iter()
                .filter(|&e| {
                    let len = postings(vector.indices[e]).len();
                    let fits = len <= left;
                    if fits {
                        left -= len;
                    }
                    fits
                })
                .collect();
            read.sort_unstable();
            read
        };

        let Scratch {
            sums,
            touched_by,
            touched,
            partial,
            dense,
            candidates,
        } = scratch;
        let mark = i as u32 + 1;
        for e in read {
            let weight = vector.values[e];
            let range = postings(vector.indices[e]);
            for (&j, &other) in self.holders[range.clone()].iter().zip(&self.weights[range]) {
                let j_at = j as usize;
                if touched_by[j_at] != mark {
                    touched_by[j_at] = mark;
                    touched.push(j);
                }
                sums[j_at] += weight * other;
            }
        }
        candidates.clear();
        if all_fit {
            // Every shared term read, in ascending term order: exact.
            candidates.extend(
                touched
                    .iter()
                    .map(|&j| j as usize)
                    .filter(|&j| j != i)
                    .map(|j| Neighbour {
                        id: self.books[j].id,
                        score: score(sums[j]),
                    }),
            );
        } else {
            // Partial sums pick the candidates; exact cosines rank them.
            partial.clear();
            partial.extend(
                touched
                    .iter()
                    .filter(|&&j| j as usize != i)
                    .map(|&j| (sums[j as usize], j)),
            );
            let by_partial =
                |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            if RESCORED < partial.len() {
                partial.select_nth_unstable_by(RESCORED, by_partial);
                partial.truncate(RESCORED);
            }
            for (&term, &weight) in vector.indices.iter().zip(vector.values) {
                dense[term as usize] = weight;
            }
            candidates.extend(partial.iter().map(|&(_, j)| Neighbour {
                id: self.books[j as usize].id,
                score: score(self.vector(j as usize).dot(dense)),
            }));
        }
        // Books sharing no read term: the first k by id, which are all a
        // zero score can rank (exactly 0 when every term was read).
        candidates.extend(
            (0..self.len())
                .filter(|&j| j != i && touched_by[j] != mark)
                .take(k)
                .map(|j| Neighbour {
                    id: self.books[j].id,
                    score: if all_fit {
                        0.0
                    } else {
                        score(self.vector(j).dot(dense))
                    },
                }),
        );
        // Left clean for the next call, whichever book it is for.
        for &j in touched.iter() {
            sums[j as usize] = 0.0;
            touched_by[j as usize] = 0;
        }
        touched.clear();
        for &term in vector.indices {
            dense[term as usize] = 0.0;
        }
        keep_best(candidates, k);
        candidates.sort_by(ranks_before);
        OwnNeighbours {
            list: candidates.clone(),
            exact: all_fit,
        }
    }
}

/// A book's neighbours from its own terms ([`SimilarityIndex::neighbours_of`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnNeighbours {
    /// Best first.
    pub list: Vec<Neighbour>,
    /// Every posting of its terms was read: the list is the exact top k,
    /// and [`SimilarityIndex::all`] stores it unchanged.
    pub exact: bool,
}

/// Keeps the `k` best of `candidates` (see [`ranks_before`]), in no order.
fn keep_best(candidates: &mut Vec<Neighbour>, k: usize) {
    if k < candidates.len() {
        candidates.select_nth_unstable_by(k, ranks_before);
        candidates.truncate(k);
    }
}
