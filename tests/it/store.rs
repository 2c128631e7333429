//! The store's write side on real files in temporary directories: CSV round
//! trips, deterministic database builds, validation and atomic publishing.

use std::fs;
use std::path::{Path, PathBuf};

use books::domain::{Book, BookId, Price, Rating};
use books::store::ScrapeMeta;
use books::store::build::build_db;
use books::store::csv::{CsvError, canonical_csv, content_hash, parse_rows, read_csv, write_csv};
use books::store::publish::{PublishError, publish};
use books::store::sqlite::open_read_only;
use books::store::validate::{read_meta, validate_books, validate_dir};
use books::store::{CSV_FILE_NAME, DB_FILE_NAME};
use rusqlite::Connection;

fn book(id: u32, title: &str, category: &str, rating: u8, pence: u64, description: &str) -> Book {
    Book {
        id: BookId::new(id).expect("test ids are positive"),
        upc: format!("upc{id:013}"),
        title: title.to_owned(),
        category: category.to_owned(),
        price: Price::from_pence(pence),
        price_excl_tax: Price::from_pence(pence),
        tax: Price::from_pence(0),
        rating: Rating::new(rating).expect("test ratings are 1..5"),
        availability: "In stock".to_owned(),
        stock: id % 7,
        review_count: 0,
        product_type: "Books".to_owned(),
        description: description.to_owned(),
        image_url: format!("https://books.toscrape.com/media/cache/{id:02}/cover.jpg"),
        product_url: format!("https://books.toscrape.com/catalogue/book_{id}/index.html"),
    }
}

/// Six books covering the awkward cases: quotes, commas, newlines,
/// non-ASCII, an empty description; given out of id order on purpose.
fn sample() -> Vec<Book> {
    vec![
        book(
            10,
            "A Light in the Attic",
            "Poetry",
            3,
            5177,
            "It's hard to imagine a world without A Light in the Attic.",
        ),
        book(
            2,
            "Tipping the Velvet",
            "Historical Fiction",
            1,
            5374,
            "\"Erotic and absorbing...\" a novel, with commas,\nand a second line\r\nand a third.",
        ),
        book(3, "Soumission", "Fiction", 1, 5010, ""),
        book(
            4,
            "Sharp Objects",
            "Mystery",
            4,
            4782,
            "WICKED above her hipbone, GIRL across her heart",
        ),
        book(
            5,
            "Les Misérables — Ça, «naïve» 東京 Ærø",
            "Historical Fiction",
            5,
            2299,
            "Œuvre: Ünïcödé everywhere; the zebra crossed.",
        ),
        book(6, "The \"Quoted\", Title", "Poetry", 2, 1000, "Plain."),
    ]
}

fn meta(reported_total: Option<u32>) -> ScrapeMeta {
    ScrapeMeta {
        scraped_at: "2026-11-27T09:00:00Z".to_owned(),
        source: "https://books.toscrape.com/".to_owned(),
        reported_total,
    }
}

fn sorted(mut books: Vec<Book>) -> Vec<Book> {
    books.sort_by_key(|b| b.id);
    books
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("dir is readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every row of every ordinary table, as text, in a fixed order.
fn dump(db: &Path) -> Vec<String> {
    let conn = open_read_only(db).expect("db opens");
    let mut out = Vec::new();
    for table in ["categories", "books", "similar_books", "meta"] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .expect("select");
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |row| {
                let mut line = table.to_owned();
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i)?;
                    line.push_str(&format!("|{value:?}"));
                }
                Ok(line)
            })
            .expect("query");
        out.extend(rows.map(|r| r.expect("row")));
    }
    out
}

// --- CSV -------------------------------------------------------------------

