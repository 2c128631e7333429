//! The similar books' time and quality on a catalogue: how long every
//! book's neighbours take (`SimilarityIndex::new` plus `all`, as
//! `books build-db` computes them), and how close they come to the exact
//! lists, recomputed with no scan budget for an evenly spread sample.
//! `scripts/bench-scale.sh` runs it; docs/scale.md gives its figures.
//!
//! Usage: `neighbours_scale CSV [SAMPLE]` (SAMPLE books compared, default 300).
//! Prints one `key=value` line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use books::domain::BookId;
use books::ml::similar::{NEIGHBOURS, SimilarityIndex};

/// Quality is reported over each book's first this many neighbours, the
/// precision@5 the API docs give.
const TOP: usize = 5;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(csv) = args.next().map(PathBuf::from) else {
        eprintln!("usage: neighbours_scale CSV [SAMPLE]");
        return ExitCode::FAILURE;
    };
    let Ok(sample) = args.next().map_or(Ok(300), |s| s.parse::<usize>()) else {
        eprintln!("SAMPLE must be a count");
        return ExitCode::FAILURE;
    };
    let books = match books::store::csv::read_csv(&csv) {
        Ok(books) => books,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };

    let started = Instant::now();
    let index = SimilarityIndex::new(&books);
    let index_s = started.elapsed().as_secs_f64();
    let all = index.all(NEIGHBOURS);
    let total_s = started.elapsed().as_secs_f64();
    drop(index);

    // The exact lists: every posting read.
    let exact = SimilarityIndex::with_scan_budget(&books, usize::MAX);
    let mut scratch = exact.scratch();
    let n = exact.len();
    let sample = sample.clamp(1, n.max(1));
    let (mut kept, mut found_score, mut exact_score) = (0usize, 0f64, 0f64);
    for i in (0..sample).map(|s| s * n / sample) {
        let expected = exact.neighbours_of(i, TOP, &mut scratch).list;
        let got = &all[i].1[..TOP.min(all[i].1.len())];
        let expected_ids: Vec<BookId> = expected.iter().map(|n| n.id).collect();
        kept += got.iter().filter(|n| expected_ids.contains(&n.id)).count();
        found_score += got.iter().map(|n| n.score).sum::<f64>();
        exact_score += expected.iter().map(|n| n.score).sum::<f64>();
    }
    let slots = (sample * TOP.min(n.saturating_sub(1))).max(1);
    println!(
        "books={n} index_s={index_s:.2} neighbours_s={total_s:.2} sample={sample} \
         top{TOP}_kept={:.4} top{TOP}_score_ratio={:.4}",
        kept as f64 / slots as f64,
        if exact_score > 0.0 {
            found_score / exact_score
        } else {
            1.0
        }
    );
    ExitCode::SUCCESS
}
