//! `books diff`: the change summary between two catalogues, on small
//! hand-made datasets, as a library call and through the CLI.

use std::process::Command;

use books::domain::{Book, BookId, Price, Rating};
use books::store::diff::diff;

fn book(id: u32, title: &str, price_pence: u64, stock: u32) -> Book {
    Book {
        id: BookId::new(id).unwrap(),
        upc: format!("upc{id:013}"),
        title: title.to_owned(),
        category: "Poetry".to_owned(),
        price: Price::from_pence(price_pence),
        price_excl_tax: Price::from_pence(price_pence),
        tax: Price::from_pence(0),
        rating: Rating::new(3).unwrap(),
        availability: if stock > 0 {
            "In stock"
        } else {
            "Out of stock"
        }
        .to_owned(),
        stock,
        review_count: 0,
        product_type: "Books".to_owned(),
        description: format!("About {title}."),
        image_url: format!("https://books.toscrape.com/media/cache/{id}.jpg"),
        product_url: format!("https://books.toscrape.com/catalogue/book_{id}/index.html"),
    }
}

/// Old: books 1..=4. New: 1 removed, 2 repriced, 3 sold out and re-described,
/// 4 unchanged, 5 added.
fn datasets() -> (Vec<Book>, Vec<Book>) {
    let old = vec![
        book(1, "A Light in the Attic", 5177, 22),
        book(2, "Tipping the Velvet", 1000, 20),
        book(3, "Soumission", 5010, 5),
        book(4, "Sharp Objects", 4782, 20),
    ];
    let mut repriced = book(2, "Tipping the Velvet", 1250, 20);
    repriced.price_excl_tax = Price::from_pence(1250);
    let mut sold_out = book(3, "Soumission", 5010, 0);
    sold_out.description = "A new blurb.".to_owned();
    let new = vec![
        repriced,
        sold_out,
        book(4, "Sharp Objects", 4782, 20),
        book(5, "Sapiens | A Brief History", 5423, 7),
    ];
    (old, new)
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> BookId) -> Vec<u32> {
    items.iter().map(|x| id(x).get()).collect()
}

#[test]
fn identical_catalogues_have_no_changes() {
    let (old, _) = datasets();
    let d = diff(&old, &old);
    assert!(d.is_empty());
    assert_eq!((d.old_count, d.new_count), (4, 4));
    let md = d.to_markdown(50);
    assert!(md.contains("No changes"), "{md}");
    assert!(md.contains("(4 books)"), "{md}");
}

#[test]
fn finds_every_kind_of_change() {
    let (old, new) = datasets();
    let d = diff(&old, &new);
    assert!(!d.is_empty());
    assert_eq!(ids(&d.added, |b| b.id), [5]);
    assert_eq!(ids(&d.removed, |b| b.id), [1]);
    assert_eq!(ids(&d.price_changes, |c| c.id), [2]);
    assert_eq!(d.price_changes[0].before, Price::from_pence(1000));
    assert_eq!(d.price_changes[0].after, Price::from_pence(1250));
    assert_eq!(ids(&d.stock_changes, |c| c.id), [3]);
    assert_eq!(
        (d.stock_changes[0].before, d.stock_changes[0].after),
        (5, 0)
    );
    // Book 2's price_excl_tax moved with its price; book 3's availability
    // and description changed with its stock.
    let other: Vec<(&str, usize)> = d.other_changes.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(
        other,
        [
            ("availability", 1),
            ("description", 1),
            ("price_excl_tax", 1)
        ]
    );
    assert_eq!((d.old_count, d.new_count), (4, 4));
    assert_eq!((d.old_stock, d.new_stock), (67, 47));
}