#[test]
fn csv_round_trip_keeps_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("books.csv");
    let books = sample();
    write_csv(&path, &books).unwrap();
    let read = read_csv(&path).unwrap();
    assert_eq!(read, sorted(books.clone()));
    assert_eq!(read[1].description, "", "the empty description survives");

    // Writing what was read gives the same bytes: the file is canonical, and
    // its SHA-256 is the content hash.
    let bytes = fs::read(&path).unwrap();
    assert_eq!(bytes, canonical_csv(&read));
    assert_eq!(content_hash(&read), content_hash(&books));
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with(
        "id,upc,title,category,price,price_excl_tax,tax,rating,availability,stock,review_count,product_type,description,image_url,product_url\n"
    ));
    assert!(
        text.contains(",51.77,51.77,0.00,3,"),
        "prices as 51.77: {text}"
    );
    assert!(text.contains("\"The \"\"Quoted\"\", Title\""));
}

#[test]
fn content_hash_ignores_order_but_not_content() {
    let books = sample();
    let mut reversed = books.clone();
    reversed.reverse();
    assert_eq!(content_hash(&books), content_hash(&reversed));
    let mut changed = books.clone();
    changed[0].stock += 1;
    assert_ne!(content_hash(&books), content_hash(&changed));
    assert_eq!(content_hash(&books).len(), 64);
}

#[test]
fn lenient_reader_reports_every_problem_with_line_and_column() {
    let mut text = String::from_utf8(canonical_csv(&sample()[..2])).unwrap();
    // Line 1 header, line 2 book 2 (three physical lines), line 5 book 10.
    text.push_str(
        "7,u7,T,Poetry,1.00,1.00,0.00,6,In stock,1,0,Books,,https://books.toscrape.com/a,https://books.toscrape.com/b\n",
    );
    text.push_str(
        "x,u8,T,Poetry,£1.00,1.00,0.00,3,In stock,-1,0,Books,,https://books.toscrape.com/a,https://books.toscrape.com/b\n",
    );
    text.push_str("9,too,few\n");
    let rows = parse_rows(text.as_bytes()).unwrap();
    assert_eq!(rows.record_count, 5);
    assert_eq!(rows.rows.len(), 2);
    let problems: Vec<String> = rows.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "line 6: rating: rating must be an integer from 1 to 5, got \"6\"",
            "line 7: id: book id must be a positive integer, got \"x\"",
            "line 7: price: price must be a decimal number like 51.77, got \"£1.00\"",
            "line 7: stock: must be a non-negative integer, got \"-1\"",
            "line 8: expected 15 fields, found 3",
        ]
    );
}

#[test]
fn strict_reader_rejects_a_wrong_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("books.csv");
    fs::write(&path, "id,title\n1,x\n").unwrap();
    match read_csv(&path) {
        Err(CsvError::Invalid { problems, .. }) => {
            assert_eq!(problems[0].line, 1);
            assert!(problems[0].message.contains("header must be exactly"));
        }
        other => panic!("expected an invalid CSV, got {other:?}"),
    }
}

// --- build_db --------------------------------------------------------------

#[test]
fn build_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let books = sample();
    let mut shuffled = books.clone();
    shuffled.rotate_left(2);
    let first = build_db(&books, &meta(Some(6)), &a).unwrap();
    let second = build_db(&shuffled, &meta(Some(6)), &b).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.content_hash, content_hash(&books));
    assert_eq!(dump(&a), dump(&b));
    assert_eq!(
        read_meta(&a).unwrap().get("content_hash"),
        read_meta(&b).unwrap().get("content_hash")
    );
    // Stronger than required: the files are byte-identical, so a rebuilt
    // data/books.db does not churn in git.
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_eq!(
        file_names(dir.path()),
        ["a.db", "b.db"],
        "no temp files left"
    );
}

