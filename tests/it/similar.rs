//! `/books/{id}/similar` over HTTP against the committed `data/books.db`
//! (shape, order, limits, errors, caching), and the stored neighbours
//! themselves: their precision by category against chance, and a
//! brute-force cosine recomputation from `data/books.csv`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use books::domain::{Book, BookId};
use books::ml::text::{Tokenizer, Vectorizer, VocabularyRules, book_text};
use books::store::Store;
use books::store::query::BookQuery;
use reqwest::Method;
use serde_json::Value;

use crate::app::{TestApp, committed_db};

/// The id of each item's book, in order.
fn item_ids(body: &Value) -> Vec<u64> {
    items(body)
        .iter()
        .map(|item| item["book"]["id"].as_u64().expect("book id"))
        .collect()
}

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().expect("items array")
}

/// Score descending, ties by id ascending, and never `id` itself.
#[track_caller]
fn assert_ranked(id: u32, body: &Value) {
    let keyed: Vec<(f64, u64)> = items(body)
        .iter()
        .map(|item| {
            let score = item["score"].as_f64().expect("score");
            assert!((0.0..=1.0).contains(&score), "book {id}: score {score}");
            (score, item["book"]["id"].as_u64().expect("id"))
        })
        .collect();
    assert!(
        keyed.iter().all(|(_, other)| *other != u64::from(id)),
        "book {id} is among its own similar books"
    );
    for pair in keyed.windows(2) {
        let ((a_score, a_id), (b_score, b_id)) = (pair[0], pair[1]);
        assert!(
            a_score > b_score || (a_score == b_score && a_id < b_id),
            "book {id}: {a_id} ({a_score}) listed before {b_id} ({b_score})"
        );
    }
}

#[tokio::test]
async fn similar_books_are_full_books_with_a_score() {
    let app = TestApp::new();
    let reply = app.get("/api/v1/books/1000/similar").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["book_id", "items", "limit"]);
    assert_eq!(body["book_id"], 1000);
    assert_eq!(body["limit"], 5);
    assert_eq!(items(&body).len(), 5);
    assert_ranked(1000, &body);
    for item in items(&body) {
        assert_eq!(item.as_object().map(|o| o.len()), Some(2), "{item}");
        // The same representation as /books/{id}.
        let id = item["book"]["id"].as_u64().expect("id") as u32;
        assert_eq!(item["book"], app.book(id).await, "book {id}");
    }
    // The poems of "A Light in the Attic" are closest to other poetry.
    let categories: Vec<&str> = items(&body)
        .iter()
        .map(|item| item["book"]["category"].as_str().expect("category"))
        .collect();
    assert!(categories.contains(&"Poetry"), "{categories:?}");
}

#[tokio::test]
async fn every_book_has_its_neighbours_ranked_and_never_itself() {
    let app = TestApp::new();
    for id in 1..=1000 {
        let body = app.similar(id, "limit=20").await;
        assert_eq!(body["book_id"], id);
        assert_eq!(items(&body).len(), 20, "book {id}");
        assert_ranked(id, &body);
    }
}

#[tokio::test]
async fn limit_takes_the_best_first_from_1_to_20() {
    let app = TestApp::new();
    let all = app.similar(42, "limit=20").await;
    for limit in [1, 3, 5, 19, 20] {
        let body = app.similar(42, &format!("limit={limit}")).await;
        assert_eq!(body["limit"], limit);
        assert_eq!(
            item_ids(&body),
            item_ids(&all)[..limit],
            "limit={limit} is a prefix"
        );
    }
    // Absent or empty is the default, 5.
    assert_eq!(app.similar(42, "").await, app.similar(42, "limit=5").await);
    // The trailing slash and the rewrite's ?id= name the same resource.
    assert_eq!(
        app.api("/books/42/similar/?limit=2").await,
        app.similar(42, "limit=2&id=42").await
    );
}

#[tokio::test]
async fn bad_ids_and_limits_are_400_and_a_missing_book_404() {
    let app = TestApp::new();
    for (path, parameter) in [
        ("/api/v1/books/abc/similar", "id"),
        ("/api/v1/books/0/similar", "id"),
        ("/api/v1/books/-3/similar", "id"),
        ("/api/v1/books/4294967296/similar", "id"),
        ("/api/v1/books/7/similar?id=8", "id"),
        ("/api/v1/books/7/similar?limit=0", "limit"),
        ("/api/v1/books/7/similar?limit=21", "limit"),
        ("/api/v1/books/7/similar?limit=1.5", "limit"),
        ("/api/v1/books/7/similar?limit=%2B5", "limit"),
        ("/api/v1/books/7/similar?limit=1&limit=2", "limit"),
        ("/api/v1/books/7/similar?per_page=2", "per_page"),
    ] {
        let problem = app.get(path).await.problem(400);
        assert_eq!(problem["parameter"], parameter, "{path}: {problem}");
    }
    let missing = app.get("/api/v1/books/99999/similar").await.problem(404);
    assert!(
        missing["detail"]
            .as_str()
            .is_some_and(|d| d.contains("99999")),
        "{missing}"
    );
    let star = [("if-none-match", "*")];
    let reply = app
        .request(Method::GET, "/api/v1/books/99999/similar", &star)
        .await;
    reply.problem(404);
    let reply = app
        .request(Method::GET, "/api/v1/books/1/similar", &star)
        .await;
    assert_eq!(reply.status, 304);
    assert_eq!(
        app.get("/api/v1/books/1/similar/more").await.status,
        404,
        "no deeper path"
    );
}