#[test]
fn markdown_has_totals_and_a_table_per_kind() {
    let (old, new) = datasets();
    let md = diff(&old, &new).to_markdown(50);
    for expected in [
        "## Catalogue changes",
        "**1 added, 1 removed, 1 price change, 1 stock change, 3 other field changes.**",
        "| books | 4 | 4 | 0 |",
        "| total stock | 67 | 47 | -20 |",
        "### Added (1)",
        "| 5 | Sapiens \\| A Brief History | Poetry | £54.23 | 7 |",
        "### Removed (1)",
        "| 1 | A Light in the Attic | Poetry | £51.77 | 22 |",
        "### Price changes (1)",
        "| 2 | Tipping the Velvet | £10.00 | £12.50 | +£2.50 |",
        "### Stock changes (1)",
        "| 3 | Soumission | 5 | 0 | -5 |",
        "| `description` | 1 |",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    // Every table row has the same number of unescaped cell separators as
    // its header, so a `|` in a title cannot break the table.
    for line in md.lines().filter(|l| l.starts_with("| 5 |")) {
        assert_eq!(line.replace("\\|", "").matches('|').count(), 6, "{line}");
    }
}

#[test]
fn long_lists_are_cut_with_a_count_of_the_rest() {
    let old = vec![book(1, "One", 100, 1)];
    let new: Vec<Book> = (1..=4).map(|i| book(i, "Book", 100, 1)).collect();
    let md = diff(&old, &new).to_markdown(1);
    assert!(md.contains("### Added (3)"), "{md}");
    assert!(md.contains("| 2 | Book |"), "{md}");
    assert!(!md.contains("| 3 | Book |"), "{md}");
    assert!(md.contains("…and 2 more."), "{md}");
    // Book 1's title changed, and nothing else.
    assert!(md.contains("| `title` | 1 |"), "{md}");
}

#[test]
fn price_drops_and_growth_in_book_count() {
    let old = vec![book(1, "One", 1000, 3)];
    let new = vec![book(1, "One", 995, 3), book(2, "Two", 500, 2)];
    let md = diff(&old, &new).to_markdown(50);
    assert!(md.contains("| 1 | One | £10.00 | £9.95 | -£0.05 |"), "{md}");
    assert!(md.contains("| books | 1 | 2 | +1 |"), "{md}");
    assert!(md.contains("| total stock | 3 | 5 | +2 |"), "{md}");
}

#[test]
fn cli_reads_both_directories_csv() {
    let (old, new) = datasets();
    let tmp = tempfile::tempdir().unwrap();
    let (old_dir, new_dir) = (tmp.path().join("old"), tmp.path().join("new"));
    for (dir, books) in [(&old_dir, &old), (&new_dir, &new)] {
        std::fs::create_dir_all(dir).unwrap();
        books::store::csv::write_csv(&dir.join("books.csv"), books).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_books"))
        .arg("diff")
        .args([&old_dir, &new_dir])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, diff(&old, &new).to_markdown(50));

    // A directory without books.csv is an error naming the file.
    let out = Command::new(env!("CARGO_BIN_EXE_books"))
        .arg("diff")
        .args([tmp.path(), new_dir.as_path()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("books.csv"));
}

#[test]
fn shrink_guard_allows_a_small_margin_only() {
    let old: Vec<Book> = (1..=100).map(|i| book(i, "Book", 100, 1)).collect();
    let d = diff(&old, &old[..99]);
    assert_eq!(d.books_lost(), 1);
    assert!(!d.shrank_beyond(1.0), "1 of 100 is within 1%");
    let d = diff(&old, &old[..98]);
    assert_eq!(d.books_lost(), 2);
    assert!(d.shrank_beyond(1.0), "2 of 100 is beyond 1%");
    assert!(!d.shrank_beyond(2.0));
    // Growth is never refused.
    let d = diff(&old[..50], &old);
    assert_eq!(d.books_lost(), 0);
    assert!(!d.shrank_beyond(0.0));
}

#[test]
fn cli_refuses_a_shrunken_catalogue_after_printing_the_report() {
    let old: Vec<Book> = (1..=10).map(|i| book(i, "Book", 100, 1)).collect();
    let tmp = tempfile::tempdir().unwrap();
    let (old_dir, new_dir) = (tmp.path().join("old"), tmp.path().join("new"));
    for (dir, books) in [(&old_dir, &old[..]), (&new_dir, &old[..8])] {
        std::fs::create_dir_all(dir).unwrap();
        books::store::csv::write_csv(&dir.join("books.csv"), books).unwrap();
    }
    let run = |percent: &str| {
        Command::new(env!("CARGO_BIN_EXE_books"))
            .arg("diff")
            .args([&old_dir, &new_dir])
            .args(["--max-drop-percent", percent])
            .output()
            .unwrap()
    };
    let out = run("10");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "2 of 10 is beyond 10%");
    assert!(stdout.contains("### Removed (2)"), "{stdout}");
    assert!(stdout.contains("refused: 2 books fewer"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"));

    let out = run("20");
    assert!(out.status.success(), "2 of 10 is within 20%");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("refused"));

    let out = run("abc");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("percentage"));
}