#[test]
fn built_db_opens_read_only_with_meta_categories_and_fts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("books.db");
    build_db(&sample(), &meta(Some(6)), &db).unwrap();
    let conn = open_read_only(&db).unwrap();

    let meta = read_meta(&db).unwrap();
    assert_eq!(meta["schema_version"], "3");
    assert_eq!(meta["scraped_at"], "2026-11-27T09:00:00Z");
    assert_eq!(meta["source"], "https://books.toscrape.com/");
    assert_eq!(meta["reported_total"], "6");
    assert_eq!(meta["book_count"], "6");
    assert_eq!(meta["content_hash"], content_hash(&sample()));

    let categories: Vec<(i64, String, String, i64)> = conn
        .prepare("SELECT id, name, slug, book_count FROM categories ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected = [
        (1, "Fiction", "fiction", 1),
        (2, "Historical Fiction", "historical-fiction", 2),
        (3, "Mystery", "mystery", 1),
        (4, "Poetry", "poetry", 2),
    ]
    .map(|(id, n, s, c)| (id, n.to_owned(), s.to_owned(), c));
    assert_eq!(categories, expected);

    let fts = |query: &str| -> Vec<i64> {
        conn.prepare("SELECT rowid FROM books_fts WHERE books_fts MATCH ?1 ORDER BY rowid")
            .unwrap()
            .query_map([query], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(fts("zebra"), [5], "a word of a description");
    assert_eq!(fts("hipbone"), [4]);
    assert_eq!(fts("attic"), [10], "title and description");
    assert_eq!(fts("miserables"), [5], "diacritics removed");

    let (title_folded, price): (String, i64) = conn
        .query_row(
            "SELECT title_folded, price_pence FROM books WHERE id = 5",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(title_folded, "les misérables — ça, «naïve» 東京 ærø");
    assert_eq!(price, 2299);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_ne!(mode.to_lowercase(), "wal");

    // Every other book (of six) is a neighbour of each, ranked from 1.
    let similar: Vec<(i64, i64, i64, f64)> = conn
        .prepare("SELECT book_id, rank, similar_id, score FROM similar_books ORDER BY 1, 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(similar.len(), 6 * 5);
    for (book, rank, other, score) in &similar {
        assert_ne!(book, other);
        assert!((1..=5).contains(rank));
        assert!((0.0..=1.0).contains(score));
    }
    // No two of them share a word of the vocabulary: all score 0, by id.
    let of_4: Vec<(i64, f64)> = similar
        .iter()
        .filter(|s| s.0 == 4)
        .map(|s| (s.2, s.3))
        .collect();
    assert_eq!(of_4, [(2, 0.0), (3, 0.0), (5, 0.0), (6, 0.0), (10, 0.0)]);
}

#[test]
fn failed_build_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("books.db");
    fs::write(&db, b"old bytes").unwrap();
    let mut books = sample();
    books.push(books[0].clone()); // duplicate id: the primary key refuses it
    let err = build_db(&books, &meta(None), &db).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("books.db: duplicate ids: 10; duplicate UPCs: upc0000000000010"),
        "{err}"
    );
    assert_eq!(fs::read(&db).unwrap(), b"old bytes");
    assert_eq!(file_names(dir.path()), ["books.db"]);
}

// --- validate --------------------------------------------------------------

#[test]
fn validate_books_lists_every_problem() {
    let mut books = sample();
    books[0].title = String::new();
    books[1].price = Price::from_pence(0);
    books[2].image_url = "/media/cover.jpg".to_owned();
    books[3].upc = books[4].upc.clone();
    books.push(books[5].clone());
    let report = validate_books(&books, &meta(Some(1000)));
    let text = report.lines().join("\n");
    for expected in [
        "book 10: title: required field is empty",
        "book 2: price: must be greater than 0",
        "book 3: image_url: must be an absolute https://books.toscrape.com/",
        "duplicate upc \"upc0000000000005\": 2 books",
        "duplicate id 6: 2 books",
        "7 books, but the site reported 1000",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Plus "price is not price_excl_tax plus tax" and the clone's duplicate upc.
    assert_eq!(report.problems.len(), 8, "{text}");

    assert!(validate_books(&sample(), &meta(Some(6))).is_ok());
    let missing_total = validate_books(&sample(), &meta(None));
    assert_eq!(
        missing_total.problems,
        ["meta: no reported_total recorded for a dataset scraped from https://books.toscrape.com/"]
    );
    let local = ScrapeMeta {
        source: "unknown".to_owned(),
        ..meta(None)
    };
    assert!(validate_books(&sample(), &local).is_ok());
}

#[test]
fn validate_dir_accepts_a_published_pair_and_catches_tampering() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), &sample(), &meta(Some(6))).unwrap();
    let report = validate_dir(dir.path());
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.book_count, 6);
    assert_eq!(
        report.to_string(),
        format!("OK: 6 books, content hash {}", content_hash(&sample()))
    );

    // Change one row behind the meta table's back.
    let db = dir.path().join(DB_FILE_NAME);
    let conn = Connection::open(&db).unwrap();
    conn.execute("UPDATE books SET stock = stock + 1 WHERE id = 3", [])
        .unwrap();
    drop(conn);
    let problems = validate_dir(dir.path()).lines().join("\n");
    assert!(
        problems.contains("does not match meta content_hash"),
        "{problems}"
    );
}

