//! Every endpoint of the local server over HTTP on loopback, against the
//! committed `data/books.db`: shapes, totals, pagination, filters, sorts,
//! search, caching, CORS, and a table of bad inputs.

use crate::app::{TestApp, bad_inputs, ids, items};
use reqwest::Method;
use serde_json::Value;

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn health_runs_a_real_query() {
    let app = TestApp::new();
    let health = app.health().await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "ok");
    assert_eq!(health["books"], 1000);
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        health["scraped_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
}

#[tokio::test]
async fn one_book_has_every_contract_field_and_derived_ones() {
    let app = TestApp::new();
    let reply = app.get("/api/v1/books/1000").await;
    assert_eq!(reply.status, 200);
    // Prices keep two decimals on the wire.
    assert!(reply.text.contains(r#""price":51.77"#), "{}", reply.text);
    assert!(reply.text.contains(r#""tax":0.00"#), "{}", reply.text);
    let book = reply.json();
    // Every column of the data contract, under the CSV's names.
    for field in books::store::csv::HEADER {
        assert!(book.get(field).is_some(), "missing {field}");
    }
    assert_eq!(book["id"], 1000);
    assert_eq!(book["title"], "A Light in the Attic");
    assert_eq!(book["category"], "Poetry");
    assert_eq!(book["rating"], 3);
    assert_eq!(book["stock"], 22);
    assert_eq!(book["availability"], "In stock");
    assert_eq!(book["in_stock"], true);
    assert_eq!(book["currency"], "GBP");
    assert_eq!(
        book["product_url"],
        "https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html"
    );
    assert!(
        book["image_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://books.toscrape.com/media/"))
    );
    // Trailing slash is the same resource.
    assert_eq!(app.api("/books/1000/").await["id"], 1000);
}

#[tokio::test]
async fn books_without_description_have_an_empty_one() {
    let app = TestApp::new();
    for id in [5, 840] {
        assert_eq!(app.book(id).await["description"], "", "book {id}");
    }
}

#[tokio::test]
async fn the_catalogue_paginates_with_an_envelope_and_links() {
    let app = TestApp::new();
    let first = app.books("").await;
    assert_eq!(first["page"], 1);
    assert_eq!(first["per_page"], 20);
    assert_eq!(first["total"], 1000);
    assert_eq!(first["total_pages"], 50);
    assert_eq!(ids(&first), (1..=20).collect::<Vec<_>>());

    let third = app.books("page=3&per_page=20").await;
    assert_eq!(ids(&third), (41..=60).collect::<Vec<_>>());

    let odd = app.books("per_page=7&page=143").await;
    assert_eq!(odd["total_pages"], 143);
    assert_eq!(ids(&odd), vec![995, 996, 997, 998, 999, 1000]);

    let past_the_end = app.books("page=51").await;
    assert!(items(&past_the_end).is_empty());
    assert_eq!(past_the_end["total"], 1000);

    let everything = app.books("per_page=1000").await;
    assert_eq!(items(&everything).len(), 1000);
    assert_eq!(everything["total_pages"], 1);
}

#[tokio::test]
async fn link_headers_point_to_first_prev_next_last() {
    let app = TestApp::new();
    let reply = app.get("/api/v1/books?per_page=20&page=3&sort=price").await;
    let link = reply.header("link").expect("Link header").to_owned();
    for expected in [
        r#"</api/v1/books?per_page=20&sort=price&page=1>; rel="first""#,
        r#"</api/v1/books?per_page=20&sort=price&page=2>; rel="prev""#,
        r#"</api/v1/books?per_page=20&sort=price&page=4>; rel="next""#,
        r#"</api/v1/books?per_page=20&sort=price&page=50>; rel="last""#,
    ] {
        assert!(link.contains(expected), "{expected} not in {link}");
    }
    let first = app.get("/api/v1/books").await;
    let link = first.header("link").expect("Link header");
    assert!(!link.contains("rel=\"prev\""), "{link}");
    let last = app.get("/api/v1/books?page=50").await;
    let link = last.header("link").expect("Link header");
    assert!(!link.contains("rel=\"next\""), "{link}");
}

#[tokio::test]
async fn filters_are_anded_and_inclusive() {
    let app = TestApp::new();
    let categories = app.categories().await;
    let poetry_count = items(&categories)
        .iter()
        .find(|c| c["name"] == "Poetry")
        .expect("Poetry category")["book_count"]
        .clone();
    for spelling in ["Poetry", "poetry", "POETRY"] {
        let list = app
            .books(&format!("category={spelling}&per_page=1000"))
            .await;
        assert_eq!(list["total"], poetry_count, "{spelling}");
        assert!(items(&list).iter().all(|b| b["category"] == "Poetry"));
    }
    let by_slug = app.books("category=historical-fiction").await;
    let by_name = app.books("category=Historical%20Fiction").await;
    assert_eq!(by_slug["total"], by_name["total"]);
    assert!(by_slug["total"].as_u64().unwrap() > 0);
    assert_eq!(app.books("category=no-such-category").await["total"], 0);

    let priced = app.books("min_price=20&max_price=30&per_page=1000").await;
    assert!(priced["total"].as_u64().unwrap() > 0);
    for book in items(&priced) {
        let price = f64_of(&book["price"]);
        assert!((20.0..=30.0).contains(&price), "{price}");
    }
    // Inclusive at both ends: £10.00 is the cheapest price in the catalogue.
    let exact = app.books("min_price=10&max_price=10").await;
    assert!(exact["total"].as_u64().unwrap() > 0);

    assert_eq!(app.books("min_rating=5").await["total"], 196);
    assert_eq!(app.books("min_rating=4").await["total"], 179 + 196);
    assert_eq!(app.books("in_stock=true").await["total"], 1000);
    assert_eq!(app.books("in_stock=false").await["total"], 0);

    let combined = app
        .books("category=Poetry&min_rating=3&max_price=40&per_page=1000")
        .await;
    for book in items(&combined) {
        assert_eq!(book["category"], "Poetry");
        assert!(book["rating"].as_u64().unwrap() >= 3);
        assert!(f64_of(&book["price"]) <= 40.0);
    }
}

#[tokio::test]
async fn every_sort_orders_with_id_breaking_ties() {
    let app = TestApp::new();
    for key in ["id", "title", "price", "rating", "stock"] {
        for order in ["asc", "desc"] {
            let list = app
                .books(&format!("sort={key}&order={order}&per_page=1000"))
                .await;
            let books = items(&list);
            assert_eq!(books.len(), 1000);
            for pair in books.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let ordering = match key {
                    "title" => a["title"]
                        .as_str()
                        .unwrap()
                        .to_lowercase()
                        .cmp(&b["title"].as_str().unwrap().to_lowercase()),
                    _ => f64_of(&a[key]).total_cmp(&f64_of(&b[key])),
                };
                let ordering = if order == "desc" {
                    ordering.reverse()
                } else {
                    ordering
                };
                // SQLite's NOCASE folds ASCII only; Rust's lowercase folds
                // more, so titles compare equal-or-in-order ASCII-wise.
                if key != "title" {
                    assert!(ordering.is_le(), "{key} {order}: {a} then {b}");
                    if ordering.is_eq() {
                        assert!(a["id"].as_u64() < b["id"].as_u64(), "tie by id");
                    }
                }
            }
        }
    }
    let cheapest = app.books("sort=price&per_page=1").await;
    assert_eq!(items(&cheapest)[0]["price"].to_string(), "10.0");
}

#[tokio::test]
async fn search_by_title_category_and_full_text() {
    let app = TestApp::new();
    let light = app.search("title=light").await;
    assert!(light["total"].as_u64().unwrap() >= 2);
    assert!(items(&light).iter().all(|b| {
        b["title"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("light")
    }));
    assert_eq!(app.search("title=LIGHT").await["total"], light["total"]);
    assert!(ids(&light).contains(&1000));

    // % and _ are literal characters, not wildcards: two titles hold "10%".
    let percent = app.search("title=%25").await;
    assert_eq!(percent["total"], 2);
    assert!(
        items(&percent)
            .iter()
            .all(|b| b["title"].as_str().unwrap().contains("10%"))
    );
    assert_eq!(app.search("title=_").await["total"], 0);
    // SQL in a search is just text that matches nothing.
    let injection = app.search("title=%27%20OR%201%3D1%20--").await;
    assert_eq!(injection["total"], 0);
    assert!(items(&injection).is_empty());

    let poetry = app.search("category=poetry&per_page=100").await;
    assert!(items(&poetry).iter().all(|b| b["category"] == "Poetry"));

    // Full text over title and description, best match first.
    let attic = app.search("q=light%20attic").await;
    assert_eq!(ids(&attic).first(), Some(&1000));
    // FTS5 syntax in user text is treated as words.
    let as_words = app.search("q=attic%20and").await;
    assert_eq!(
        app.search("q=%22attic%22%20AND%20(").await["total"],
        as_words["total"]
    );

    let combined = app.search("title=light&category=poetry").await;
    assert!(ids(&combined).contains(&1000));
    assert!(items(&combined).iter().all(|b| b["category"] == "Poetry"));

    let nothing = app.search("title=zzzzzzzz").await;
    assert_eq!(nothing["total"], 0);
    assert_eq!(nothing["total_pages"], 0);
}

#[tokio::test]
async fn top_rated_puts_five_stars_first_then_by_id() {
    let app = TestApp::new();
    let all = app.top_rated("per_page=1000").await;
    let books = items(&all);
    assert_eq!(books.len(), 1000);
    for pair in books.windows(2) {
        let (a, b) = (&pair[0]["rating"], &pair[1]["rating"]);
        assert!(a.as_u64() >= b.as_u64());
        if a == b {
            assert!(pair[0]["id"].as_u64() < pair[1]["id"].as_u64());
        }
    }
    let first_page = app.top_rated("").await;
    assert!(items(&first_page).iter().all(|b| b["rating"] == 5));
    let second = app.top_rated("page=2&per_page=5").await;
    assert_eq!(ids(&second), ids(&all)[5..10].to_vec());
    let travel = app.top_rated("category=travel").await;
    assert!(items(&travel).iter().all(|b| b["category"] == "Travel"));
}

#[tokio::test]
async fn price_range_is_inclusive_with_aliases() {
    let app = TestApp::new();
    let range = app.price_range("min=10&max=20&per_page=1000").await;
    let books = items(&range);
    assert!(!books.is_empty());
    assert!(
        books
            .iter()
            .all(|b| (10.0..=20.0).contains(&f64_of(&b["price"])))
    );
    // Sorted by price, cheapest first.
    assert!(
        books
            .windows(2)
            .all(|p| f64_of(&p[0]["price"]) <= f64_of(&p[1]["price"]))
    );
    let same = app.books("min_price=10&max_price=20").await;
    assert_eq!(range["total"], same["total"]);
    let aliased = app.price_range("min_price=10&max_price=20").await;
    assert_eq!(aliased["total"], range["total"]);
    let only_min = app.price_range("min=59").await;
    assert!(items(&only_min).iter().all(|b| f64_of(&b["price"]) >= 59.0));
    let only_max = app.price_range("max=10.5").await;
    assert!(items(&only_max).iter().all(|b| f64_of(&b["price"]) <= 10.5));
    assert_eq!(
        only_max["total"].as_u64().unwrap()
            + app.books("min_price=10.51").await["total"]
                .as_u64()
                .unwrap(),
        1000
    );
}

#[tokio::test]
async fn categories_cover_the_catalogue() {
    let app = TestApp::new();
    let categories = app.categories().await;
    assert_eq!(categories["total"], 50);
    let list = items(&categories);
    assert_eq!(list.len(), 50);
    let sum: u64 = list.iter().map(|c| c["book_count"].as_u64().unwrap()).sum();
    assert_eq!(sum, 1000);
    let travel = list.iter().find(|c| c["name"] == "Travel").unwrap();
    assert_eq!(travel["slug"], "travel");
    assert_eq!(travel["book_count"], 11);
}

#[tokio::test]
async fn overview_stats_match_the_catalogue() {
    let app = TestApp::new();
    let reply = app.get("/api/v1/stats/overview").await;
    assert!(
        reply.text.contains(r#""average_price":35.07"#),
        "{}",
        reply.text
    );
    let stats = reply.json();
    assert_eq!(stats["total_books"], 1000);
    assert_eq!(stats["total_categories"], 50);
    assert_eq!(stats["min_price"].to_string(), "10.0");
    assert_eq!(stats["max_price"].to_string(), "59.99");
    let distribution = &stats["rating_distribution"];
    for (stars, count) in [("1", 226), ("2", 196), ("3", 203), ("4", 179), ("5", 196)] {
        assert_eq!(distribution[stars], count, "{stars} stars");
    }
    assert_eq!(stats["books_in_stock"], 1000);
    assert_eq!(stats["total_stock"], 8585);
    let average_rating = f64_of(&stats["average_rating"]);
    let expected = (226.0 + 2.0 * 196.0 + 3.0 * 203.0 + 4.0 * 179.0 + 5.0 * 196.0) / 1000.0;
    assert!((average_rating - expected).abs() < 0.005);
    let median = f64_of(&stats["median_price"]);
    assert!((10.0..=59.99).contains(&median));
}

#[tokio::test]
async fn category_stats_add_up() {
    let app = TestApp::new();
    let stats = app.stats_categories().await;
    let list = items(&stats);
    assert_eq!(stats["total"], 50);
    let books: u64 = list.iter().map(|c| c["book_count"].as_u64().unwrap()).sum();
    let stock: u64 = list
        .iter()
        .map(|c| c["total_stock"].as_u64().unwrap())
        .sum();
    assert_eq!((books, stock), (1000, 8585));
    for c in list {
        let (min, avg, max) = (
            f64_of(&c["min_price"]),
            f64_of(&c["average_price"]),
            f64_of(&c["max_price"]),
        );
        assert!(min <= avg + 0.005 && avg <= max + 0.005, "{c}");
        assert!((1.0..=5.0).contains(&f64_of(&c["average_rating"])));
    }
}

#[tokio::test]
async fn etags_answer_304_and_differ_by_request() {
    let app = TestApp::new();
    for path in [
        "/api/v1/books/1",
        "/api/v1/books?page=2",
        "/api/v1/books/search?q=attic",
        "/api/v1/categories",
        "/api/v1/stats/overview",
        "/api/v1/health",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status, 200);
        let etag = first.header("etag").expect("ETag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong: {etag}"
        );
        let again = app
            .request(Method::GET, path, &[("if-none-match", &etag)])
            .await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.text.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let weak = format!("W/{etag}");
        let listed = format!("\"other\", {weak}");
        let again = app
            .request(Method::GET, path, &[("if-none-match", &listed)])
            .await;
        assert_eq!(again.status, 304, "weak comparison in a list: {path}");
        let stale = app
            .request(Method::GET, path, &[("if-none-match", "\"stale\"")])
            .await;
        assert_eq!(stale.status, 200);
    }
    let a = app.get("/api/v1/books?page=2").await;
    let b = app.get("/api/v1/books?page=3").await;
    assert_ne!(a.header("etag"), b.header("etag"));
    // The same query written differently is the same representation.
    let c = app.get("/api/v1/books?sort=price&page=2").await;
    let d = app.get("/api/v1/books?page=2&sort=price").await;
    assert_eq!(c.header("etag"), d.header("etag"));
}

#[tokio::test]
async fn reads_are_cacheable_at_the_edge() {
    let app = TestApp::new();
    let reply = app.get("/api/v1/books/1").await;
    assert_eq!(
        reply.header("cache-control"),
        Some("public, max-age=60, s-maxage=86400, stale-while-revalidate=604800")
    );
    assert_eq!(
        app.get("/api/v1/health").await.header("cache-control"),
        Some("no-cache")
    );
}

#[tokio::test]
async fn cors_on_every_answer_and_preflight() {
    let app = TestApp::new();
    for path in ["/api/v1/books", "/api/v1/books/abc", "/api/v1/nowhere"] {
        let reply = app.get(path).await;
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
    }
    let preflight = app
        .request(
            Method::OPTIONS,
            "/api/v1/books?page=2",
            &[
                ("origin", "https://shop.example"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "if-none-match"),
            ],
        )
        .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(
        preflight
            .header("access-control-allow-methods")
            .is_some_and(|m| m.contains("GET"))
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("if-none-match")
    );
    assert!(preflight.header("access-control-max-age").is_some());
}

#[tokio::test]
async fn head_and_request_ids() {
    let app = TestApp::new();
    let head = app.request(Method::HEAD, "/api/v1/books/1", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty());
    let a = app.get("/api/v1/books/1").await;
    let b = app.get("/api/v1/books/1").await;
    let (a, b) = (a.header("x-request-id"), b.header("x-request-id"));
    assert!(a.is_some_and(|id| id.len() == 16));
    assert_ne!(a, b);
}

#[tokio::test]
async fn bad_inputs_get_a_problem_never_a_500() {
    let app = TestApp::new();
    for bad in bad_inputs() {
        let reply = app.request(bad.method.clone(), &bad.path, &[]).await;
        let shown: String = bad.path.chars().take(60).collect();
        let method = &bad.method;
        assert_eq!(reply.status, bad.status, "{method} {shown}: {}", reply.text);
        let problem = reply.problem(bad.status);
        assert_eq!(
            problem["parameter"].as_str(),
            bad.parameter,
            "{method} {shown}: {problem}"
        );
        if bad.status == 405 {
            assert!(reply.header("allow").is_some_and(|a| a.contains("GET")));
        }
    }
}

#[tokio::test]
async fn if_none_match_star_matches_only_what_exists() {
    let app = TestApp::new();
    let star = [("if-none-match", "*")];
    let missing = app.request(Method::GET, "/api/v1/books/9999", &star).await;
    missing.problem(404);
    let present = app.request(Method::GET, "/api/v1/books/1", &star).await;
    assert_eq!(present.status, 304);
    assert!(present.header("etag").is_some());
    let bad = app
        .request(Method::GET, "/api/v1/books?page=0", &star)
        .await;
    bad.problem(400);
}

#[tokio::test]
async fn the_id_in_the_path_wins_and_a_disagreeing_query_is_refused() {
    let app = TestApp::new();
    let agreeing = app.api("/books/5?id=5").await;
    assert_eq!(agreeing["id"], 5);
    let disagreeing = app.get("/api/v1/books/1?id=5").await;
    let problem = disagreeing.problem(400);
    assert_eq!(problem["parameter"], "id");
    let bad_query = app.get("/api/v1/books/1?id=abc").await;
    assert_eq!(bad_query.problem(400)["parameter"], "id");
}

#[tokio::test]
async fn echoed_input_is_truncated() {
    let app = TestApp::new();
    let long = "x".repeat(60 * 1024);
    for (url, status) in [
        (format!("/api/v1/books?sort={long}"), 400),
        (format!("/api/v1/books?{long}=1"), 400),
        (format!("/api/v1/books/{long}"), 400),
        (format!("/api/v1/books/1?id={long}"), 400),
        (format!("/api/v1/{long}"), 404),
    ] {
        let reply = app.get(&url).await;
        let problem = reply.problem(status);
        assert!(
            reply.text.len() < 1024,
            "{} bytes echoed for a {} byte URL: {}",
            reply.text.len(),
            url.len(),
            &reply.text[..200.min(reply.text.len())]
        );
        if let Some(parameter) = problem["parameter"].as_str() {
            assert!(parameter.chars().count() <= 65, "{parameter}");
        }
    }
}

#[tokio::test]
async fn malformed_requests_of_every_kind_get_a_problem() {
    let app = TestApp::new();
    let big_body = "x".repeat(books::http::app::MAX_BODY_BYTES + 1);
    // (method, path, JSON body, status)
    let cases: Vec<(Method, &str, Option<String>, u16)> = vec![
        (Method::POST, "/api/v1/books", Some("{}".into()), 405),
        (Method::PUT, "/api/v1/books/1", None, 405),
        (Method::PATCH, "/api/v1/health", None, 405),
        (Method::DELETE, "/api/v1/openapi.json", None, 405),
        (Method::POST, "/docs", None, 405),
        (Method::OPTIONS, "/api/v1/nowhere", None, 404),
        (Method::GET, "/nowhere", None, 404),
        (Method::GET, "/api/v1/books", Some(big_body), 413),
        (Method::GET, "/api/v1/books/%FF", None, 400),
        (Method::GET, "/api/v1/books?page=%FF", None, 400),
        (Method::GET, "/api/v1/books?sort=%00", None, 400),
    ];
    for (method, path, body, status) in cases {
        let mut request = reqwest::Client::new().request(method.clone(), app.url(path));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("sent");
        let reply = crate::app::Reply::read(response).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text);
        reply.problem(status);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn a_trailing_slash_is_the_same_resource() {
    let app = TestApp::new();
    let with = app.api("/books/top-rated/?per_page=1").await;
    let without = app.api("/books/top-rated?per_page=1").await;
    assert_eq!(with, without);
    assert_eq!(app.get("/docs/").await.status, 200);
}

#[tokio::test]
async fn a_client_request_id_is_kept_when_plain_and_replaced_otherwise() {
    let app = TestApp::new();
    let plain = app
        .request(
            Method::GET,
            "/api/v1/health",
            &[("x-request-id", "trace-42")],
        )
        .await;
    assert_eq!(plain.header("x-request-id"), Some("trace-42"));
    let odd = app
        .request(Method::GET, "/api/v1/health", &[("x-request-id", "a b\"c")])
        .await;
    assert!(odd.header("x-request-id").is_some_and(|id| id.len() == 16));
}

/// The response head to `GET path` with `Accept-Encoding: accept`, sent by
/// hand (reqwest would ask for gzip itself and hide the encoding).
async fn head_with_encoding(path: &str, accept: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(crate::app::server_addr())
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    String::from_utf8_lossy(&answer[..end]).to_lowercase()
}

#[tokio::test]
async fn the_local_server_compresses_for_clients_that_ask() {
    let path = "/api/v1/books?per_page=50";
    for (accept, encoding) in [("gzip", "gzip"), ("br, gzip;q=0.5", "br")] {
        let head = head_with_encoding(path, accept).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(
            head.contains(&format!("content-encoding: {encoding}")),
            "{accept}: {head}"
        );
    }
    let plain = head_with_encoding(path, "identity").await;
    assert!(plain.starts_with("http/1.1 200"), "{plain}");
    assert!(!plain.contains("content-encoding"), "{plain}");
}
