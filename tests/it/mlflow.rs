//! Phase 2 with the real thing: the pyfunc of `scripts/mlflow/` logged to a
//! real MLflow tracking store, scored through MLflow's loader against the
//! Rust model on every book, served by a real `mlflow models serve` that
//! `books serve` orchestrates; and the example notebook run by Jupyter
//! against `books serve`. They need the MLflow environment
//! (`scripts/mlflow/setup.sh`, into `.tools/mlflow`, or `BOOKS_MLFLOW_ENV`):
//! they are `#[ignore]`d, with that reason, so plain `cargo test` lists them
//! as ignored; `cargo test -- --include-ignored` (as `.ci/run` runs, after
//! the setup) runs them, and then a missing environment is a failure.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use books::ml::ModelFile;
use books::store::Store;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::committed_db;
use crate::served::Served;

const REGISTERED_NAME: &str = "book-category";
/// How close the two implementations' probabilities must be.
const TOLERANCE: f64 = 1e-9;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The MLflow environment; panics, saying how to make it, when it is absent
/// or incomplete (the test runs only when asked for: `--include-ignored`).
fn mlflow_env(test: &str) -> PathBuf {
    let dir = std::env::var_os("BOOKS_MLFLOW_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/mlflow"));
    let complete = ["python", "mlflow", "jupyter"]
        .iter()
        .all(|tool| dir.join("bin").join(tool).is_file());
    assert!(
        complete,
        "{test} needs the MLflow environment (bin/python, bin/mlflow, bin/jupyter) at {} \
         (scripts/mlflow/setup.sh makes it in .tools/mlflow; .ci/run runs it; \
         BOOKS_MLFLOW_ENV names another)",
        dir.display()
    );
    dir
}

/// The model logged and registered once per test binary, in its own tracking store.
struct Logged {
    dir: PathBuf,
    tracking_uri: String,
    model_uri: String,
    serve_uri: String,
}

fn logged(env: &Path) -> &'static Logged {
    static LOGGED: OnceLock<Logged> = OnceLock::new();
    LOGGED.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("mlflow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tracking_uri = format!("sqlite:///{}", dir.join("mlflow.db").display());
        let output = Command::new(env.join("bin/python"))
            .arg(repo().join("scripts/mlflow/log_model.py"))
            .arg("--model")
            .arg(repo().join("data/model.json"))
            .args(["--register", REGISTERED_NAME])
            .current_dir(&dir)
            .env("MLFLOW_TRACKING_URI", &tracking_uri)
            .output()
            .expect("log_model.py runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "log_model.py failed: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
            .unwrap_or_else(|e| panic!("log_model.py's last line is not JSON ({e}): {stdout}"));
        assert_eq!(answer["registered"]["name"], REGISTERED_NAME, "{answer}");
        Logged {
            dir,
            tracking_uri,
            model_uri: answer["model_uri"].as_str().unwrap().to_owned(),
            serve_uri: answer["serve_uri"].as_str().unwrap().to_owned(),
        }
    })
}

#[derive(Deserialize)]
struct PyfuncRecord {
    category: String,
    probability: f64,
    probabilities: BTreeMap<String, f64>,
    model_version: String,
}