#[test]
fn validate_checks_the_similar_books_against_the_books() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), &sample(), &meta(Some(6))).unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    let tamper = |sql: &str| {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        validate_dir(dir.path()).lines().join("\n")
    };
    let label = db.display().to_string();

    // Well formed, but not what the books give (these six share no word of
    // the vocabulary: every score is 0).
    let problems =
        tamper("UPDATE similar_books SET score = 0.5 WHERE book_id = 2 AND rank = 1; VACUUM;");
    assert_eq!(
        problems,
        format!(
            "{label}: similar_books is not what the books' TF-IDF gives for 1 book (2); book 2 \
             rank 1: book 3 (0.5) stored, book 3 (0) computed; rebuild with books build-db"
        )
    );
    // Broken lists are named book by book (and not compared any further).
    let problems = tamper(
        "UPDATE similar_books SET score = 1 WHERE book_id = 4 AND rank = 5; \
         DELETE FROM similar_books WHERE book_id = 5 AND rank = 5; \
         UPDATE similar_books SET similar_id = 99 WHERE book_id = 6 AND rank = 1; \
         VACUUM;",
    );
    for expected in [
        format!("{label}: book 4: similar books: rank 5 scores 1, more than rank 4"),
        format!("{label}: book 5: similar books: 4 listed, expected 5"),
        format!(
            "{label}: book 6: similar books: rank 1 is book 99, which is not in the books table"
        ),
    ] {
        assert!(
            problems.contains(&expected),
            "{expected:?} not in\n{problems}"
        );
    }
    assert!(!problems.contains("TF-IDF"), "{problems}");
}

