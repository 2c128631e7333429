//! The ML routes over HTTP: the training dataset and its split, the model
//! card's figures recomputed through the public API, the predictions body
//! rules, and deterministic training.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::app::{TestApp, committed_db};
use books::domain::{Book, BookId, Price, Rating};
use books::http::{AppState, Route};
use books::ml::card::DataIdentity;
use books::ml::split::{DEFAULT_SEED, DEFAULT_TEST_SIZE};
use books::ml::train::{PSEUDO_CATEGORIES, TrainOptions, train};

fn ids(body: &Value) -> BTreeSet<u64> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|row| row["id"].as_u64().expect("id"))
        .collect()
}

#[tokio::test]
async fn the_split_partitions_the_catalogue_reproducibly() {
    let app = TestApp::new();
    let all = app.api("/ml/training-data?columns=id,split").await;
    assert_eq!(all["count"], 1000);
    assert_eq!(all["split"], "all");
    assert_eq!(all["seed"], DEFAULT_SEED);
    assert_eq!(all["test_size"], DEFAULT_TEST_SIZE);
    let train = app.api("/ml/training-data?split=train&columns=id").await;
    let test = app.api("/ml/training-data?split=test&columns=id").await;
    let (train, test) = (ids(&train), ids(&test));
    assert!(train.is_disjoint(&test));
    assert_eq!(
        train.union(&test).copied().collect::<BTreeSet<_>>(),
        ids(&all)
    );
    // The split column agrees with the split's membership.
    for row in all["items"].as_array().unwrap() {
        let id = row["id"].as_u64().unwrap();
        let side = if test.contains(&id) { "test" } else { "train" };
        assert_eq!(row["split"], side, "book {id}");
    }
    // The test share is near test_size, for the default and another.
    for (test_size, expected) in [("", DEFAULT_TEST_SIZE), ("&test_size=0.35", 0.35)] {
        let body = app
            .api(&format!(
                "/ml/training-data?split=test&columns=id{test_size}"
            ))
            .await;
        let share = body["count"].as_f64().unwrap() / 1000.0;
        println!("test share {share} for test_size {expected}");
        assert!((share - expected).abs() <= 0.03, "{share} vs {expected}");
    }
    // Same seed, same split; another seed, another split.
    let again = ids(&app
        .api("/ml/training-data?split=test&columns=id&seed=42")
        .await);
    assert_eq!(again, test);
    let other = ids(&app
        .api("/ml/training-data?split=test&columns=id&seed=7")
        .await);
    assert_ne!(other, test);
    assert!((other.len() as f64 / 1000.0 - DEFAULT_TEST_SIZE).abs() <= 0.03);
}

