//! Title search semantics, pinned against a brute-force reference: a book
//! matches when its title, lowercased (Unicode), contains the needle,
//! lowercased; `%`, `_` and quotes are plain characters. The trigram index
//! (three characters or more) must change which books are found by nothing,
//! only how fast: every needle below is checked both ways.

use books::domain::Book;
use books::store::Store;
use books::store::query::BookQuery;

use crate::app::committed_db;

/// The ids the reference finds for `needle`, ascending.
fn reference(books: &[Book], needle: &str) -> Vec<u32> {
    let needle = needle.to_lowercase();
    books
        .iter()
        .filter(|b| b.title.to_lowercase().contains(&needle))
        .map(|b| b.id.get())
        .collect()
}

fn searched(store: &Store, needle: &str) -> Vec<u32> {
    let query = BookQuery {
        title_contains: Some(needle.to_owned()),
        ..BookQuery::all(1000)
    };
    let page = store.books(&query).unwrap();
    assert_eq!(page.total as usize, page.books.len(), "{needle:?}");
    page.books.iter().map(|b| b.id.get()).collect()
}

#[test]
fn title_search_finds_exactly_the_titles_holding_the_needle() {
    let store = Store::open(&committed_db()).unwrap();
    let books = store.all_books().unwrap();
    let mut needles: Vec<String> = [
        "light",
        "LIGHT",
        "Light in",
        "the",
        "a",
        "ab",
        "xyz",
        "zzzzzzzz",
        "10%",
        "%",
        "_",
        "%_",
        "'",
        "\"",
        "\"\"",
        "' OR 1=1 --",
        "it's",
        "é",
        "café",
        "ÉCOLE",
        "#1)",
        "(",
        ")",
        "*",
        "^",
        ":",
        "-",
        "AND",
        "OR",
        "NOT",
        "NEAR",
        "  ",
        " a ",
        "a\u{0}b",
        "ß",
        "İ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Pieces of real titles, 1 to 8 characters long, at several places, in
    // their own case and upper case.
    for book in books.iter().step_by(37) {
        let chars: Vec<char> = book.title.chars().collect();
        for len in [1, 2, 3, 4, 6, 8] {
            for start in [0, chars.len() / 2, chars.len().saturating_sub(len)] {
                if start + len <= chars.len() {
                    let piece: String = chars[start..start + len].iter().collect();
                    needles.push(piece.to_uppercase());
                    needles.push(piece);
                }
            }
        }
    }
    let mut found_some = 0;
    for needle in &needles {
        let expected = reference(&books, needle);
        assert_eq!(searched(&store, needle), expected, "needle {needle:?}");
        found_some += usize::from(!expected.is_empty());
    }
    // The check means something: most needles find books, some several.
    assert!(
        found_some * 2 > needles.len(),
        "{found_some} of {}",
        needles.len()
    );
    assert_eq!(reference(&books, "10%").len(), 2);
}
