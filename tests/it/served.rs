//! The real `books serve` binary as a child process on a loopback port, with
//! the environment and flags a test gives it, its stdout and stderr (the
//! JSON log lines) captured to a file the test can read. Killed on drop.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variables `books serve` reads that a test must not inherit.
const BOOKS_ENV: &[&str] = &[
    "BOOKS_DB",
    "BOOKS_MODEL",
    "BOOKS_JWT_SECRET",
    "BOOKS_USERS",
    "BOOKS_JWT_ACCESS_TTL",
    "BOOKS_JWT_REFRESH_TTL",
    "BOOKS_GITHUB_REPO",
    "BOOKS_GITHUB_TOKEN",
    "BOOKS_GITHUB_API_URL",
    "BOOKS_GITHUB_REF",
    "BOOKS_METRICS_TOKEN",
    "BOOKS_MODEL_SERVING_URL",
    "BOOKS_MODEL_SERVING_CONNECT_TIMEOUT_MS",
    "BOOKS_MODEL_SERVING_TIMEOUT_MS",
    "BOOKS_MODEL_SERVING_MAX_CONNECTIONS",
];

pub struct Served {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    /// `books serve --db <db> <args>` with `env`, listening within 10 s.
    pub fn start(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("serve.log");
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_books"));
        command
            .args(["serve", "--addr", &addr.to_string()])
            .arg("--db")
            .arg(db)
            .args(args);
        for name in BOOKS_ENV {
            command.env_remove(name);
        }
        let child = command
            .envs(env.iter().copied())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("books serve starts");
        let served = Served {
            child,
            addr,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "books serve did not listen: {}",
                served.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        served
    }

    /// The absolute URL of `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// The body of `GET path_and_query`.
    pub async fn text(&self, path_and_query: &str) -> String {
        reqwest::get(self.url(path_and_query))
            .await
            .and_then(|response| response.error_for_status())
            .expect("GET answered")
            .text()
            .await
            .expect("body read")
    }

    /// Everything the process logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process and returns everything it logged.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.logs()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