#[tokio::test]
async fn similar_books_are_cached_by_id_and_limit() {
    let app = TestApp::new();
    let path = "/api/v1/books/3/similar?limit=4";
    let first = app.get(path).await;
    assert_eq!(
        first.header("cache-control"),
        Some("public, max-age=60, s-maxage=86400, stale-while-revalidate=604800")
    );
    let etag = first.header("etag").expect("ETag").to_owned();
    let again = app
        .request(Method::GET, path, &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let etag_of = |reply: crate::app::Reply| reply.header("etag").map(str::to_owned);
    let other_limit = etag_of(app.get("/api/v1/books/3/similar?limit=5").await);
    let other_book = etag_of(app.get("/api/v1/books/4/similar?limit=4").await);
    let the_book = etag_of(app.get("/api/v1/books/3").await);
    for other in [&other_limit, &other_book, &the_book] {
        assert_ne!(other.as_deref(), Some(etag.as_str()));
    }
    // The default limit is the same representation as limit=5.
    let default = etag_of(app.get("/api/v1/books/3/similar").await);
    assert_eq!(default, other_limit);
    let head = app.request(Method::HEAD, path, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty());
}

fn every_book(store: &Store) -> Vec<Book> {
    store.books(&BookQuery::all(u32::MAX)).expect("books").books
}

#[test]
fn precision_at_5_by_category_is_at_least_three_times_chance() {
    const K: u32 = 5;
    let store = Store::open(&committed_db()).expect("committed database");
    let books = every_book(&store);
    let n = books.len();
    assert_eq!(n, 1000);
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    for book in &books {
        *per_category.entry(book.category.as_str()).or_default() += 1;
    }
    let (mut precision, mut chance) = (0.0, 0.0);
    for book in &books {
        let similar = store.similar(book.id, K).expect("similar");
        assert_eq!(similar.len(), K as usize, "book {}", book.id);
        let same = similar
            .iter()
            .filter(|(other, _)| other.category == book.category)
            .count();
        precision += same as f64 / f64::from(K);
        // Five books drawn at random from the others: the share of the others
        // in the book's category.
        chance += (per_category[book.category.as_str()] - 1) as f64 / (n - 1) as f64;
    }
    let (precision, chance) = (precision / n as f64, chance / n as f64);
    println!(
        "similar books: precision@5 by category {:.1} % over {n} books; random baseline {:.1} % ({:.1}×)",
        100.0 * precision,
        100.0 * chance,
        precision / chance
    );
    assert!(
        precision >= 3.0 * chance,
        "precision@5 {precision:.4} is less than 3 × the random baseline {chance:.4}"
    );
}

#[test]
fn stored_neighbours_are_the_brute_force_cosine_neighbours() {
    const K: usize = 20;
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/books.csv");
    let mut books = books::store::csv::read_csv(&csv).expect("committed CSV");
    books.sort_by_key(|b| b.id);
    let texts: Vec<String> = books
        .iter()
        .map(|b| book_text(&b.title, &b.description))
        .collect();
    let vectorizer = Vectorizer::fit(
        Tokenizer::default(),
        VocabularyRules {
            min_df: 2,
            max_terms: 5000,
        },
        texts.iter().map(String::as_str),
    );
    let vectors: Vec<_> = texts.iter().map(|t| vectorizer.transform(t)).collect();
    let store = Store::open(&committed_db()).expect("committed database");

    // The first and last books, two without a description, and the pair of
    // the two most alike in the catalogue.
    let mut probes: Vec<u32> = vec![1, 5, 840, 500, 1000];
    let closest = (1..=1000u32)
        .map(|id| (id, store.similar(BookId::new(id).unwrap(), 1).unwrap()))
        .max_by(|a, b| a.1[0].1.total_cmp(&b.1[0].1).then(b.0.cmp(&a.0)))
        .expect("books");
    probes.push(closest.0);
    probes.push(closest.1[0].0.id.get());

    for id in probes {
        let i = books.iter().position(|b| b.id.get() == id).expect("id");
        let mut expected: Vec<(u32, f64)> = books
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, other)| {
                // Cosine of unit vectors, kept to six decimals as stored.
                let cosine = vectors[i].dot_sparse(&vectors[j]).clamp(0.0, 1.0);
                (other.id.get(), (cosine * 1e6).round() / 1e6)
            })
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        expected.truncate(K);
        let stored: Vec<(u32, f64)> = store
            .similar(BookId::new(id).unwrap(), K as u32)
            .expect("similar")
            .into_iter()
            .map(|(book, score)| (book.id.get(), score))
            .collect();
        assert_eq!(stored, expected, "book {id}");
    }
}
