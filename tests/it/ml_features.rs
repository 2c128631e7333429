//! `GET /api/v1/ml/features` over the committed data and model: every
//! feature described, statistics recomputed here from `data/books.csv`,
//! the constant and leaky columns flagged, the targets' findings equal to
//! the model card's, conditional requests, and the dictionary without a
//! model.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::app::{TestApp, committed_db};
use books::http::{AppState, Route};
use books::ml::features::FEATURES;
use http_body_util::BodyExt as _;
use reqwest::Method;
use serde_json::Value;
use tower::ServiceExt as _;

/// The committed catalogue, read independently of the store: column name
/// to value, per book.
fn csv_rows() -> Vec<csv::StringRecord> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/books.csv");
    let mut reader = csv::Reader::from_path(&path).expect("books.csv");
    let header = reader.headers().expect("header").clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        books::domain::Book::COLUMNS
    );
    reader.records().map(|r| r.expect("a CSV record")).collect()
}

fn column(rows: &[csv::StringRecord], name: &str) -> Vec<String> {
    let at = books::domain::Book::COLUMNS
        .iter()
        .position(|c| *c == name)
        .expect("a column");
    rows.iter().map(|r| r[at].to_owned()).collect()
}

fn numbers(rows: &[csv::StringRecord], name: &str) -> Vec<f64> {
    column(rows, name)
        .iter()
        .map(|v| v.parse().expect("a number"))
        .collect()
}

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn entry<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

