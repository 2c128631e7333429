//! `books synth` as a real process: deterministic per seed, a CSV that
//! `books build-db` and `books validate` accept, unique keys, and
//! distributions close to the committed catalogue's.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use books::domain::Book;
use books::store::csv::read_csv;

use crate::app::{books_cli, output_text};

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/books.csv")
}

/// Runs `books synth` and returns the CSV it wrote.
fn synth(dir: &Path, name: &str, count: u32, seed: u64) -> PathBuf {
    let out = dir.join(name);
    let run = books_cli(&[
        "synth",
        "--books",
        &count.to_string(),
        "--seed",
        &seed.to_string(),
        "--from",
        source().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", output_text(&run));
    out
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_others() {
    let dir = tempfile::tempdir().unwrap();
    let a = fs::read(synth(dir.path(), "a.csv", 300, 7)).unwrap();
    let b = fs::read(synth(dir.path(), "b.csv", 300, 7)).unwrap();
    let c = fs::read(synth(dir.path(), "c.csv", 300, 8)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "no temporary files left: {names:?}");
}

#[test]
fn a_synthetic_catalogue_builds_a_database_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "books.csv", 400, 3);
    let built = books_cli(&[
        "build-db",
        "--csv",
        dir.path().join("books.csv").to_str().unwrap(),
        "--db",
        dir.path().join("books.db").to_str().unwrap(),
        "--scraped-at",
        "2026-12-01T00:00:00Z",
        "--source",
        "https://books.toscrape.com/",
        "--reported-total",
        "400",
        "--timings",
    ]);
    assert!(built.status.success(), "{}", output_text(&built));
    let said = output_text(&built);
    assert!(said.contains("(400 books, "), "{said}");
    assert!(!said.contains("warning"), "{said}");
    for phase in [
        "insert",
        "fts index",
        "trigram index",
        "similar books",
        "vacuum",
    ] {
        assert!(said.contains(phase), "no {phase} timing in {said}");
    }
    // validate recomputes the similar books and checks them bit for bit.
    let validated = books_cli(&["validate", "--dir", dir.path().to_str().unwrap()]);
    assert!(validated.status.success(), "{}", output_text(&validated));
}

/// Each category's share of `books`.
fn shares(books: &[Book], key: impl Fn(&Book) -> String) -> BTreeMap<String, f64> {
    let mut counts = BTreeMap::new();
    for book in books {
        *counts.entry(key(book)).or_insert(0.0) += 1.0;
    }
    counts.values_mut().for_each(|n| *n /= books.len() as f64);
    counts
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0.0), |(s, n), v| (s + v, n + 1.0));
    sum / n
}

#[test]
fn keys_are_unique_and_distributions_follow_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let count = 5_000;
    let synthetic = read_csv(&synth(dir.path(), "books.csv", count, 11)).unwrap();
    let real = read_csv(&source()).unwrap();

    let ids: Vec<u32> = synthetic.iter().map(|b| b.id.get()).collect();
    assert_eq!(ids, (1..=count).collect::<Vec<_>>());
    let upcs: HashSet<&str> = synthetic.iter().map(|b| b.upc.as_str()).collect();
    assert_eq!(upcs.len(), synthetic.len(), "UPCs are unique");
    assert!(
        synthetic
            .iter()
            .all(|b| b.upc.len() == 16 && b.upc.bytes().all(|c| c.is_ascii_hexdigit()))
    );
    let titles: HashSet<&str> = synthetic.iter().map(|b| b.title.as_str()).collect();
    assert!(
        titles.len() as f64 > 0.9 * synthetic.len() as f64,
        "{} distinct titles of {}",
        titles.len(),
        synthetic.len()
    );
    for book in &synthetic {
        let id = book.id;
        assert!(
            book.product_url
                .starts_with("https://books.toscrape.com/catalogue/")
                && book.product_url.ends_with(&format!("_{id}/index.html")),
            "{}",
            book.product_url
        );
        let image = book
            .image_url
            .strip_prefix("https://books.toscrape.com/media/cache/")
            .unwrap_or_else(|| panic!("{}", book.image_url));
        assert_eq!(image.len(), "9e/10/".len() + 32 + ".jpg".len(), "{image}");
        assert!(
            books::store::validate::check_book(book).is_empty(),
            "{book:?}"
        );
    }

    // Category and rating shares: within 2 points of the source's (the
    // largest category holds 15 %; at 5,000 books one standard error of its
    // share is half a point).
    for (key, tolerance) in [
        (
            &(|b: &Book| b.category.clone()) as &dyn Fn(&Book) -> String,
            0.02,
        ),
        (&|b: &Book| b.rating.stars().to_string(), 0.03),
    ] {
        let (want, got) = (shares(&real, key), shares(&synthetic, key));
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>()
        );
        for (name, share) in &want {
            let drawn = got[name];
            assert!(
                (share - drawn).abs() <= tolerance,
                "{name}: source {share:.3}, synthetic {drawn:.3}"
            );
        }
    }

    // Means of the price (pounds) and of the text lengths (characters).
    let price = |b: &Book| b.price.pence() as f64 / 100.0;
    let title_len = |b: &Book| b.title.chars().count() as f64;
    let description_len = |b: &Book| b.description.chars().count() as f64;
    for (what, of, tolerance) in [
        ("price", &price as &dyn Fn(&Book) -> f64, 0.05),
        ("title length", &title_len, 0.10),
        ("description length", &description_len, 0.10),
    ] {
        let (want, got) = (mean(real.iter().map(of)), mean(synthetic.iter().map(of)));
        assert!(
            (want - got).abs() <= tolerance * want,
            "{what}: source mean {want:.2}, synthetic {got:.2}"
        );
    }
    let (low, high) = real
        .iter()
        .map(|b| b.price)
        .fold((real[0].price, real[0].price), |(l, h), p| {
            (l.min(p), h.max(p))
        });
    assert!(synthetic.iter().all(|b| (low..=high).contains(&b.price)));
}

#[test]
fn bad_arguments_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.csv");
    let missing = dir.path().join("missing.csv");
    let cases: [(Vec<&str>, &str); 4] = [
        (vec!["--books", "0"], "from 1 to 10000000, got 0"),
        (
            vec!["--books", "10000001"],
            "from 1 to 10000000, got 10000001",
        ),
        (vec!["--books", "-3"], "--books"),
        (
            vec!["--books", "10", "--from", missing.to_str().unwrap()],
            "cannot read",
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["synth", "--out", out.to_str().unwrap()];
        full.extend(&args);
        let run = books_cli(&full);
        let said = output_text(&run);
        assert!(!run.status.success(), "{args:?}: {said}");
        assert!(said.contains(expected), "{args:?}: {said}");
        assert!(!said.contains("panicked"), "{args:?}: {said}");
    }
    assert!(!out.exists());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
