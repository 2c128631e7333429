//! In-process latency of API requests on a given database: the whole app
//! (routing, parameters, handlers, store, JSON), called through its tower
//! service with no socket, one request at a time, response cache off so
//! every request reaches SQLite. `scripts/bench-scale.sh` runs it.
//!
//! Usage: `scale_latency DB PATH...` (each PATH like `/api/v1/books/42`).
//! Prints `path,requests,p50_us,p99_us` for each PATH, after a warm-up.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::body::Body;
use books::http::AppState;
use books::store::Store;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// Each path runs until it has this many samples or [`BUDGET`] has passed.
const SAMPLES: usize = 2_000;
const BUDGET: Duration = Duration::from_secs(3);
/// At least this many samples, whatever the budget, so p99 means something.
const MIN_SAMPLES: usize = 100;
const WARM_UP: usize = 20;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(db), paths) = (args.next().map(PathBuf::from), args.collect::<Vec<_>>()) else {
        eprintln!("usage: scale_latency DB PATH...");
        return ExitCode::FAILURE;
    };
    let store = match Store::open(&db) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("error: cannot open {}: {err}", db.display());
            return ExitCode::FAILURE;
        }
    };
    let app = books::adapters::server::app(AppState::new(Ok(store)).with_response_cache(0));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("path,requests,p50_us,p99_us");
    for path in &paths {
        let call = || async {
            let request = http::Request::get(path.as_str())
                .body(Body::empty())
                .map_err(|e| e.to_string())?;
            let Ok(response) = app.clone().oneshot(request).await;
            let status = response.status();
            // The body is part of the work: handlers may stream it.
            response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?;
            if status == http::StatusCode::OK {
                Ok(())
            } else {
                Err(format!("{path} answered {status}"))
            }
        };
        let measured = runtime.block_on(async {
            for _ in 0..WARM_UP {
                call().await?;
            }
            let mut samples = Vec::with_capacity(SAMPLES);
            let started = Instant::now();
            while samples.len() < SAMPLES
                && (samples.len() < MIN_SAMPLES || started.elapsed() < BUDGET)
            {
                let t = Instant::now();
                call().await?;
                samples.push(t.elapsed());
            }
            Ok::<_, String>(samples)
        });
        let mut samples = match measured {
            Ok(samples) => samples,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        samples.sort_unstable();
        let at = |q: f64| {
            let index = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[index].as_secs_f64() * 1e6
        };
        println!("{path},{},{:.1},{:.1}", samples.len(), at(0.50), at(0.99));
    }
    ExitCode::SUCCESS
}
