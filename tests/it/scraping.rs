//! The scrape trigger without HTTP routes. GitHub Actions mode against a
//! loopback stand-in for the GitHub API (exact requests, refusal while a run
//! is active, error mapping that never echoes the token or GitHub's body);
//! in-process mode against the generated 45-book site (a run publishes and
//! hands the database over; a failing run leaves the data as it was).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use books::scraping::{
    ConfigError, GitHubActions, GitHubConfig, LocalScrapeConfig, LocalScraper, OnPublished,
    RunState, RunStatus, ScrapeTrigger, TriggerError, TriggerMode,
};
use hyper::{Method, Response, StatusCode};
use serde_json::{Value, json};
use url::Url;

use crate::common::{
    BOOKS, Body, Fault, Seen, Site, fast_client, product_path, respond, serve_requests,
};

const TOKEN: &str = "ghp_TESTTOKEN_never_echoed";
const MARKER: &str = "MARKER-gh-body-9c1e";
const RUNS_PATH: &str = "/repos/books-toscrape/books/actions/workflows/deploy.yml/runs";
const DISPATCH_PATH: &str = "/repos/books-toscrape/books/actions/workflows/deploy.yml/dispatches";

// ---------------------------------------------------------------------------
// GitHub Actions mode

/// What the stand-in answers.
#[derive(Clone)]
struct Script {
    runs_status: StatusCode,
    runs_body: String,
    dispatch_status: StatusCode,
    dispatch_body: String,
    stall: Option<Duration>,
}

impl Script {
    /// Runs all completed; dispatch answered 204.
    fn idle() -> Self {
        Script {
            runs_status: StatusCode::OK,
            runs_body: runs_json(&[
                ("completed", Some("success")),
                ("completed", Some("failure")),
            ]),
            dispatch_status: StatusCode::NO_CONTENT,
            dispatch_body: String::new(),
            stall: None,
        }
    }
}

/// A runs answer shaped like GitHub's, statuses newest first; it also holds
/// the marker, which no error may repeat.
fn runs_json(runs: &[(&str, Option<&str>)]) -> String {
    let runs: Vec<Value> = runs
        .iter()
        .enumerate()
        .map(|(i, (status, conclusion))| {
            json!({
                "id": 9000 + i,
                "name": "Deploy",
                "status": status,
                "conclusion": conclusion,
                "event": if i == 0 { "workflow_dispatch" } else { "schedule" },
                "display_title": format!("Deploy {i}"),
                "created_at": "2025-01-01T06:00:00Z",
                "updated_at": "2025-01-01T06:04:00Z",
                "html_url": format!("https://github.com/books-toscrape/books/actions/runs/{}", 9000 + i),
                "note": MARKER,
                "repository": { "full_name": "books-toscrape/books" },
            })
        })
        .collect();
    json!({ "total_count": runs.len(), "workflow_runs": runs }).to_string()
}

/// Serves `script`, recording every request.
async fn stand_in(script: Script) -> (Arc<Mutex<Vec<Seen>>>, String) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let addr = serve_requests(move |request: Seen| {
        let script = script.clone();
        let log = Arc::clone(&log);
        async move {
            let is_dispatch = request.method == Method::POST;
            log.lock().unwrap().push(request);
            if let Some(stall) = script.stall {
                tokio::time::sleep(stall).await;
            }
            let answer: Response<Body> = if is_dispatch {
                respond(script.dispatch_status, script.dispatch_body)
            } else {
                respond(script.runs_status, script.runs_body)
            };
            answer
        }
    })
    .await;
    (seen, format!("http://{addr}/"))
}

fn github(api_url: &str) -> GitHubActions {
    let config = GitHubConfig::new("books-toscrape/books", TOKEN)
        .unwrap()
        .with_api_url(api_url)
        .unwrap()
        .with_timeouts(Duration::from_millis(300), Duration::from_millis(300));
    GitHubActions::new(config)
}

