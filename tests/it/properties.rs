//! Property tests (proptest), bounded to a few hundred cases each so they
//! stay quick: the query-parameter parsers and the JSON body validators of
//! every route, through the real app in process, never answer a 5xx or
//! anything but JSON, and valid input round-trips; prices round-trip through
//! their text; the HTML parser never panics on mutated pages.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use books::domain::Price;
use books::http::{AppState, Route, app};
use books::scrape::parse::{parse_listing, parse_product};
use books::services::books::BookField;
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;
use url::Url;

use crate::app::{admin_token, committed_db, test_auth};
use crate::common::product_html;

/// What the app answered: status, content type, body.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// The whole app over the committed data and model, with the test accounts,
/// and a runtime to call it from proptest's synchronous cases.
fn call(request: http::Request<axum::body::Body>) -> Answer {
    static APP: OnceLock<(tokio::runtime::Runtime, app::App)> = OnceLock::new();
    let (runtime, app) = APP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let db = committed_db();
        let state = AppState::new(books::store::Store::open(&db))
            .with_model(books::adapters::load_model(
                &db.with_file_name("model.json"),
            ))
            .with_auth(Some(test_auth()));
        (runtime, app::api(&Route::ALL, state))
    });
    runtime.block_on(async {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            content_type,
            body: body.to_vec(),
        }
    })
}

/// A client error is a problem document for that status; success is JSON
/// (or the training data's CSV); nothing is a 5xx.
fn assert_well_formed(answer: &Answer, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(answer.status < 500, "{what}: {}", answer.status);
    if answer.status >= 400 {
        prop_assert_eq!(&answer.content_type, "application/problem+json", "{}", what);
        let problem: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
        prop_assert_eq!(problem["status"].as_u64(), Some(u64::from(answer.status)));
        prop_assert!(problem["detail"].is_string(), "{what}: {problem}");
    } else if answer.status == 200 && answer.content_type.starts_with("application/json") {
        prop_assert!(
            serde_json::from_slice::<Value>(&answer.body).is_ok(),
            "{what}: not JSON"
        );
    }
    Ok(())
}