#[test]
fn validate_recomputes_sampled_lists_and_scores_every_pair() {
    use books::ml::similar::SimilarityIndex;
    let dir = tempfile::tempdir().unwrap();
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    for file in [CSV_FILE_NAME, DB_FILE_NAME] {
        fs::copy(data.join(file), dir.path().join(file)).unwrap();
    }
    let db = dir.path().join(DB_FILE_NAME);
    let label = db.display().to_string();
    let books = read_csv(&dir.path().join(CSV_FILE_NAME)).unwrap();
    let index = SimilarityIndex::new(&books);
    let tamper = |sql: &str| {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        validate_dir(dir.path()).lines().join("\n")
    };
    let stored = |book: u32| -> Vec<(u32, f64)> {
        let conn = Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT similar_id, score FROM similar_books WHERE book_id = ?1 ORDER BY rank")
            .unwrap();
        stmt.query_map([book], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let at = |id: u32| index.position(BookId::new(id).unwrap()).unwrap();
    // A worse book in last place of book 1's list (a sampled book), with its
    // exact score: well formed and exactly scored, but not the list.
    let list = stored(1);
    let (last, last_score) = list[19];
    let worse = (2..=1000u32)
        .filter(|id| list.iter().all(|(listed, _)| listed != id))
        .map(|id| (id, index.score_between(at(1), at(id))))
        .find(|&(_, score)| score < last_score)
        .unwrap();
    let problems = tamper(&format!(
        "UPDATE similar_books SET similar_id = {}, score = {} WHERE book_id = 1 AND rank = 20;",
        worse.0, worse.1
    ));
    assert_eq!(
        problems,
        format!(
            "{label}: similar_books is not what the books' TF-IDF gives for 1 book (1); book 1 \
             rank 20: book {} ({}) stored, book {last} ({last_score}) computed; rebuild with \
             books build-db",
            worse.0, worse.1
        )
    );
    // Any book's score that is not its pair's cosine (book 2 is not sampled).
    tamper(&format!(
        "UPDATE similar_books SET similar_id = {last}, score = {last_score} \
         WHERE book_id = 1 AND rank = 20;"
    ));
    assert!(validate_dir(dir.path()).is_ok());
    let (first, first_score) = stored(2)[0];
    let problems = tamper("UPDATE similar_books SET score = score + 0.000001 WHERE book_id = 2;");
    assert!(
        problems.contains(&format!(
            "gives for 1 book (2); book 2 rank 1: book {first} ({}) stored, book {first} \
             ({first_score}) computed",
            first_score + 0.000001
        )),
        "{problems}"
    );
}

#[test]
fn validate_checks_the_feature_profiles_against_the_books() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), &sample(), &meta(Some(6))).unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    let label = db.display().to_string();
    let tamper = |sql: &str| {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        validate_dir(dir.path()).lines().join("\n")
    };
    let problems = tamper(
        "UPDATE meta SET value = replace(value, '\"distinct\":', '\"distinct\":1') \
         WHERE key = 'feature_profiles'; VACUUM;",
    );
    assert_eq!(
        problems,
        format!("{label}: meta feature_profiles are not the profiles of the books table")
    );
    let problems = tamper("DELETE FROM meta WHERE key = 'feature_profiles'; VACUUM;");
    assert_eq!(problems, format!("{label}: meta has no feature_profiles"));
}

#[test]
fn validate_reports_every_problem_of_a_row_that_does_not_parse() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), &sample()[..2], &meta(Some(2))).unwrap();
    let csv_path = dir.path().join(CSV_FILE_NAME);
    let good = fs::read_to_string(&csv_path).unwrap();
    // Line 3 is book 10: give it book 2's id, no title and a rating of 6.
    let bad = good.replace(
        "10,upc0000000000010,A Light in the Attic,Poetry,51.77,51.77,0.00,3,",
        "2,upc0000000000010,,Poetry,51.77,51.77,0.00,6,",
    );
    assert_ne!(bad, good);
    fs::write(&csv_path, bad).unwrap();
    let problems = validate_dir(dir.path()).problems;
    let csv = csv_path.display().to_string();
    assert_eq!(
        problems,
        [
            format!("{csv}: line 5: rating: rating must be an integer from 1 to 5, got \"6\""),
            format!("{csv}: line 5: title: required field is empty"),
            format!("duplicate id 2: 2 books have it ({csv}: line 2; {csv}: line 5)"),
        ]
    );
}

#[test]
fn validate_dir_reports_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let report = validate_dir(dir.path());
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    let csv = dir.path().join("books.csv").display().to_string();
    assert!(
        report.problems[0]
            .to_string()
            .starts_with(&format!("cannot read {csv}: "))
    );
    let db = dir.path().join("books.db").display().to_string();
    assert_eq!(report.problems[1], format!("database {db} not found"));
}