fn assert_api_headers(request: &Seen) {
    assert_eq!(request.header("accept"), "application/vnd.github+json");
    assert_eq!(request.header("x-github-api-version"), "2022-11-28");
    assert_eq!(request.header("authorization"), format!("Bearer {TOKEN}"));
    let agent = request.header("user-agent");
    assert!(agent.starts_with("books/"), "{agent}");
    assert!(
        agent.ends_with("(+https://github.com/books-toscrape/books)"),
        "{agent}"
    );
}

/// The error, shown every way, holds neither the token nor GitHub's body.
fn assert_discreet(error: &TriggerError) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains(MARKER), "{shown}");
    assert!(!shown.contains("ghp_"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_dispatch_checks_the_runs_then_posts_exactly() {
    let (seen, api) = stand_in(Script::idle()).await;
    let dispatched = github(&api).dispatch("  nightly refresh \n").await.unwrap();
    assert_eq!(dispatched.status, 204);
    assert_eq!(dispatched.reason, "nightly refresh");
    assert_eq!(dispatched.git_ref, "main");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let (runs, post) = (&seen[0], &seen[1]);
    assert_eq!(runs.method, Method::GET);
    assert_eq!(runs.target, format!("{RUNS_PATH}?per_page=10"));
    assert_api_headers(runs);
    assert!(runs.body.is_empty());

    assert_eq!(post.method, Method::POST);
    assert_eq!(post.target, DISPATCH_PATH);
    assert_api_headers(post);
    assert_eq!(post.header("content-type"), "application/json");
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        json!({ "ref": "main", "inputs": { "reason": "nightly refresh" } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_dispatch_accepts_any_success_and_another_ref() {
    let (seen, api) = stand_in(Script {
        dispatch_status: StatusCode::OK,
        dispatch_body: r#"{"workflow_run_id": 1}"#.into(),
        ..Script::idle()
    })
    .await;
    let config = GitHubConfig::new("books-toscrape/books", TOKEN)
        .unwrap()
        .with_api_url(api.trim_end_matches('/'))
        .unwrap()
        .with_ref("release")
        .unwrap();
    let dispatched = GitHubActions::new(config).dispatch("").await.unwrap();
    assert_eq!(dispatched.status, 200);
    let seen = seen.lock().unwrap();
    let body: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        body,
        json!({ "ref": "release", "inputs": { "reason": "api" } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_active_run_refuses_without_dispatching() {
    for status in ["in_progress", "queued", "waiting", "requested", "pending"] {
        let (seen, api) = stand_in(Script {
            runs_body: runs_json(&[("completed", Some("success")), (status, None)]),
            ..Script::idle()
        })
        .await;
        let error = github(&api).dispatch("again").await.unwrap_err();
        assert_eq!(error, TriggerError::AlreadyRunning, "{status}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{status}: {seen:?}");
        assert_eq!(seen[0].method, Method::GET);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_failures_map_to_upstream_errors_without_secrets() {
    let body = format!("{{\"message\": \"{MARKER} {TOKEN}\"}}");
    let cases: Vec<(&str, Script, &str)> = vec![
        (
            "runs 500",
            Script {
                runs_status: StatusCode::INTERNAL_SERVER_ERROR,
                runs_body: body.clone(),
                ..Script::idle()
            },
            "GitHub answered 500 Internal Server Error",
        ),
        (
            "runs 401",
            Script {
                runs_status: StatusCode::UNAUTHORIZED,
                runs_body: body.clone(),
                ..Script::idle()
            },
            "GitHub answered 401 Unauthorized: the token (BOOKS_GITHUB_TOKEN) or the repository (BOOKS_GITHUB_REPO) setting is probably wrong",
        ),
        (
            "dispatch 404",
            Script {
                dispatch_status: StatusCode::NOT_FOUND,
                dispatch_body: body.clone(),
                ..Script::idle()
            },
            "GitHub answered 404 Not Found: the token (BOOKS_GITHUB_TOKEN) or the repository (BOOKS_GITHUB_REPO) setting is probably wrong",
        ),
        (
            "dispatch 502",
            Script {
                dispatch_status: StatusCode::BAD_GATEWAY,
                dispatch_body: body.clone(),
                ..Script::idle()
            },
            "GitHub answered 502 Bad Gateway",
        ),
        (
            "runs not JSON",
            Script {
                runs_body: format!("<html>{MARKER}</html>"),
                ..Script::idle()
            },
            "GitHub's answer was malformed",
        ),
        (
            "runs without workflow_runs",
            Script {
                runs_body: json!({ "message": MARKER }).to_string(),
                ..Script::idle()
            },
            "GitHub's answer was malformed",
        ),
    ];
    for (name, script, expected) in cases {
        let (_seen, api) = stand_in(script).await;
        let error = github(&api).dispatch("x").await.unwrap_err();
        assert_eq!(
            error,
            TriggerError::Upstream {
                detail: expected.into()
            },
            "{name}"
        );
        assert_discreet(&error);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_stall_times_out_and_refused_connection_is_upstream() {
    let (_seen, api) = stand_in(Script {
        stall: Some(Duration::from_secs(5)),
        ..Script::idle()
    })
    .await;
    let started = Instant::now();
    let error = github(&api).dispatch("x").await.unwrap_err();
    assert_eq!(error, TriggerError::UpstreamTimeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let error = github(&api).recent_runs(5).await.unwrap_err();
    assert_eq!(error, TriggerError::UpstreamTimeout);

    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = github(&format!("http://{addr}"))
        .dispatch("x")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        TriggerError::Upstream {
            detail: "GitHub could not be reached".into()
        }
    );
    assert_discreet(&error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_status_lists_the_latest_runs() {
    let (seen, api) = stand_in(Script {
        runs_body: runs_json(&[
            ("in_progress", None),
            ("completed", Some("success")),
            ("completed", Some("cancelled")),
        ]),
        ..Script::idle()
    })
    .await;
    let trigger = ScrapeTrigger::GitHub(github(&api));
    let status = trigger.status().await.unwrap();
    assert_eq!(status.mode, TriggerMode::GithubActions);
    assert!(status.run.is_none());
    assert_eq!(status.runs.len(), 3);
    let first = &status.runs[0];
    assert_eq!(first.id, 9000);
    assert_eq!(first.status, "in_progress");
    assert_eq!(first.conclusion, None);
    assert_eq!(first.event, "workflow_dispatch");
    assert_eq!(first.display_title.as_deref(), Some("Deploy 0"));
    assert!(first.is_active());
    assert_eq!(status.runs[2].conclusion.as_deref(), Some("cancelled"));
    assert_eq!(
        seen.lock().unwrap()[0].target,
        format!("{RUNS_PATH}?per_page=5")
    );

    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["mode"], "github-actions");
    assert_eq!(json["run"], Value::Null);
    assert_eq!(json["runs"][0]["conclusion"], Value::Null);
    assert_eq!(
        json["runs"][1]["html_url"],
        "https://github.com/books-toscrape/books/actions/runs/9001"
    );
    assert!(json["runs"][0].get("note").is_none());
    let mut keys: Vec<&str> = json["runs"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "conclusion",
            "created_at",
            "display_title",
            "event",
            "html_url",
            "id",
            "status",
            "updated_at"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_trigger_accepts_without_a_local_run() {
    let (seen, api) = stand_in(Script::idle()).await;
    let trigger = ScrapeTrigger::GitHub(github(&api));
    let accepted = trigger.trigger("  ".into()).await.unwrap();
    assert_eq!(accepted.mode, TriggerMode::GithubActions);
    assert_eq!(accepted.reason, "api");
    assert!(accepted.run.is_none());
    humantime::parse_rfc3339(&accepted.requested_at).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
}

/// A log sink for one thread's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread, so the thread's default subscriber sees every event.
#[tokio::test(flavor = "current_thread")]
async fn github_logs_name_the_status_but_never_the_token_or_body() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    // tracing caches each callsite's interest for the whole process. While one
    // dispatcher is registered, a sibling test thread without a subscriber that
    // reaches a GitHub callsite first caches it as "never", and this thread's
    // subscriber would then miss the event. A second, silent dispatcher makes
    // every registration ask all live dispatchers, and the rebuild corrects any
    // callsite cached before both were registered.
    let _silent = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let body = format!("{MARKER} {TOKEN}");
    let (_seen, api) = stand_in(Script {
        dispatch_status: StatusCode::INTERNAL_SERVER_ERROR,
        dispatch_body: body.clone(),
        ..Script::idle()
    })
    .await;
    let error = github(&api).dispatch("x").await.unwrap_err();
    assert_discreet(&error);
    let (_seen, api) = stand_in(Script {
        runs_status: StatusCode::FORBIDDEN,
        runs_body: body,
        ..Script::idle()
    })
    .await;
    let error = github(&api).recent_runs(5).await.unwrap_err();
    assert_discreet(&error);
    let (_seen, api) = stand_in(Script::idle()).await;
    github(&api).dispatch("fine").await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("github_dispatch_failed"), "{logs}");
    assert!(logs.contains("status=500"), "{logs}");
    assert!(logs.contains("github_runs_failed"), "{logs}");
    assert!(logs.contains("status=403"), "{logs}");
    assert!(logs.contains("github_dispatched"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
    assert!(!logs.contains(MARKER), "{logs}");
}

#[test]
fn github_config_from_lookup() {
    fn parse(vars: &[(&str, &str)]) -> Result<Option<GitHubConfig>, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        GitHubConfig::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }
    let repo = ("BOOKS_GITHUB_REPO", "books-toscrape/books");
    let token = ("BOOKS_GITHUB_TOKEN", TOKEN);

    assert!(parse(&[]).unwrap().is_none());
    assert!(
        parse(&[("BOOKS_GITHUB_REPO", ""), ("BOOKS_GITHUB_TOKEN", " ")])
            .unwrap()
            .is_none()
    );
    // Unrelated settings alone do not configure anything.
    assert!(parse(&[("BOOKS_GITHUB_REF", "x")]).unwrap().is_none());

    let config = parse(&[repo, token]).unwrap().unwrap();
    assert_eq!(config.repo(), "books-toscrape/books");
    assert_eq!(config.api_url(), "https://api.github.com");
    assert_eq!(config.git_ref(), "main");

    let config = parse(&[
        repo,
        token,
        ("BOOKS_GITHUB_API_URL", "https://ghe.example/api/v3/"),
        ("BOOKS_GITHUB_REF", "release"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(config.api_url(), "https://ghe.example/api/v3");
    assert_eq!(config.git_ref(), "release");

    let only_repo = parse(&[repo]).unwrap_err();
    assert_eq!(
        only_repo.to_string(),
        "BOOKS_GITHUB_REPO is set but BOOKS_GITHUB_TOKEN is not; set both or neither"
    );
    let only_token = parse(&[token]).unwrap_err();
    assert_eq!(
        only_token.to_string(),
        "BOOKS_GITHUB_TOKEN is set but BOOKS_GITHUB_REPO is not; set both or neither"
    );
    for bad in ["books", "/books", "o/", "o/n/x", "o n/x", "o/n;rm"] {
        let error = parse(&[("BOOKS_GITHUB_REPO", bad), token]).unwrap_err();
        assert!(matches!(error, ConfigError::Repo(_)), "{bad}: {error}");
        assert!(error.to_string().contains("owner/name"), "{error}");
    }
    for bad in ["ftp://x", "not a url", "https://x/?a=b"] {
        let error = parse(&[repo, token, ("BOOKS_GITHUB_API_URL", bad)]).unwrap_err();
        assert_eq!(error, ConfigError::ApiUrl, "{bad}");
    }
    let error = parse(&[repo, token, ("BOOKS_GITHUB_REF", "a b")]).unwrap_err();
    assert!(matches!(error, ConfigError::Ref(_)), "{error}");
    let error = parse(&[repo, ("BOOKS_GITHUB_TOKEN", "s3cr\u{7}et")]).unwrap_err();
    assert_eq!(error, ConfigError::Token);
    assert!(!format!("{error} {error:?}").contains("s3cr"), "{error}");

    let shown = format!("{:?}", parse(&[repo, token]).unwrap().unwrap());
    assert!(!shown.contains(TOKEN), "{shown}");
}

// ---------------------------------------------------------------------------
// In-process mode

/// An `on_published` that records its paths and opens the store, as the
/// server does; `fail` makes it refuse.
fn recorder(fail: Option<&'static str>) -> (OnPublished, Arc<Mutex<Vec<PathBuf>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&calls);
    let on_published: OnPublished = Arc::new(move |db: &Path| {
        log.lock().unwrap().push(db.to_owned());
        books::store::Store::open(db).map_err(|e| e.to_string())?;
        match fail {
            Some(why) => Err(why.to_owned()),
            None => Ok(()),
        }
    });
    (on_published, calls)
}

fn local(base: &Url, dir: &Path, on_published: OnPublished) -> LocalScraper {
    LocalScraper::new(
        LocalScrapeConfig {
            base_url: base.clone(),
            data_dir: dir.to_owned(),
            concurrency: 4,
            client: fast_client(),
        },
        on_published,
    )
}

/// Polls until the run has ended (at most 30 s).
async fn wait_ended(scraper: &LocalScraper) -> RunStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = scraper.status().expect("a run was started");
        if status.state != RunState::Running {
            return status;
        }
        assert!(Instant::now() < deadline, "still running: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_run_publishes_and_hands_the_database_over() {
    // The first listing page is slow, so the run is surely still going
    // when the second trigger comes.
    let (_site, base) = Site::generate()
        .script(
            "/catalogue/page-1.html",
            vec![Fault::Hang(Duration::from_millis(250))],
        )
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (on_published, calls) = recorder(None);
    let scraper = local(&base, &data, on_published);
    assert!(scraper.status().is_none());
    let trigger = ScrapeTrigger::Local(scraper.clone());

    let accepted = trigger.trigger(" first \n".into()).await.unwrap();
    assert_eq!(accepted.mode, TriggerMode::InProcess);
    assert_eq!(accepted.reason, "first");
    let run = accepted.run.clone().expect("a local run");
    assert_eq!((run.id, run.state), (1, RunState::Running));
    assert_eq!(run.reason, "first");
    humantime::parse_rfc3339(&run.started_at).unwrap();
    let json = serde_json::to_value(&accepted).unwrap();
    assert_eq!(json["mode"], "in-process");
    assert_eq!(json["run"]["state"], "running");
    assert_eq!(json["run"]["finished_at"], Value::Null);

    assert_eq!(
        trigger.trigger("second".into()).await.unwrap_err(),
        TriggerError::AlreadyRunning
    );
    assert_eq!(
        scraper.start("third".into()).unwrap_err(),
        TriggerError::AlreadyRunning
    );
    let status = trigger.status().await.unwrap();
    assert_eq!(status.mode, TriggerMode::InProcess);
    assert!(status.runs.is_empty());
    let live = status.run.unwrap();
    assert_eq!((live.id, live.state), (1, RunState::Running));
    assert_eq!(live.reason, "first");

    let done = wait_ended(&scraper).await;
    assert_eq!(done.state, RunState::Succeeded, "{done:?}");
    assert_eq!(done.error, None);
    assert_eq!(done.book_count, Some(BOOKS as usize));
    assert_eq!((done.pages, done.books, done.failures), (48, 45, 0));
    assert_eq!(done.retries, 0);
    assert!(done.elapsed_ms >= 250, "{done:?}");
    humantime::parse_rfc3339(done.finished_at.as_deref().unwrap()).unwrap();
    let hash = done.content_hash.clone().unwrap();
    assert_eq!(hash.len(), 64);
    assert!(data.join("books.csv").is_file());
    assert!(data.join("books.db").is_file());
    assert_eq!(*calls.lock().unwrap(), vec![data.join("books.db")]);
    let store = books::store::Store::open(&data.join("books.db")).unwrap();
    assert_eq!(store.content_hash(), hash);

    // The next run gets the next id; the same data, the same hash.
    let again = scraper.start(String::new()).unwrap();
    assert_eq!((again.id, again.reason.as_str()), (2, "api"));
    let done = wait_ended(&scraper).await;
    assert_eq!((done.id, done.state), (2, RunState::Succeeded), "{done:?}");
    assert_eq!(done.content_hash, Some(hash));
    assert_eq!(calls.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_failed_run_leaves_the_published_data_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // Published by a first, clean run.
    let (_clean, clean_base) = Site::generate().start().await;
    let (on_published, _) = recorder(None);
    let first = local(&clean_base, dir.path(), on_published);
    first.start("publish".into()).unwrap();
    assert_eq!(wait_ended(&first).await.state, RunState::Succeeded);
    let csv = std::fs::read(dir.path().join("books.csv")).unwrap();
    let db = std::fs::read(dir.path().join("books.db")).unwrap();

    let failing = product_path(17);
    let (site, base) = Site::generate()
        .always(&failing, Fault::Status(500))
        .start()
        .await;
    let (on_published, calls) = recorder(None);
    let scraper = local(&base, dir.path(), on_published);
    scraper.start("broken".into()).unwrap();
    let done = wait_ended(&scraper).await;
    assert_eq!(done.state, RunState::Failed, "{done:?}");
    assert_eq!(done.failures, 1);
    assert_eq!(done.books, u64::from(BOOKS) - 1);
    assert_eq!(done.retries, 3);
    assert_eq!(site.hits(&failing).len(), 4);
    let error = done.error.unwrap();
    assert!(
        error.starts_with("1 page(s) failed; nothing published: "),
        "{error}"
    );
    assert!(
        error.contains(&format!("{base}{}", &failing[1..])),
        "{error}"
    );
    assert!(error.contains("500"), "{error}");
    assert_eq!(done.content_hash, None);
    assert_eq!(done.book_count, None);

    assert!(calls.lock().unwrap().is_empty());
    assert_eq!(std::fs::read(dir.path().join("books.csv")).unwrap(), csv);
    assert_eq!(std::fs::read(dir.path().join("books.db")).unwrap(), db);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["books.csv", "books.db"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_run_fails_when_the_new_store_is_refused() {
    let (_site, base) = Site::generate().start().await;
    let dir = tempfile::tempdir().unwrap();
    let (on_published, calls) = recorder(Some("the new store would not open"));
    let scraper = local(&base, dir.path(), on_published);
    scraper.start("swap".into()).unwrap();
    let done = wait_ended(&scraper).await;
    assert_eq!(done.state, RunState::Failed, "{done:?}");
    assert_eq!(
        done.error.as_deref(),
        Some("published, but the new data could not be swapped in: the new store would not open")
    );
    // The files were published; the hash says which.
    assert_eq!(done.book_count, Some(BOOKS as usize));
    assert!(done.content_hash.is_some());
    assert_eq!(calls.lock().unwrap().len(), 1);
    // A failed run does not block the next one.
    assert_eq!(scraper.start("retry".into()).unwrap().id, 2);
    wait_ended(&scraper).await;
}