fn codes(feature: &Value) -> Vec<&str> {
    feature["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["code"].as_str().expect("code"))
        .collect()
}

fn flagged(body: &Value, code: &str) -> BTreeSet<String> {
    body["flagged"][code]
        .as_array()
        .unwrap_or_else(|| panic!("flagged.{code}"))
        .iter()
        .map(|n| n.as_str().expect("name").to_owned())
        .collect()
}

async fn dictionary() -> Value {
    TestApp::new().api("/ml/features").await
}

#[tokio::test]
async fn every_feature_is_described() {
    let body = dictionary().await;
    let features = body["features"].as_array().expect("features");
    let names: Vec<&str> = features
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    // The table, in its order: a dataset's columns.
    let table: Vec<&str> = FEATURES.iter().map(|f| f.name).collect();
    assert_eq!(names, table);
    for required in [
        "id",
        "title",
        "description",
        "category",
        "price",
        "price_excl_tax",
        "tax",
        "rating",
        "availability",
        "stock",
        "in_stock",
        "review_count",
        "product_type",
        "title_chars",
        "title_words",
        "description_chars",
        "description_words",
        "has_description",
    ] {
        assert!(names.contains(&required), "{required}");
    }
    for f in features {
        let name = &f["name"];
        let kind = f["type"].as_str().expect("type");
        assert!(
            ["numeric", "categorical", "boolean", "text"].contains(&kind),
            "{name}: {kind}"
        );
        assert!(
            ["identifier", "target", "feature"].contains(&f["role"].as_str().expect("role")),
            "{name}"
        );
        // `unit` is always there: a string for the numbers that have one.
        assert!(f.get("unit").is_some(), "{name}");
        assert!(f["unit"].is_null() || kind == "numeric", "{name}");
        let source = f["column"].as_str().expect("column");
        assert!(books::domain::Book::COLUMNS.contains(&source), "{name}");
        assert!(f["derivation"].is_string() || f["name"] == source, "{name}");
        assert!(f["note"].as_str().is_some_and(|n| !n.is_empty()), "{name}");
        assert_eq!(f["stats"]["count"], 1000, "{name}");
        // The part of the statistics for its type, and only that.
        for part in ["numeric", "boolean", "text"] {
            assert_eq!(f["stats"][part].is_object(), part == kind, "{name} {part}");
        }
    }
    assert_eq!(entry(&body, "id")["role"], "identifier");
    assert!(
        entry(&body, "id")["note"]
            .as_str()
            .unwrap()
            .contains("not a feature")
    );
    assert_eq!(entry(&body, "price")["unit"], "GBP");
    assert_eq!(entry(&body, "in_stock")["derivation"], "stock > 0");
    assert_eq!(entry(&body, "in_stock")["column"], "stock");
    assert_eq!(body["data"]["books"], 1000);
    let health = TestApp::new().health().await;
    assert_eq!(body["data"]["scraped_at"], health["scraped_at"]);
}

#[tokio::test]
async fn statistics_match_the_csv() {
    let body = dictionary().await;
    let rows = csv_rows();

    let mut prices = numbers(&rows, "price");
    let n = prices.len() as f64;
    let mean = prices.iter().sum::<f64>() / n;
    let std = (prices.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    prices.sort_by(f64::total_cmp);
    let median = (prices[499] + prices[500]) / 2.0;
    let price = &entry(&body, "price")["stats"]["numeric"];
    assert!(close(f64_of(&price["mean"]), mean), "{price}");
    assert!(close(f64_of(&price["std"]), std), "{price}");
    assert!(close(f64_of(&price["median"]), median), "{price}");
    assert_eq!(f64_of(&price["min"]), prices[0]);
    assert_eq!(f64_of(&price["max"]), prices[999]);
    // p25 at position 999 / 4 = 249.75.
    let p25 = prices[249] + 0.75 * (prices[250] - prices[249]);
    assert!(close(f64_of(&price["p25"]), p25), "{price}");
    let distinct: BTreeSet<String> = column(&rows, "price").into_iter().collect();
    assert_eq!(entry(&body, "price")["stats"]["distinct"], distinct.len());

    let descriptions = column(&rows, "description");
    let words: Vec<usize> = descriptions
        .iter()
        .map(|d| d.split_whitespace().count())
        .collect();
    let stats = &entry(&body, "description_words")["stats"]["numeric"];
    assert_eq!(f64_of(&stats["max"]), *words.iter().max().unwrap() as f64);
    let mean_words = words.iter().sum::<usize>() as f64 / n;
    assert!(close(f64_of(&stats["mean"]), mean_words), "{stats}");
    let text = &entry(&body, "description")["stats"]["text"];
    assert_eq!(text["max_words"], *words.iter().max().unwrap());
    let empty = descriptions.iter().filter(|d| d.is_empty()).count();
    assert_eq!(text["empty"], empty);
    let has = &entry(&body, "has_description")["stats"]["boolean"];
    assert_eq!(has["true_count"], 1000 - empty);
    let max_chars = descriptions
        .iter()
        .map(|d| d.chars().count())
        .max()
        .unwrap();
    assert_eq!(text["max_chars"], max_chars);

    // The rating's values, all five, most common first.
    let ratings = column(&rows, "rating");
    let top = entry(&body, "rating")["stats"]["top_values"]
        .as_array()
        .expect("top_values")
        .clone();
    assert_eq!(top.len(), 5);
    for value in &top {
        let stars = value["value"].as_u64().expect("stars").to_string();
        let count = ratings.iter().filter(|r| **r == stars).count();
        assert_eq!(value["count"], count, "{stars} stars");
    }
    assert!(
        top.windows(2)
            .all(|w| w[0]["count"].as_u64() >= w[1]["count"].as_u64())
    );
    // Categories: the 10 most common.
    let categories = &entry(&body, "category")["stats"];
    assert_eq!(categories["distinct"], 50);
    assert_eq!(categories["top_values"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn constant_and_leaky_columns_are_flagged() {
    let body = dictionary().await;
    let rows = csv_rows();
    // Constant in the CSV, whatever its values are.
    for name in ["tax", "review_count", "availability", "product_type"] {
        let values: BTreeSet<String> = column(&rows, name).into_iter().collect();
        assert_eq!(values.len(), 1, "{name} is not constant in the data");
        let feature = entry(&body, name);
        assert_eq!(codes(feature), ["constant"], "{name}");
        assert_eq!(feature["stats"]["distinct"], 1);
        assert!(flagged(&body, "constant").contains(name), "{name}");
    }
    // Every book is in stock, so in_stock is constant too.
    assert!(numbers(&rows, "stock").iter().all(|s| *s > 0.0));
    assert_eq!(codes(entry(&body, "in_stock")), ["constant"]);

    // Stock follows the id.
    let stock = entry(&body, "stock");
    assert_eq!(codes(stock), ["leaks_id"]);
    let rho = f64_of(&stock["stats"]["numeric"]["spearman_with_id"]);
    assert!(rho >= 0.99, "{rho}");
    assert!(
        stock["warnings"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("ρ = 0.99")
    );
    assert_eq!(flagged(&body, "leaks_id"), BTreeSet::from(["stock".into()]));
    // No other number does.
    for f in body["features"].as_array().unwrap() {
        if f["name"] != "stock" && f["name"] != "id" && f["type"] == "numeric" {
            let rho = &f["stats"]["numeric"]["spearman_with_id"];
            assert!(rho.is_null() || f64_of(rho).abs() < 0.5, "{}", f["name"]);
        }
    }

    // price_excl_tax is the price target itself.
    assert!(column(&rows, "price") == column(&rows, "price_excl_tax"));
    assert_eq!(codes(entry(&body, "price_excl_tax")), ["leaks_target"]);
    assert!(
        entry(&body, "price_excl_tax")["warnings"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("`price`")
    );
    // The identifier and the targets are not offered as inputs.
    let inputs: BTreeSet<String> = body["candidate_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    for excluded in [
        "id",
        "category",
        "price",
        "rating",
        "stock",
        "tax",
        "price_excl_tax",
        "in_stock",
    ] {
        assert!(!inputs.contains(excluded), "{excluded}");
    }
    for kept in ["title", "description", "title_words", "description_words"] {
        assert!(inputs.contains(kept), "{kept}");
    }
}

#[tokio::test]
async fn targets_report_the_model_card() {
    let app = TestApp::new();
    let body = app.api("/ml/features").await;
    let model = app.api("/ml/model").await;
    let card = &model["card"];
    assert_eq!(body["model"]["version"], model["version"]);
    assert_eq!(body["model"]["name"], model["name"]);

    let targets = body["targets"].as_array().expect("targets");
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["category", "price", "rating"]);

    let category = &targets[0];
    assert_eq!(category["served_by"], "POST /api/v1/ml/predictions");
    let finding = &category["finding"];
    let evaluation = &card["evaluation"];
    assert_eq!(finding["books"], evaluation["model"]["books"]);
    assert_eq!(finding["evaluated_on"], evaluation["set"]);
    for (metric, key) in [
        ("accuracy", "accuracy"),
        ("top3_accuracy", "top3_accuracy"),
        ("macro_f1", "macro_f1"),
    ] {
        let pair = finding["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == metric)
            .unwrap_or_else(|| panic!("no {metric}"));
        assert_eq!(pair["model"], evaluation["model"][key], "{metric}");
        assert_eq!(
            pair["baseline"], evaluation["majority_baseline"][key],
            "{metric}"
        );
    }
    assert!(finding["permutation_p_value"].is_null());

    for target in &targets[1..] {
        let name = target["name"].as_str().unwrap();
        assert!(target["served_by"].is_null(), "{name}");
        let found = card["other_targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"] == name)
            .unwrap_or_else(|| panic!("the card has no {name} finding"));
        let finding = &target["finding"];
        for key in [
            "model",
            "baseline",
            "metrics",
            "permutation_p_value",
            "permutations",
            "conclusion",
        ] {
            assert_eq!(finding[key], found[key], "{name} {key}");
        }
        assert_eq!(finding["books"], card["split"]["test_books"]);
    }

    // The split is the card's, over the same catalogue.
    for key in ["seed", "test_size", "rule", "train_books", "test_books"] {
        assert_eq!(body["split"][key], card["split"][key], "split {key}");
    }
    assert_eq!(card["data"]["content_hash"], body["data"]["content_hash"]);
}

#[tokio::test]
async fn conditional_requests_get_a_304() {
    let app = TestApp::new();
    let path = "/api/v1/ml/features";
    let first = app.get(path).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("cache-control"),
        Some(Route::MlFeatures.cache_policy().cache_control())
    );
    let etag = first.header("etag").expect("ETag").to_owned();
    let again = app
        .request(Method::GET, path, &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let model = app.get("/api/v1/ml/model").await;
    assert_ne!(model.header("etag"), Some(etag.as_str()));
}

/// The app of the features function, in process, over the committed
/// database, with no model.
async fn without_model(if_none_match: Option<&str>) -> (u16, Option<String>, Value) {
    let state = AppState::new(books::store::Store::open(&committed_db()));
    let app = books::http::app::api(&[Route::MlFeatures], state);
    let mut request = http::Request::get(Route::MlFeatures.path());
    if let Some(etag) = if_none_match {
        request = request.header("if-none-match", etag);
    }
    let response = app
        .oneshot(request.body(axum::body::Body::empty()).expect("request"))
        .await
        .expect("answer");
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (status, etag, body)
}

#[tokio::test]
async fn without_a_model_the_dictionary_still_answers() {
    let (status, etag, body) = without_model(None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["model"].is_null());
    assert_eq!(body["features"].as_array().unwrap().len(), FEATURES.len());
    assert_eq!(codes(entry(&body, "stock")), ["leaks_id"]);
    for target in body["targets"].as_array().unwrap() {
        assert!(target["finding"].is_null(), "{target}");
    }
    assert!(
        body["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("unavailable"))
    );
    // Its ETag is not the one with the model's findings.
    let etag = etag.expect("ETag");
    let with_model = TestApp::new().get("/api/v1/ml/features").await;
    assert_ne!(with_model.header("etag"), Some(etag.as_str()));
    let (status, _, _) = without_model(Some(&etag)).await;
    assert_eq!(status, 304);
}

/// The profiles kept with the committed database are the ones its books
/// give (what a database without them computes at the first request), and
/// their warnings read back feature by feature.
#[test]
fn the_kept_profiles_are_the_books_own() {
    use books::ml::profile::{WarningCode, profile_json, warning_codes};
    let store = books::store::Store::open(&committed_db()).expect("the committed database");
    let kept = store
        .feature_profiles()
        .expect("meta")
        .expect("feature_profiles in meta");
    assert_eq!(kept, profile_json(&store.all_books().expect("books")));
    let codes = warning_codes(&kept).expect("the profiles of today's features");
    let stock = codes
        .iter()
        .find(|(feature, _)| feature.name == "stock")
        .expect("stock");
    assert_eq!(stock.1, [WarningCode::LeaksId]);
    // Another feature table's profiles are not read as these.
    assert!(warning_codes(&kept.replacen("\"id\"", "\"book_id\"", 1)).is_none());
    assert!(warning_codes("[]").is_none());
}