#[test]
#[ignore = "needs MLflow and Jupyter: scripts/mlflow/setup.sh"]
fn the_pyfunc_predicts_every_book_exactly_as_the_rust_model() {
    let env = mlflow_env("the_pyfunc_predicts_every_book_exactly_as_the_rust_model");
    let logged = logged(&env);
    let books = Store::open(&committed_db()).unwrap().all_books().unwrap();
    let data: Vec<[&str; 2]> = books
        .iter()
        .map(|b| [b.title.as_str(), b.description.as_str()])
        .collect();
    let input = json!({ "columns": ["title", "description"], "data": data });
    let mut child = Command::new(env.join("bin/python"))
        .arg(repo().join("scripts/mlflow/score.py"))
        .arg(&logged.model_uri)
        .current_dir(&logged.dir)
        .env("MLFLOW_TRACKING_URI", &logged.tracking_uri)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("score.py runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "score.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records: Vec<PyfuncRecord> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(records.len(), 1000);

    let model = ModelFile::load(&repo().join("data/model.json")).unwrap();
    let classes = &model.classifier.classes;
    let mut largest = 0f64;
    for (book, record) in books.iter().zip(&records) {
        let rust = model.predict(&book.title, &book.description, classes.len());
        assert_eq!(record.category, rust.category, "book {}", book.id);
        assert_eq!(record.model_version, model.version);
        assert!((record.probability - rust.probability).abs() <= TOLERANCE);
        assert_eq!(
            record.probabilities.len(),
            classes.len(),
            "book {}",
            book.id
        );
        for class in &rust.top {
            let python = record.probabilities[&class.category];
            let difference = (python - class.probability).abs();
            assert!(
                difference <= TOLERANCE,
                "book {} {}: {python} against {}",
                book.id,
                class.category,
                class.probability
            );
            largest = largest.max(difference);
        }
    }
    eprintln!(
        "pyfunc and Rust agree on {} books x {} classes: same categories, largest |dp| = {largest:e}",
        records.len(),
        classes.len()
    );
}

/// `mlflow models serve` in its own process group (it starts uvicorn as a
/// child), stopped whole on drop.
struct ModelServer {
    child: Child,
    url: String,
    log: PathBuf,
}

impl ModelServer {
    fn start(env: &Path, logged: &Logged) -> (ModelServer, Duration) {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let log = logged.dir.join(format!("serve-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let path = format!(
            "{}:{}",
            env.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let started = Instant::now();
        let child = Command::new(env.join("bin/mlflow"))
            .args(["models", "serve", "-m", &logged.serve_uri])
            .args(["--env-manager", "local", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--workers", "1"])
            .current_dir(&logged.dir)
            .env("PATH", path)
            .env("MLFLOW_TRACKING_URI", &logged.tracking_uri)
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .process_group(0)
            .spawn()
            .expect("mlflow models serve starts");
        let mut server = ModelServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        loop {
            if answers_ping(port) {
                return (server, started.elapsed());
            }
            let exited = server.child.try_wait().unwrap();
            assert!(
                exited.is_none() && started.elapsed() < Duration::from_secs(120),
                "mlflow models serve did not answer /ping ({exited:?}): {}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Whether `GET /ping` on `port` answers 200.
fn answers_ping(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = [0u8; 12];
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .and_then(|()| stream.read_exact(&mut head))
        .is_ok_and(|()| head.ends_with(b" 200"))
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

async fn predictions(api: &Served, body: &Value) -> Value {
    let response = reqwest::Client::new()
        .post(api.url("/api/v1/ml/predictions?top=5"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// The two answers name the same books, categories and rankings, with
/// probabilities within the tolerance.
fn assert_same_predictions(file: &Value, served: &Value) {
    let (file, served) = (
        file["predictions"].as_array().unwrap(),
        served["predictions"].as_array().unwrap(),
    );
    assert_eq!(file.len(), served.len());
    for (a, b) in file.iter().zip(served) {
        assert_eq!(a["book_id"], b["book_id"]);
        assert_eq!(a["category"], b["category"], "{a} / {b}");
        let (ta, tb) = (a["top"].as_array().unwrap(), b["top"].as_array().unwrap());
        assert_eq!(ta.len(), tb.len());
        for (x, y) in ta.iter().zip(tb) {
            assert_eq!(x["category"], y["category"], "{a} / {b}");
            let d = (x["probability"].as_f64().unwrap() - y["probability"].as_f64().unwrap()).abs();
            assert!(d <= TOLERANCE, "{x} / {y}");
        }
    }
}

#[test]
#[ignore = "needs MLflow and Jupyter: scripts/mlflow/setup.sh"]
fn mlflow_serves_the_model_and_the_api_orchestrates_it() {
    let env = mlflow_env("mlflow_serves_the_model_and_the_api_orchestrates_it");
    let logged = logged(&env);
    let (model_server, start_time) = ModelServer::start(&env, logged);
    eprintln!("mlflow models serve answered /ping {start_time:?} after it started");

    let db = committed_db();
    let phase1 = Served::start(&db, &[], &[]);
    // No model file at all: predictions and the card must come from MLflow.
    let phase2 = Served::start(
        &db,
        &[],
        &[
            ("BOOKS_MODEL_SERVING_URL", &model_server.url),
            ("BOOKS_MODEL", "/nonexistent/model.json"),
        ],
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let test_split: Value = serde_json::from_str(
            &phase1
                .text("/api/v1/ml/training-data?split=test&columns=id")
                .await,
        )
        .unwrap();
        let ids: Vec<u64> = test_split["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["id"].as_u64().unwrap())
            .collect();
        assert!(ids.len() > 150, "{}", ids.len());
        for batch in ids.chunks(100) {
            let body = json!({ "book_ids": batch });
            let (file, served) = (
                predictions(&phase1, &body).await,
                predictions(&phase2, &body).await,
            );
            assert_eq!(file["model"]["served_by"], "model-file");
            assert_eq!(served["model"]["served_by"], "mlflow");
            assert_eq!(file["model"]["version"], served["model"]["version"]);
            assert_same_predictions(&file, &served);
        }
        let text = json!({"instances": [
            {"title": "The Haunting of Hill House", "description": "A ghost story."},
            {"title": "Résumé: 1984 — notes"},
        ]});
        assert_same_predictions(
            &predictions(&phase1, &text).await,
            &predictions(&phase2, &text).await,
        );

        let health: Value = serde_json::from_str(&phase2.text("/api/v1/health").await).unwrap();
        assert_eq!(health["model_endpoint"]["status"], "ok", "{health}");
        let file: Value = serde_json::from_str(&phase1.text("/api/v1/ml/model").await).unwrap();
        let served: Value = serde_json::from_str(&phase2.text("/api/v1/ml/model").await).unwrap();
        assert_eq!(served["card_source"], "served-model", "{served}");
        assert_eq!(served["served_by"], "mlflow");
        assert_eq!(served["version"], file["version"]);
        assert_eq!(served["classes"], file["classes"]);
        assert_eq!(served["card"], file["card"]);
    });
    eprintln!(
        "orchestrator mode matched phase 1 on the whole test split; the API log:\n{}",
        phase2
            .stop()
            .lines()
            .filter(|l| l.contains("model_serving"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(model_server);
}

#[test]
#[ignore = "needs MLflow and Jupyter: scripts/mlflow/setup.sh"]
fn the_example_notebook_runs_against_books_serve() {
    let env = mlflow_env("the_example_notebook_runs_against_books_serve");
    let api = Served::start(&committed_db(), &[], &[]);
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env.join("bin/jupyter"))
        .args(["nbconvert", "--to", "notebook", "--execute"])
        .arg(repo().join("examples/notebook.ipynb"))
        .arg("--output-dir")
        .arg(out.path())
        .args(["--output", "executed.ipynb"])
        .arg("--ExecutePreprocessor.timeout=300")
        .env("BOOKS_API_URL", format!("http://{}", api.addr))
        .env(
            "PATH",
            format!(
                "{}:{}",
                env.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .expect("jupyter nbconvert runs");
    assert!(
        output.status.success(),
        "the notebook failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let executed: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("executed.ipynb")).unwrap()).unwrap();
    let code: Vec<&Value> = executed["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .collect();
    let mut printed = String::new();
    let mut figures = 0;
    for cell in &code {
        assert!(
            cell["execution_count"].is_u64(),
            "a cell did not run: {cell}"
        );
        for output in cell["outputs"].as_array().unwrap() {
            assert_ne!(output["output_type"], "error", "{output}");
            if let Some(lines) = output["text"].as_array() {
                printed.extend(lines.iter().filter_map(Value::as_str));
            }
            figures += usize::from(output["data"]["image/png"].is_string());
        }
    }
    assert_eq!(figures, 1, "the exploration draws one figure");
    let accuracy = |label: &str| -> f64 {
        let line = printed
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} in:\n{printed}"));
        line[label.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (sklearn, served) = (
        accuracy("scikit-learn accuracy: "),
        accuracy("served model accuracy: "),
    );
    assert!((0.0..=1.0).contains(&sklearn) && sklearn > 0.2, "{printed}");
    assert_eq!(served, 0.472, "the card's figure, to 3 places: {printed}");
    eprintln!("the notebook printed:\n{printed}");
}