/// Serves `books` from a database built in a temporary directory, in process.
async fn split_of(books: &[Book], dir: &std::path::Path) -> BTreeSet<u64> {
    std::fs::create_dir_all(dir).unwrap();
    let db = dir.join("books.db");
    let meta = books::store::ScrapeMeta {
        scraped_at: "2026-12-01T00:00:00Z".into(),
        source: "test".into(),
        reported_total: None,
    };
    books::store::build::build_db(books, &meta, &db).expect("build");
    let state = AppState::new(books::store::Store::open(&db));
    let app = books::http::app::api(&[Route::MlTrainingData], state);
    let request = http::Request::get("/api/v1/ml/training-data?split=test&columns=id")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    ids(&serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn removing_a_book_moves_no_other_book_between_splits() {
    let books = books::store::csv::read_csv(&committed_db().with_file_name("books.csv"))
        .expect("committed CSV");
    let dir = tempfile::tempdir().unwrap();
    let full = split_of(&books, &dir.path().join("full")).await;
    // Remove one test book and one train book.
    let removed = [
        *full.iter().next().unwrap(),
        1 + (1..1000).find(|i| !full.contains(&(i + 1))).unwrap(),
    ];
    let fewer: Vec<Book> = books
        .into_iter()
        .filter(|b| !removed.contains(&u64::from(b.id.get())))
        .collect();
    assert_eq!(fewer.len(), 998);
    let after = split_of(&fewer, &dir.path().join("fewer")).await;
    let expected: BTreeSet<u64> = full
        .into_iter()
        .filter(|id| !removed.contains(id))
        .collect();
    assert_eq!(after, expected);
}

#[tokio::test]
async fn csv_and_json_hold_the_same_values() {
    let app = TestApp::new();
    for split in ["train", "test"] {
        let json = app.api(&format!("/ml/training-data?split={split}")).await;
        let reply = app
            .get(&format!(
                "/api/v1/ml/training-data?split={split}&format=csv"
            ))
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("content-type"),
            Some("text/csv; charset=utf-8; header=present")
        );
        let disposition = reply.header("content-disposition").expect("a download");
        assert!(
            disposition.starts_with("attachment; filename=\"books-")
                && disposition.ends_with(".csv\""),
            "{disposition}"
        );
        assert!(reply.text.contains("\r\n"), "RFC 4180 line ends");
        let mut reader = csv::Reader::from_reader(reply.text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(json["columns"], json!(header));
        let items = json["items"].as_array().unwrap();
        let mut rows = 0;
        for (record, item) in reader.records().zip(items) {
            let record = record.expect("a well-formed CSV record");
            for (name, text) in header.iter().zip(record.iter()) {
                let value = &item[name.as_str()];
                let same = match value {
                    Value::String(s) => s == text,
                    Value::Bool(b) => text == b.to_string(),
                    Value::Number(n) => text.parse::<f64>().ok() == n.as_f64(),
                    other => panic!("{name}: unexpected {other}"),
                };
                assert!(same, "{split} {name}: CSV {text:?} vs JSON {value}");
            }
            rows += 1;
        }
        assert_eq!(rows, items.len());
    }
    // Accept chooses CSV when no format is given; the answer varies by it.
    let reply = app
        .request(
            Method::GET,
            "/api/v1/ml/training-data?columns=id",
            &[("accept", "text/csv")],
        )
        .await;
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(reply.header("vary"), Some("accept"));
    assert!(reply.text.starts_with("id\r\n1\r\n"));
    let json_reply = app.get("/api/v1/ml/training-data?columns=id").await;
    assert_eq!(json_reply.header("content-type"), Some("application/json"));
    assert_ne!(reply.header("etag"), json_reply.header("etag"));
    let etag = reply.header("etag").unwrap().to_owned();
    let again = app
        .request(
            Method::GET,
            "/api/v1/ml/training-data?columns=id",
            &[("accept", "text/csv"), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn the_cards_figures_are_reproduced_through_the_public_api() {
    let app = TestApp::new();
    let model = app.api("/ml/model").await;
    let card = &model["card"];
    // The defaults of /ml/training-data are the card's split.
    assert_eq!(card["split"]["seed"], DEFAULT_SEED);
    assert_eq!(card["split"]["test_size"], DEFAULT_TEST_SIZE);
    // The model was trained on the data being served.
    let served = books::store::Store::open(&committed_db()).expect("committed db");
    assert_eq!(card["data"]["content_hash"], served.content_hash());

    let test = app
        .api("/ml/training-data?split=test&columns=id,category")
        .await;
    let evaluated: Vec<(u64, String)> = test["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_u64().unwrap(),
                r["category"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(_, c)| !PSEUDO_CATEGORIES.contains(&c.as_str()))
        .collect();
    let (mut correct, mut top3) = (0u64, 0u64);
    for batch in evaluated.chunks(100) {
        let body = json!({"book_ids": batch.iter().map(|(id, _)| id).collect::<Vec<_>>()});
        let reply = app.post_json("/api/v1/ml/predictions?top=3", &body).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let answer = reply.json();
        assert_eq!(answer["model"]["version"], model["version"]);
        for ((id, category), prediction) in
            batch.iter().zip(answer["predictions"].as_array().unwrap())
        {
            assert_eq!(prediction["book_id"], *id);
            correct += u64::from(prediction["category"] == category.as_str());
            top3 += u64::from(
                prediction["top"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["category"] == category.as_str()),
            );
        }
    }
    let figures = &card["evaluation"]["model"];
    assert_eq!(figures["books"], evaluated.len());
    assert_eq!(figures["correct"], correct);
    assert_eq!(figures["top3_correct"], top3);
    let accuracy = correct as f64 / evaluated.len() as f64;
    assert_eq!(figures["accuracy"], accuracy);

    // It beats the majority baseline clearly, on both.
    let baseline = &card["evaluation"]["majority_baseline"];
    let (b_acc, b_top3) = (
        baseline["accuracy"].as_f64().unwrap(),
        baseline["top3_accuracy"].as_f64().unwrap(),
    );
    let top3_accuracy = top3 as f64 / evaluated.len() as f64;
    println!(
        "held-out on {} books: accuracy {accuracy:.3} vs baseline {b_acc:.3}; top-3 {top3_accuracy:.3} vs {b_top3:.3}",
        evaluated.len()
    );
    assert!(accuracy >= b_acc + 0.10 && accuracy >= 2.0 * b_acc);
    assert!(top3_accuracy >= b_top3 + 0.10);
}

#[tokio::test]
async fn prediction_bodies_are_checked() {
    let app = TestApp::new();
    let long = "x".repeat(20_001);
    let many: Vec<Value> = (0..101).map(|_| json!({"title": "t"})).collect();
    // (content type, body, status, words the detail must hold)
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("application/json", "{\"instances\": [".into(), 400, ""),
        ("application/json", "[]".into(), 422, ""),
        (
            "text/plain",
            json!({"instances": [{"title": "t"}]}).to_string(),
            415,
            "JSON",
        ),
        ("application/json", "{}".into(), 422, "exactly one"),
        (
            "application/json",
            json!({"instances": [{"title": "t"}], "book_ids": [1]}).to_string(),
            422,
            "exactly one",
        ),
        (
            "application/json",
            json!({"instances": []}).to_string(),
            422,
            "between 1 and 100",
        ),
        (
            "application/json",
            json!({"instances": many}).to_string(),
            422,
            "got 101",
        ),
        (
            "application/json",
            json!({"instances": [{"title": "  "}]}).to_string(),
            422,
            "blank",
        ),
        (
            "application/json",
            json!({"instances": [{"description": "d"}]}).to_string(),
            422,
            "title",
        ),
        (
            "application/json",
            json!({"instances": [{"title": 5}]}).to_string(),
            422,
            "",
        ),
        (
            "application/json",
            json!({"instances": [{"title": "t", "author": "a"}]}).to_string(),
            422,
            "author",
        ),
        (
            "application/json",
            json!({"instances": [{"title": "t", "description": long}]}).to_string(),
            422,
            "longer",
        ),
        (
            "application/json",
            json!({"book_ids": [0]}).to_string(),
            422,
            "positive",
        ),
        (
            "application/json",
            json!({"book_ids": [-3]}).to_string(),
            422,
            "",
        ),
        (
            "application/json",
            json!({"book_ids": [1, 99999]}).to_string(),
            404,
            "99999",
        ),
    ];
    for (content_type, body, status, words) in cases {
        let reply = app
            .send(
                Method::POST,
                "/api/v1/ml/predictions",
                &[("content-type", content_type)],
                Some(body.clone()),
            )
            .await;
        let problem = reply.problem(status);
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(words), "{body:.80}: {detail}");
        // Never stored, refusals included.
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    // top: ranked, capped at the class count, probabilities descending.
    let body = json!({"instances": [{"title": "The Ghost of the Old Manor", "description": "A haunted house, a ghost and a murder."}]});
    let one = app
        .post_json("/api/v1/ml/predictions?top=1", &body)
        .await
        .json();
    assert_eq!(one["predictions"][0]["top"].as_array().unwrap().len(), 1);
    let reply = app.post_json("/api/v1/ml/predictions?top=50", &body).await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let all = reply.json();
    let classes = app.api("/ml/model").await["classes"]
        .as_array()
        .unwrap()
        .len();
    let top = all["predictions"][0]["top"].as_array().unwrap();
    assert_eq!(top.len(), classes);
    let probabilities: Vec<f64> = top
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .collect();
    assert!(probabilities.windows(2).all(|w| w[0] >= w[1]));
    assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(all["predictions"][0]["category"], top[0]["category"]);
    assert_eq!(all["predictions"][0]["probability"], top[0]["probability"]);
}

#[tokio::test]
async fn without_a_model_only_the_model_routes_are_unavailable() {
    // The local server's app over the committed database, with no model.
    let state = AppState::new(books::store::Store::open(&committed_db())).with_model(
        books::ml::ModelFile::load(std::path::Path::new("/nonexistent/model.json")),
    );
    let app = books::http::app::api(&Route::ALL, state);
    let call = |request: http::Request<axum::body::Body>| {
        let app = app.clone();
        async move { app.oneshot(request).await.unwrap().status().as_u16() }
    };
    let predict = http::Request::post("/api/v1/ml/predictions")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"book_ids":[1]}"#))
        .unwrap();
    assert_eq!(call(predict).await, 503);
    let model = http::Request::get("/api/v1/ml/model")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(call(model).await, 503);
    for path in [
        "/api/v1/books/1",
        "/api/v1/ml/training-data?columns=id",
        "/api/v1/health",
    ] {
        let request = http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(call(request).await, 200, "{path}");
    }
}

/// A small catalogue with three genres of distinct words, and placeholders.
fn synthetic_books() -> Vec<Book> {
    let genres = [
        ("Horror", "ghost haunted blood scream night crypt"),
        ("Romance", "love kiss heart wedding passion bride"),
        ("Science", "atom physics theory experiment quantum cell"),
        ("Default", "misc"),
    ];
    (1..=120u32)
        .map(|id| {
            let (category, words) = genres[(id % 4) as usize];
            let vocabulary: Vec<&str> = words.split(' ').collect();
            let description: Vec<&str> = (0..12)
                .map(|k| vocabulary[((id * 7 + k * 3) % vocabulary.len() as u32) as usize])
                .collect();
            Book {
                id: BookId::new(id).unwrap(),
                upc: format!("{id:016x}"),
                title: format!("Book {id} {}", vocabulary[id as usize % vocabulary.len()]),
                category: category.into(),
                price: Price::from_pence(1000 + u64::from(id * 37 % 5000)),
                price_excl_tax: Price::from_pence(1000 + u64::from(id * 37 % 5000)),
                tax: Price::from_pence(0),
                rating: Rating::new((id % 5 + 1) as u8).unwrap(),
                availability: "In stock".into(),
                stock: id % 20,
                review_count: 0,
                product_type: "Books".into(),
                description: description.join(" "),
                image_url: format!("https://books.toscrape.com/media/{id}.jpg"),
                product_url: format!("https://books.toscrape.com/catalogue/b_{id}/index.html"),
            }
        })
        .collect()
}

#[test]
fn training_is_deterministic_and_the_file_checks_itself() {
    let books = synthetic_books();
    let identity = DataIdentity {
        content_hash: books::store::csv::content_hash(&books),
        scraped_at: None,
        books: books.len(),
    };
    let options = TrainOptions {
        permutations: 9,
        ..TrainOptions::default()
    };
    let first = train(&books, identity.clone(), &options)
        .expect("trains")
        .to_bytes();
    let second = train(&books, identity, &options)
        .expect("trains")
        .to_bytes();
    assert_eq!(first, second, "two runs, one file");

    let model = books::ml::ModelFile::from_bytes(&first).expect("a sound file");
    assert_eq!(model.classifier.classes, ["Horror", "Romance", "Science"]);
    assert!(
        model.card.evaluation.model.accuracy > 0.9,
        "{:?}",
        model.card.evaluation.model
    );
    assert_eq!(
        model.card.selection.candidates.len(),
        options.candidates.len()
    );
    let prediction = model.predict("A haunted crypt", "ghost blood scream", 2);
    assert_eq!(prediction.category, "Horror");
    assert_eq!(prediction.top.len(), 2);

    // Any change to the file shows: the version is its content's hash.
    let text = String::from_utf8(first).unwrap();
    let tampered = text.replacen("\"Romance\"", "\"Romanse\"", 1);
    let error = books::ml::ModelFile::from_bytes(tampered.as_bytes()).unwrap_err();
    assert!(error.contains("does not match version"), "{error}");
    let wrong_format = text.replacen("books-text-classifier/1", "books-text-classifier/9", 1);
    assert!(books::ml::ModelFile::from_bytes(wrong_format.as_bytes()).is_err());
}

/// The committed `data/model.bin` is what `books train` writes beside the
/// committed `data/model.json`, and opening the model through it gives the
/// very model the JSON holds.
#[test]
fn the_committed_compact_twin_is_the_committed_model() {
    use books::ml::ModelFile;
    use books::ml::compact::{compact_path, to_compact_bytes};
    let json = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/model.json");
    let loaded = ModelFile::load(&json).expect("data/model.json");
    let twin = std::fs::read(compact_path(&json)).expect("data/model.bin");
    assert!(
        twin == to_compact_bytes(&loaded),
        "data/model.bin is not the twin of data/model.json: `books train` writes both"
    );
    assert_eq!(ModelFile::open(&json).expect("opened"), loaded);
    assert_eq!(
        books::ml::ModelSummary::open(&json).expect("summary"),
        loaded.summary(),
        "the twin's head summarises the very model the JSON holds"
    );
}

/// A twin made from another version of the model, or one that does not
/// decode, is passed over: the model comes from the JSON.
#[test]
fn a_stale_or_broken_compact_twin_is_passed_over_for_the_json() {
    use books::ml::compact::{compact_path, write_compact};
    use books::ml::{ModelFile, ModelSummary};
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("model.json");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/model.json"),
        &json,
    )
    .unwrap();
    let loaded = ModelFile::load(&json).unwrap();

    let mut other = loaded.clone();
    other.version = "0123456789abcdef".into();
    other.classifier.classes[0] = "Not A Category".into();
    write_compact(&other, &json).unwrap();
    assert_eq!(ModelFile::open(&json).unwrap(), loaded, "a stale twin");
    assert_eq!(ModelSummary::open(&json).unwrap(), loaded.summary());

    std::fs::write(compact_path(&json), b"not a model").unwrap();
    assert_eq!(ModelFile::open(&json).unwrap(), loaded, "a broken twin");
    assert_eq!(ModelSummary::open(&json).unwrap(), loaded.summary());

    // A twin cut after its head: the summary needs only the head, the model
    // falls back to the JSON.
    write_compact(&loaded, &json).unwrap();
    let whole = std::fs::read(compact_path(&json)).unwrap();
    std::fs::write(compact_path(&json), &whole[..whole.len() / 2]).unwrap();
    assert_eq!(ModelFile::open(&json).unwrap(), loaded, "a cut twin");
    assert_eq!(ModelSummary::open(&json).unwrap(), loaded.summary());

    // A JSON changed after its twin was made: both come from the JSON, which
    // then refuses to open.
    write_compact(&loaded, &json).unwrap();
    let text = std::fs::read_to_string(&json).unwrap();
    std::fs::write(
        &json,
        text.replacen("\"book-category\"", "\"book-categorx\"", 1),
    )
    .unwrap();
    assert!(ModelFile::open(&json).is_err(), "a changed JSON");
    assert!(ModelSummary::open(&json).is_err(), "a changed JSON");
    std::fs::write(&json, text).unwrap();

    write_compact(&loaded, &json).unwrap();
    assert_eq!(ModelFile::open(&json).unwrap(), loaded, "a current twin");
}
