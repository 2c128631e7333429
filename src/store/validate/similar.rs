//! The `similar_books` table against the books table: every book has
//! min(K, N − 1) neighbours ranked 1, 2, …, none of them the book itself,
//! each an existing book listed once, scored within [0, 1], scores never
//! rising with the rank and ties ordered by id. When all of that holds,
//! every score must be the exact cosine of its two books, and a sample of
//! lists must be the ones the books' TF-IDF gives
//! ([`ml::similar`](crate::ml::similar)), which catches a table left over
//! from other data or other rules.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::{Problem, Scope};
use crate::domain::{Book, BookId};
use crate::ml::similar::{NEIGHBOURS, SimilarityIndex};

/// One stored neighbour: rank, similar_id, score.
type Row = (i64, i64, f64);
/// A neighbour list without its ranks: similar_id, score, best first.
type Ranked = Vec<(i64, f64)>;
/// A book whose stored list differs: its id, the first rank that differs,
/// and the neighbour stored and the one computed there (similar_id, score).
type Differing = (i64, usize, (i64, f64), (i64, f64));

/// Lists of the differing books shown in full before "…".
const SHOWN: usize = 10;

pub(super) fn check_similar(
    conn: &Connection,
    books: &[Book],
    db: &str,
    problems: &mut Vec<Problem>,
) {
    let rows = match read(conn) {
        Ok(rows) => rows,
        Err(err) => {
            let message = format!("cannot read the similar_books table: {err}");
            problems.push(Problem::new(Scope::File(db.to_owned()), message));
            return;
        }
    };
    let ids: BTreeSet<i64> = books.iter().map(|b| i64::from(b.id.get())).collect();
    for book_id in rows.keys().filter(|id| !ids.contains(id)) {
        let message = format!(
            "similar_books lists neighbours of book {book_id}, which is not in the books table"
        );
        problems.push(Problem::new(Scope::File(db.to_owned()), message));
    }

    let expected_len = NEIGHBOURS.min(books.len().saturating_sub(1));
    let mut well_formed = true;
    for book in books {
        let id = i64::from(book.id.get());
        let list = rows.get(&id).map_or(&[][..], Vec::as_slice);
        let found = list_problems(id, list, expected_len, &ids);
        well_formed &= found.is_empty();
        problems.extend(found.into_iter().map(|message| {
            let scope = Scope::Row {
                file: db.to_owned(),
                id,
            };
            Problem::new(scope, format!("similar books: {message}"))
        }));
    }
    if well_formed {
        check_against_the_books(&rows, books, db, problems);
    }
}

/// The table, by book id, each list in rank order.
fn read(conn: &Connection) -> rusqlite::Result<BTreeMap<i64, Vec<Row>>> {
    let mut stmt = conn.prepare(
        "SELECT book_id, rank, similar_id, score FROM similar_books ORDER BY book_id, rank",
    )?;
    let mut rows = stmt.query([])?;
    let mut by_book: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        by_book
            .entry(row.get(0)?)
            .or_default()
            .push((row.get(1)?, row.get(2)?, row.get(3)?));
    }
    Ok(by_book)
}