// --- publish ---------------------------------------------------------------

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    file_names(dir)
        .into_iter()
        .map(|name| {
            let bytes = fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

#[test]
fn publish_replaces_both_files_when_valid() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("data");
    let first = publish(&out, &sample()[..3], &meta(Some(3))).unwrap();
    assert_eq!(first.book_count, 3);
    let report = publish(&out, &sample(), &meta(Some(6))).unwrap();
    assert_eq!(report.book_count, 6);
    assert_eq!(report.category_count, 4);
    assert_eq!(report.db_path, out.join(DB_FILE_NAME));
    assert_eq!(file_names(&out), [CSV_FILE_NAME, DB_FILE_NAME]);
    assert_eq!(
        read_csv(&out.join(CSV_FILE_NAME)).unwrap(),
        sorted(sample())
    );
    assert_eq!(read_meta(&report.db_path).unwrap()["book_count"], "6");
}

#[test]
fn publish_leaves_old_files_untouched_when_validation_fails() {
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), &sample()[..3], &meta(Some(3))).unwrap();
    let before = snapshot(dir.path());

    // The site said 1000 but we have 6.
    let err = publish(dir.path(), &sample(), &meta(Some(1000))).unwrap_err();
    assert!(matches!(err, PublishError::Invalid { .. }), "{err}");
    assert!(err.to_string().contains("the site reported 1000"), "{err}");
    assert_eq!(snapshot(dir.path()), before);

    // A bad field.
    let mut books = sample();
    books[4].product_url = "http://example.com/x".to_owned();
    let err = publish(dir.path(), &books, &meta(Some(6))).unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    assert!(err.problems()[0].contains("product_url"), "{err}");
    assert_eq!(snapshot(dir.path()), before, "byte for byte, no temp files");
}

#[test]
fn publish_fails_cleanly_when_the_directory_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    fs::write(&not_a_dir, b"x").unwrap();
    let err = publish(&not_a_dir, &sample(), &meta(Some(6))).unwrap_err();
    assert!(matches!(err, PublishError::CreateDir { .. }), "{err}");
    assert_eq!(fs::read(&not_a_dir).unwrap(), b"x");
}

/// A store whose file is replaced by a fresh publish keeps answering from
/// the file it opened: once the path names another file, it no longer opens
/// connections to it, and a request that finds every connection busy waits
/// for one to come back instead.
#[test]
fn a_store_keeps_reading_its_own_file_after_a_publish_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("books.db");
    let first = build_db(&sample(), &meta(Some(6)), &db).unwrap();
    let store = std::sync::Arc::new(books::store::Store::open(&db).unwrap());
    let count = |store: &books::store::Store| {
        store
            .with_connection(|conn| {
                Ok(conn.query_row("SELECT count(*) FROM books", [], |r| r.get::<_, i64>(0))?)
            })
            .unwrap()
    };
    assert_eq!(count(&store), 6);

    // A request holds the only pooled connection while a publish replaces
    // the file (built aside, renamed over, as `publish` does).
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let store = std::sync::Arc::clone(&store);
        std::thread::spawn(move || {
            store
                .with_connection(|_| {
                    held_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                })
                .unwrap();
        })
    };
    held_rx.recv().unwrap();
    let aside = dir.path().join("books.db.new");
    let fewer: Vec<Book> = sample().into_iter().take(4).collect();
    let second = build_db(&fewer, &meta(Some(4)), &aside).unwrap();
    assert_ne!(first.content_hash, second.content_hash);
    std::fs::rename(&aside, &db).unwrap();

    // Another request now waits for the held connection rather than open
    // the new file, and reads the old data.
    let waiter = {
        let store = std::sync::Arc::clone(&store);
        std::thread::spawn(move || count(&store))
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        !waiter.is_finished(),
        "it opened a connection to the new file"
    );
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(waiter.join().unwrap(), 6);
    assert_eq!(store.content_hash(), first.content_hash);
    // A store opened now reads the new file.
    assert_eq!(count(&books::store::Store::open(&db).unwrap()), 4);
}
