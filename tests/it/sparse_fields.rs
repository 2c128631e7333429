//! `fields=` (sparse fieldsets) on every list endpoint, over HTTP against the
//! committed database: each item shows exactly the fields asked for, in a
//! whole book's order, with the whole book's values; the set is part of the
//! ETag; a bad list is a 400 naming `fields`.

use serde_json::Value;

use crate::app::{TestApp, items};

/// A grid view's fields, asked in another order than a book's.
const GRID: &str = "title,id,image_url,price,rating";
/// The same set as [`GRID`], in a book's order.
const GRID_IN_ORDER: [&str; 5] = ["id", "title", "price", "rating", "image_url"];

/// One list query per list endpoint (each answers more than one book).
const LISTS: [&str; 4] = [
    "/api/v1/books?page=3&per_page=7&sort=price",
    "/api/v1/books/search?title=the&per_page=9",
    "/api/v1/books/top-rated?category=travel",
    "/api/v1/books/price-range?min=10&max=20&per_page=11",
];

fn keys(item: &Value) -> Vec<&str> {
    item.as_object()
        .expect("an item is an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn every_list_shows_only_the_fields_asked_for_with_the_whole_books_values() {
    let app = TestApp::new();
    for list in LISTS {
        let whole = app.get(list).await;
        let sparse = app.get(&format!("{list}&fields={GRID}")).await;
        assert_eq!(sparse.status, 200, "{list}: {}", sparse.text);
        let (whole_json, sparse_json) = (whole.json(), sparse.json());
        let (whole_items, sparse_items) = (items(&whole_json), items(&sparse_json));
        assert!(whole_items.len() > 1, "{list} lists too few books to test");
        assert_eq!(sparse_items.len(), whole_items.len(), "{list}");
        for (book, item) in whole_items.iter().zip(sparse_items) {
            assert_eq!(keys(item).len(), GRID_IN_ORDER.len(), "{list}: {item}");
            for field in GRID_IN_ORDER {
                assert_eq!(item[field], book[field], "{list}: {field}");
            }
        }
        // A book's order on the wire, whatever order `fields` gave.
        let first = sparse.text.find(r#""id":"#).expect("an id");
        let positions: Vec<usize> = GRID_IN_ORDER
            .iter()
            .map(|f| sparse.text[first..].find(&format!("\"{f}\":")).expect(f))
            .collect();
        assert!(positions.is_sorted(), "{list}: {}", sparse.text);
        // The envelope is the whole answer's.
        for key in ["page", "per_page", "total", "total_pages"] {
            assert_eq!(sparse_json[key], whole_json[key], "{list}: {key}");
        }
        // Much less to send: the descriptions stay behind.
        assert!(
            sparse.text.len() * 4 < whole.text.len(),
            "{list}: {} vs {} bytes",
            sparse.text.len(),
            whole.text.len()
        );
        assert_ne!(sparse.header("etag"), whole.header("etag"), "{list}");
        assert!(
            sparse
                .header("link")
                .is_some_and(|l| l.contains("fields=title%2Cid%2Cimage_url%2Cprice%2Crating")),
            "{list}: the links keep the fields: {:?}",
            sparse.header("link")
        );
    }
}

#[tokio::test]
async fn a_set_of_fields_is_a_set_and_an_empty_one_is_refused() {
    let app = TestApp::new();
    let list = LISTS[0];
    let grid = app.get(&format!("{list}&fields={GRID}")).await;
    let again = app
        .get(&format!("{list}&fields=rating,price,id,title,image_url,id"))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.text, grid.text);

    let whole = app.get(list).await;
    // An empty set is refused: every field is what leaving `fields` out means.
    assert_eq!(app.get(&format!("{list}&fields=")).await.status, 400);
    let every = "id,upc,title,category,price,price_excl_tax,tax,rating,availability,\
                 stock,review_count,product_type,description,image_url,product_url,in_stock,currency";
    assert_eq!(
        app.get(&format!("{list}&fields={every}")).await.text,
        whole.text
    );

    let derived = app.get(&format!("{list}&fields=currency,in_stock")).await;
    for item in items(&derived.json()) {
        // serde_json's map sorts keys; the wire order is checked below.
        assert_eq!(keys(item), ["currency", "in_stock"]);
        assert_eq!(item["currency"], "GBP");
    }
    assert!(
        derived.text.starts_with(r#"{"items":[{"in_stock":"#),
        "{}",
        derived.text
    );
}

#[tokio::test]
async fn a_bad_field_list_is_a_400_naming_fields() {
    let app = TestApp::new();
    for bad in [
        "zzz",
        "id,zzz",
        "id,,title",
        ",",
        "id,",
        "ID",
        "id title",
        "id%20",
        "book.id",
    ] {
        for list in LISTS {
            let reply = app.get(&format!("{list}&fields={bad}")).await;
            let problem = reply.problem(400);
            assert_eq!(problem["parameter"], "fields", "{list}&fields={bad}");
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("known: id, upc, title")),
                "{problem}"
            );
        }
    }
    // One book is not a list: `fields` is not one of its parameters.
    app.get("/api/v1/books/1?fields=id").await.problem(400);
}