/// What is wrong with the stored neighbours of book `id`, one message each.
fn list_problems(id: i64, list: &[Row], expected_len: usize, ids: &BTreeSet<i64>) -> Vec<String> {
    let mut found = Vec::new();
    if list.len() != expected_len {
        found.push(format!("{} listed, expected {expected_len}", list.len()));
    }
    let ranks: Vec<i64> = list.iter().map(|(rank, _, _)| *rank).collect();
    if !ranks.iter().copied().eq(1..=ranks.len() as i64) {
        let shown: Vec<String> = ranks.iter().map(i64::to_string).collect();
        found.push(format!(
            "ranks are {}, expected 1 to {}",
            shown.join(", "),
            ranks.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for &(rank, similar, score) in list {
        if similar == id {
            found.push(format!("rank {rank} is the book itself"));
        } else if !ids.contains(&similar) {
            found.push(format!(
                "rank {rank} is book {similar}, which is not in the books table"
            ));
        }
        if !seen.insert(similar) {
            found.push(format!("book {similar} is listed more than once"));
        }
        if !(0.0..=1.0).contains(&score) {
            found.push(format!("rank {rank} has score {score}, outside 0 to 1"));
        }
    }
    for pair in list.windows(2) {
        let ((rank_a, a, score_a), (rank_b, b, score_b)) = (pair[0], pair[1]);
        if score_b > score_a {
            found.push(format!(
                "rank {rank_b} scores {score_b}, more than rank {rank_a} ({score_a})"
            ));
        } else if score_b == score_a && b < a {
            found.push(format!(
                "ranks {rank_a} and {rank_b} tie at {score_a} but list book {a} before book {b}"
            ));
        }
    }
    found
}

/// Books whose whole list is recomputed and compared, spread evenly over
/// the catalogue; the scores of every list are checked.
const SAMPLED: usize = 64;

/// The stored lists against the books: every stored score must be the
/// exact cosine of its two books, and the lists of [`SAMPLED`] books must be
/// what the books give now (exactly, or when a book's terms exceed the scan
/// budget, no worse than its own search finds). Recomputing every list
/// would cost as much as the build; scoring every pair catches a table
/// left over from other data, and the sample a list ranked by other rules.
fn check_against_the_books(
    rows: &BTreeMap<i64, Vec<Row>>,
    books: &[Book],
    db: &str,
    problems: &mut Vec<Problem>,
) {
    let index = SimilarityIndex::new(books);
    let n = index.len();
    let sample = SAMPLED.min(n);
    let sampled: BTreeSet<usize> = (0..sample).map(|s| s * n / sample).collect();
    let mut scratch = index.scratch();
    let position = |id: i64| {
        u32::try_from(id)
            .ok()
            .and_then(|id| BookId::new(id).ok())
            .and_then(|id| index.position(id))
    };
    // Per differing book: the first rank that differs, stored and computed.
    let mut differing: Vec<Differing> = Vec::new();
    for i in 0..n {
        let id = i64::from(index.id(i).get());
        let found: Ranked = rows
            .get(&id)
            .map(|list| list.iter().map(|&(_, s, score)| (s, score)).collect())
            .unwrap_or_default();
        let wrong_score = found.iter().enumerate().find_map(|(r, &(s, score))| {
            let exact = index.score_between(i, position(s)?);
            (score != exact).then_some((id, r + 1, (s, score), (s, exact)))
        });
        if let Some(wrong) = wrong_score {
            differing.push(wrong);
            continue;
        }
        if !sampled.contains(&i) {
            continue;
        }
        let own = index.neighbours_of(i, NEIGHBOURS, &mut scratch);
        let expected: Ranked = own
            .list
            .iter()
            .map(|n| (i64::from(n.id.get()), n.score))
            .collect();
        let first_wrong = if own.exact {
            (found != expected).then(|| {
                let r = found
                    .iter()
                    .zip(&expected)
                    .take_while(|(f, e)| f == e)
                    .count();
                (r, expected.get(r).copied().unwrap_or((0, 0.0)))
            })
        } else {
            // Other books may have offered better neighbours; none of its
            // own may rank above the last stored one and be missing.
            let last = found.last().copied();
            expected.iter().find_map(|&(e, score)| {
                let beats_last = last.is_none_or(|(l, last_score)| {
                    score > last_score || (score == last_score && e < l)
                });
                (beats_last && !found.iter().any(|&(f, _)| f == e)).then(|| {
                    let r = found
                        .iter()
                        .take_while(|&&(f, fs)| fs > score || (fs == score && f < e))
                        .count();
                    (r, (e, score))
                })
            })
        };
        if let Some((r, computed)) = first_wrong {
            let stored = found.get(r).copied().unwrap_or((0, 0.0));
            differing.push((id, r + 1, stored, computed));
        }
    }
    let Some(&(first, rank, found_at, expected_at)) = differing.first() else {
        return;
    };
    let mut listed: Vec<String> = differing
        .iter()
        .take(SHOWN)
        .map(|(id, ..)| id.to_string())
        .collect();
    if differing.len() > SHOWN {
        listed.push("…".to_owned());
    }
    let message = format!(
        "similar_books is not what the books' TF-IDF gives for {} book{} ({}); book {first} \
         rank {rank}: book {} ({}) stored, book {} ({}) computed; rebuild with books build-db",
        differing.len(),
        if differing.len() == 1 { "" } else { "s" },
        listed.join(", "),
        found_at.0,
        found_at.1,
        expected_at.0,
        expected_at.1
    );
    problems.push(Problem::new(Scope::File(db.to_owned()), message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_of_a_list_has_its_message() {
        let ids: BTreeSet<i64> = (1..=5).collect();
        assert!(list_problems(1, &[(1, 2, 0.5), (2, 3, 0.5)], 2, &ids).is_empty());
        assert_eq!(
            list_problems(
                1,
                &[(1, 1, 0.5), (2, 9, 1.5), (4, 3, 0.6), (5, 3, 0.6)],
                3,
                &ids
            ),
            [
                "4 listed, expected 3",
                "ranks are 1, 2, 4, 5, expected 1 to 4",
                "rank 1 is the book itself",
                "rank 2 is book 9, which is not in the books table",
                "rank 2 has score 1.5, outside 0 to 1",
                "book 3 is listed more than once",
                "rank 2 scores 1.5, more than rank 1 (0.5)",
            ]
        );
        assert_eq!(
            list_problems(1, &[(1, 3, 0.5), (2, 2, 0.5)], 2, &ids),
            ["ranks 1 and 2 tie at 0.5 but list book 3 before book 2"]
        );
        assert_eq!(
            list_problems(1, &[(1, 3, 0.5), (2, 2, f64::NAN)], 2, &ids),
            ["rank 2 has score NaN, outside 0 to 1"]
        );
    }
}
