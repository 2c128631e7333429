//! The per-process cache of immutable answers: a repeated request is answered
//! from it (no query runs: Server-Timing has no `db`) with the same bytes and
//! ETag; its links do not depend on how the first request was written; with
//! a budget of zero nothing is kept.

use books::adapters::open_store;
use books::http::AppState;

use crate::app::{committed_db, serve_state as serve};

struct Got {
    timing: String,
    etag: String,
    link: String,
    body: bytes::Bytes,
}

async fn get(url: &str) -> Got {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (timing, etag, link) = (header("server-timing"), header("etag"), header("link"));
    Got {
        timing,
        etag,
        link,
        body: response.bytes().await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_answer_comes_from_the_cache_byte_for_byte() {
    let api = serve(AppState::new(open_store(&committed_db()))).await;
    let whole = format!("{api}/api/v1/books?per_page=1000");
    let first = get(&whole).await;
    let second = get(&whole).await;
    assert!(first.timing.contains("db;dur="), "{}", first.timing);
    assert!(!second.timing.contains("db;"), "{}", second.timing);
    assert_eq!((&second.etag, &second.body), (&first.etag, &first.body));
    assert!(first.body.len() > 1_000_000);

    // The same page asked two ways: one key, one answer, and links that are
    // right for both (the route's path, parameters sorted).
    let a = get(&format!("{api}/api/v1/books/?sort=price&page=2&per_page=5")).await;
    let b = get(&format!("{api}/api/v1/books?per_page=5&page=2&sort=price")).await;
    assert!(!b.timing.contains("db;"), "{}", b.timing);
    assert_eq!((&a.etag, &a.link), (&b.etag, &b.link));
    assert!(
        a.link
            .starts_with("</api/v1/books?per_page=5&sort=price&page=1>; rel=\"first\""),
        "{}",
        a.link
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_of_zero_keeps_nothing() {
    let state = AppState::new(open_store(&committed_db())).with_response_cache(0);
    let api = serve(state).await;
    let url = format!("{api}/api/v1/books/42");
    let (first, second) = (get(&url).await, get(&url).await);
    assert!(second.timing.contains("db;dur="), "{}", second.timing);
    assert_eq!((&second.etag, &second.body), (&first.etag, &first.body));
}
