//! The category model in process: loading the committed model file (what a
//! predictions function does once per cold start), predicting 1 and 100
//! catalogue books directly, and the same batches as whole requests through
//! the app (JSON body in, JSON answer out).

use std::hint::black_box;
use std::path::Path;

use books::http::{Route, app};
use books::ml::ModelFile;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

fn data(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file)
}

fn bench(c: &mut Criterion) {
    let model_path = data("model.json");
    c.bench_function("model load", |b| {
        b.iter(|| ModelFile::load(black_box(&model_path)).expect("model"))
    });

    let model = ModelFile::load(&model_path).expect("model");
    let books = books::store::csv::read_csv(&data("books.csv")).expect("books");
    for n in [1usize, 100] {
        let batch = &books[..n];
        c.bench_function(&format!("predict {n} (model only)"), |b| {
            b.iter(|| {
                for book in batch {
                    black_box(model.predict(&book.title, &book.description, 3));
                }
            })
        });
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let state = books::adapters::load_state(&data("books.db"), &[Route::MlPredictions]);
    let service = app::api(&[Route::MlPredictions], state);
    for n in [1usize, 100] {
        let instances: Vec<serde_json::Value> = books[..n]
            .iter()
            .map(|b| serde_json::json!({"title": b.title, "description": b.description}))
            .collect();
        let body = serde_json::json!({ "instances": instances }).to_string();
        c.bench_function(&format!("predict {n} (request through the app)"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let request = http::Request::post("/api/v1/ml/predictions")
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(body.clone()))
                        .expect("request");
                    let response = service.clone().oneshot(request).await.expect("answer");
                    assert_eq!(response.status(), 200);
                    black_box(response.into_body().collect().await.expect("body"));
                })
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
