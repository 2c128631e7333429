//! `books build-db` and `books validate` run as real processes on small CSV
//! files written here, and on the committed `data/` pair.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::app::{books_cli, output_text};

const HEADER: &str = "id,upc,title,category,price,price_excl_tax,tax,rating,availability,stock,review_count,product_type,description,image_url,product_url";

/// One CSV record; `title` and `rating` are what the tests break.
fn row(id: u32, title: &str, rating: &str) -> String {
    format!(
        "{id},upc{id:013},{title},Poetry,51.77,51.77,0.00,{rating},In stock,22,0,Books,\"A description, with a comma.\",https://books.toscrape.com/media/cache/{id}.jpg,https://books.toscrape.com/catalogue/book_{id}/index.html\n"
    )
}

fn csv(rows: &[String]) -> String {
    format!("{HEADER}\n{}", rows.concat())
}

fn valid_csv() -> String {
    csv(&[
        row(1, "A Light in the Attic", "3"),
        row(2, "Tipping the Velvet", "1"),
        row(3, "Soumission", "5"),
    ])
}

/// Writes `dir/books.csv` and builds `dir/books.db` from it with the CLI,
/// recording a scrape of 3 books.
fn build(dir: &Path, csv_text: &str) -> Output {
    fs::write(dir.join("books.csv"), csv_text).unwrap();
    let csv = dir.join("books.csv");
    let db = dir.join("books.db");
    books_cli(&[
        "build-db",
        "--csv",
        csv.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--scraped-at",
        "2026-11-27T09:00:00Z",
        "--source",
        "https://books.toscrape.com/",
        "--reported-total",
        "3",
    ])
}

fn validate(dir: &Path) -> Output {
    books_cli(&["validate", "--dir", dir.to_str().unwrap()])
}

#[test]
fn validate_accepts_a_freshly_built_pair() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path(), &valid_csv());
    assert!(built.status.success(), "{}", output_text(&built));
    let out = validate(dir.path());
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("OK: 3 books, content hash "),
        "{}",
        output_text(&out)
    );
}

#[test]
fn validate_rejects_a_duplicated_id() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path(), &valid_csv());
    assert!(built.status.success(), "{}", output_text(&built));
    // The database cannot hold a duplicate id, so only the CSV gets one.
    let duplicated = csv(&[
        row(1, "A Light in the Attic", "3"),
        row(2, "Tipping the Velvet", "1"),
        row(2, "Soumission", "5").replacen("upc0000000000002", "upc0000000000003", 1),
    ]);
    fs::write(dir.path().join("books.csv"), &duplicated).unwrap();
    let out = validate(dir.path());
    assert!(!out.status.success());
    let message = output_text(&out);
    assert!(
        message.contains("duplicate id 2: 2 books have it") && message.contains("line 3; "),
        "{message}"
    );

    // And build-db refuses such a CSV, naming the book.
    let refused = build(dir.path(), &duplicated);
    assert!(!refused.status.success());
    assert!(
        output_text(&refused).contains("duplicate ids: 2"),
        "{}",
        output_text(&refused)
    );
}

#[test]
fn validate_rejects_a_missing_title() {
    let dir = tempfile::tempdir().unwrap();
    let missing = csv(&[
        row(1, "A Light in the Attic", "3"),
        row(2, "", "1"),
        row(3, "Soumission", "5"),
    ]);
    let built = build(dir.path(), &missing);
    assert!(built.status.success(), "{}", output_text(&built));
    assert!(
        output_text(&built).contains("warning: book 2: title"),
        "{}",
        output_text(&built)
    );
    let out = validate(dir.path());
    assert!(!out.status.success());
    let message = output_text(&out);
    assert!(
        message.contains("books.csv: line 3: title: required field is empty"),
        "{message}"
    );
}

#[test]
fn validate_rejects_a_rating_of_six() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path(), &valid_csv());
    assert!(built.status.success(), "{}", output_text(&built));
    let six = csv(&[
        row(1, "A Light in the Attic", "3"),
        row(2, "Tipping the Velvet", "1"),
        row(3, "Soumission", "6"),
    ]);
    fs::write(dir.path().join("books.csv"), &six).unwrap();
    let out = validate(dir.path());
    assert!(!out.status.success());
    let message = output_text(&out);
    assert!(
        message.contains("line 4: rating: rating must be an integer from 1 to 5, got \"6\""),
        "{message}"
    );

    // build-db reads strictly and builds nothing from such a CSV.
    let refused = build(dir.path(), &six);
    assert!(!refused.status.success());
    assert!(
        output_text(&refused).contains("line 4: rating"),
        "{}",
        output_text(&refused)
    );
}

#[test]
fn validate_reports_a_count_that_differs_from_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let two = csv(&[row(1, "A", "3"), row(2, "B", "1")]);
    let built = build(dir.path(), &two);
    assert!(built.status.success(), "{}", output_text(&built));
    let out = validate(dir.path());
    assert!(!out.status.success());
    assert!(
        output_text(&out).contains("2 books, but the site reported 3"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn build_db_keeps_the_existing_meta_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path(), &valid_csv());
    assert!(built.status.success(), "{}", output_text(&built));
    let first = fs::read(dir.path().join("books.db")).unwrap();
    // No flags: scraped_at, source and reported_total come from the old db.
    let db = dir.path().join("books.db");
    let csv = dir.path().join("books.csv");
    let again = books_cli(&[
        "build-db",
        "--csv",
        csv.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", output_text(&again));
    assert_eq!(
        fs::read(&db).unwrap(),
        first,
        "same CSV and meta, same bytes"
    );

    let bad = books_cli(&[
        "build-db",
        "--db",
        db.to_str().unwrap(),
        "--scraped-at",
        "yesterday",
    ]);
    assert!(!bad.status.success());
    assert!(
        output_text(&bad).contains("--scraped-at"),
        "{}",
        output_text(&bad)
    );
}

#[test]
fn validate_accepts_the_committed_data() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let out = validate(&data);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("OK: 1000 books"),
        "{}",
        output_text(&out)
    );
}