fn get(target: &str) -> Answer {
    call(
        http::Request::get(target)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
}

fn post(path: &str, body: String) -> Answer {
    call(
        http::Request::post(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", admin_token()))
            .body(axum::body::Body::from(body))
            .unwrap(),
    )
}

/// A parameter value: numbers in and out of range, words, empty, control
/// characters, non-ASCII, long.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0u32..2000).prop_map(|n| n.to_string()),
        "[0-9]{1,3}\\.[0-9]{1,4}",
        prop::sample::select(vec![
            "",
            "price",
            "-price",
            "title",
            "rating",
            "asc",
            "desc",
            "train",
            "test",
            "all",
            "csv",
            "json",
            "id,title",
            "title,price,nope",
            "Poetry",
            "NaN",
            "inf",
            "1e3",
            "0x10",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
        "[\\x00-\\x1f%&=+#]{1,4}",
        "[a-z]{200,400}",
    ]
}

/// A query for `route`: mostly its own parameter names (and the odd
/// unknown or repeated one) with any values, or raw characters.
fn query(route: Route) -> impl Strategy<Value = String> {
    let mut names: Vec<&'static str> = books::http::endpoints::allowed_params(route).to_vec();
    names.extend(["nope", "PAGE", ""]);
    let pairs =
        prop::collection::vec((prop::sample::select(names), value()), 0..5).prop_map(|pairs| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in pairs {
                query.append_pair(name, &value);
            }
            query.finish()
        });
    // Raw: any characters a URI's query may hold, stray `%` escapes included.
    prop_oneof![4 => pairs, 1 => "[A-Za-z0-9%&=+;,._~!$'()*:@/?-]{0,40}"]
}

fn read_routes() -> Vec<Route> {
    Route::ALL
        .into_iter()
        .filter(|r| r.methods() == books::http::route::Methods::Read)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_query_on_any_read_route_is_answered_with_json_never_a_5xx(
        (route, query) in prop::sample::select(read_routes())
            .prop_flat_map(|route| (Just(route), query(route)))
    ) {
        let path = route.path().replace("{id}", "7");
        let target = format!("{path}?{query}");
        assert_well_formed(&get(&target), &target)?;
    }

    #[test]
    fn a_query_means_what_its_canonical_form_means(query in query(Route::Books)) {
        use books::http::params::QueryParams;
        let allowed = books::http::endpoints::allowed_params(Route::Books);
        if let Ok(parsed) = QueryParams::parse(Some(&query), allowed) {
            let canonical = parsed.canonical();
            let again = QueryParams::parse(Some(&canonical), allowed).unwrap();
            prop_assert_eq!(again.canonical(), canonical);
            let mut pairs = parsed.pairs().to_vec();
            pairs.sort();
            prop_assert_eq!(again.pairs(), &pairs[..]);
        }
    }

    #[test]
    fn a_valid_list_request_is_answered_as_asked(
        page in 1u32..60,
        per_page in 1u32..=100,
        sort in prop::sample::select(vec!["id", "title", "price", "rating", "stock"]),
        order in prop::sample::select(vec!["asc", "desc"]),
        bounds in (0u32..6000, 0u32..6000),
        // Any order, repeats allowed; none is every field.
        fields in prop::collection::vec(
            prop::sample::select(BookField::ALL.map(BookField::name).to_vec()),
            0..6,
        ),
    ) {
        let (low, high) = (bounds.0.min(bounds.1), bounds.0.max(bounds.1));
        let mut target = format!(
            "/api/v1/books?page={page}&per_page={per_page}&sort={sort}&order={order}&min_price={}.{:02}&max_price={}.{:02}",
            low / 100, low % 100, high / 100, high % 100
        );
        let shown: BTreeSet<&str> = if fields.is_empty() {
            BookField::ALL.map(BookField::name).into()
        } else {
            target.push_str(&format!("&fields={}", fields.join(",")));
            fields.iter().copied().collect()
        };
        let answer = get(&target);
        let list: Value = serde_json::from_slice(&answer.body).unwrap();
        if answer.status != 200 {
            // Only a page past the last may be refused.
            prop_assert_eq!(answer.status, 400, "{}: {}", target, list);
            prop_assert_eq!(&list["parameter"], "page", "{}", target);
            return Ok(());
        }
        prop_assert_eq!(list["page"].as_u64(), Some(u64::from(page)));
        prop_assert_eq!(list["per_page"].as_u64(), Some(u64::from(per_page)));
        let items = list["items"].as_array().unwrap();
        prop_assert!(items.len() <= per_page as usize);
        for book in items {
            let keys: BTreeSet<&str> = book.as_object().unwrap().keys().map(String::as_str).collect();
            prop_assert_eq!(&keys, &shown, "{}", target);
            if let Some(price) = book.get("price") {
                let pence = (price.as_f64().unwrap() * 100.0).round() as u32;
                prop_assert!((low..=high).contains(&pence), "{} outside {}..={}", pence, low, high);
            }
        }
    }

    #[test]
    fn any_json_body_on_any_write_route_is_refused_or_answered_never_a_5xx(
        route in prop::sample::select(vec![Route::MlPredictions, Route::AuthLogin, Route::AuthRefresh]),
        body in json_value(),
    ) {
        let text = body.to_string();
        assert_well_formed(&post(route.path(), text.clone()), &format!("{} {text}", route.path()))?;
    }

    #[test]
    fn valid_instances_get_one_ranked_prediction_each(
        instances in prop::collection::vec(("\\PC{0,40}[a-zA-Z]\\PC{0,40}", "\\PC{0,200}"), 1..8),
        top in 1u32..=5,
    ) {
        let body = serde_json::json!({
            "instances": instances.iter().map(|(title, description)|
                serde_json::json!({"title": title, "description": description})).collect::<Vec<_>>()
        });
        let answer = post(&format!("{}?top={top}", Route::MlPredictions.path()), body.to_string());
        prop_assert_eq!(answer.status, 200);
        let answer: Value = serde_json::from_slice(&answer.body).unwrap();
        let predictions = answer["predictions"].as_array().unwrap();
        prop_assert_eq!(predictions.len(), instances.len());
        for prediction in predictions {
            let ranked: Vec<f64> = prediction["top"].as_array().unwrap().iter()
                .map(|c| c["probability"].as_f64().unwrap()).collect();
            prop_assert_eq!(ranked.len(), top as usize);
            prop_assert!(ranked.windows(2).all(|w| w[0] >= w[1]));
            prop_assert!(ranked.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }

    #[test]
    fn prices_round_trip_through_their_text(pence in 0u64..=u64::MAX / 100) {
        let price = Price::from_pence(pence);
        prop_assert_eq!(Price::parse_gbp(&price.to_string()).unwrap(), price);
        prop_assert_eq!(Price::parse_gbp(&format!("£{price}")).unwrap(), price);
    }

    #[test]
    fn any_text_parses_as_a_price_or_is_refused_and_a_parsed_one_round_trips(
        text in prop_oneof!["\\PC{0,12}", "£?[0-9]{0,22}(\\.[0-9]{0,3})?"]
    ) {
        if let Ok(price) = Price::parse_gbp(&text) {
            prop_assert_eq!(Price::parse_gbp(&price.to_string()).unwrap(), price);
        }
    }

    #[test]
    fn the_html_parser_never_panics_on_a_mutated_page(
        id in 1u32..1000,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let base = Url::parse("http://127.0.0.1:8000/").unwrap();
        let page = base.join(&crate::common::product_path(id)).unwrap();
        let original = product_html(id);
        // The page itself parses, to the book it describes.
        let book = parse_product(&original, &page, &base).unwrap();
        prop_assert_eq!(book.id.get(), id);
        let mut html = original.into_bytes();
        for mutation in &mutations {
            mutation.apply(&mut html);
        }
        let html = String::from_utf8_lossy(&html);
        let _ = parse_product(&html, &page, &base);
        let _ = parse_listing(&html, &page);
    }
}

/// An edit of a page's bytes, at positions given as fractions of its length.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(f64),
    Delete(f64, usize),
    Insert(f64, String),
    Duplicate(f64, usize, f64),
}

impl Mutation {
    fn apply(&self, html: &mut Vec<u8>) {
        let at = |f: f64, html: &Vec<u8>| ((html.len() as f64) * f) as usize;
        match self {
            Mutation::Truncate(f) => html.truncate(at(*f, html)),
            Mutation::Delete(f, n) => {
                let start = at(*f, html);
                let end = (start + n).min(html.len());
                html.drain(start..end);
            }
            Mutation::Insert(f, text) => {
                let start = at(*f, html);
                html.splice(start..start, text.bytes());
            }
            Mutation::Duplicate(f, n, to) => {
                let start = at(*f, html);
                let piece = html[start..(start + n).min(html.len())].to_vec();
                let to = at(*to, html);
                html.splice(to..to, piece);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fraction = 0.0..1.0f64;
    let text = prop_oneof![
        prop::sample::select(vec![
            "<",
            ">",
            "</td>",
            "<td>",
            "<p class=\"price_color\">",
            "£",
            "&amp;",
            "<h1>",
            "</article>",
            "<tr><th>UPC</th><td></td></tr>",
            "\u{0}",
            "é",
            "<!--",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,20}",
    ];
    prop_oneof![
        fraction.clone().prop_map(Mutation::Truncate),
        (fraction.clone(), 1usize..200).prop_map(|(f, n)| Mutation::Delete(f, n)),
        (fraction.clone(), text).prop_map(|(f, t)| Mutation::Insert(f, t)),
        (fraction.clone(), 1usize..300, fraction)
            .prop_map(|(f, n, t)| Mutation::Duplicate(f, n, t)),
    ]
}

/// Any JSON value, nested a little, with the keys the bodies use among others.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "instances",
            "book_ids",
            "title",
            "description",
            "username",
            "password",
            "refresh_token",
            "reason",
            "extra",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
