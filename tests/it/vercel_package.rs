//! The packaging check fails when it should: `scripts/verify-vercel-output.sh`
//! run on small fake Vercel output trees (no `vercel build` needed), one good
//! and several broken ones.
//!
//! The fake functions' executables are tiny Python HTTP servers that answer
//! with a fixed body, so the run phase (each executable started from inside
//! its `.func` folder on `VERCEL_DEV_PORT`, answering with the repository's
//! data) is exercised too. Needs `bash` and `python3`, as the script does.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DB: &[u8] = b"SQLite format 3\0 a fake database for the packaging tests";

const CSV: &str = "id,upc,title,category,price,price_excl_tax,tax,rating,availability,stock,review_count,product_type,description,image_url,product_url
1,a897fe39b1053632,A Light in the Attic,Poetry,51.77,51.77,0.00,3,In stock,22,0,Books,It's hard.,https://books.toscrape.com/media/a.jpg,https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html
2,90fa61229261140a,Tipping the Velvet,Historical Fiction,53.74,53.74,0.00,1,In stock,20,0,Books,\"Erotic, \"\"tender\"\"\",https://books.toscrape.com/media/b.jpg,https://books.toscrape.com/catalogue/tipping-the-velvet_999/index.html
";

/// A fake function: serves `body.json` from its working directory (so it
/// only works when started from inside its `.func` folder), refuses to run
/// with `VERCEL_IPC_PATH` set, and writes its pid to `pid` so a test can see
/// that it was stopped. Like the real `[id]` and `[id]/similar` functions,
/// it refuses an `id` query that disagrees with the path's numeric segment.
const FAKE_EXECUTABLE: &str = r#"#!/usr/bin/env python3
import http.server, os, sys, urllib.parse
if os.environ.get("VERCEL_IPC_PATH"):
    sys.exit("VERCEL_IPC_PATH must not be set")
ok = open("body.json", "rb").read()
refused = b'{"type":"about:blank","title":"Bad Request","status":400,"detail":"ids differ","parameter":"id"}'
open("pid", "w").write(str(os.getpid()))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        ids = urllib.parse.parse_qs(url.query).get("id", [])
        segment = next((s for s in reversed(url.path.split("/")) if s.isdigit()), None)
        agrees = all(i == segment for i in ids)
        body = ok if agrees else refused
        self.send_response(200 if agrees else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["VERCEL_DEV_PORT"])), Handler).serve_forever()
"#;

const HEALTH: &str = r#"{"status":"ok","database":"ok","books":2}"#;
const BOOK: &str = r#"{"id":1,"title":"A Light in the Attic"}"#;
const SIMILAR: &str = r#"{"book_id":1,"limit":5,"items":[{"score":0.25,"book":{"id":2,"title":"Tipping the Velvet"}}]}"#;

const VC_CONFIG: &str = r#"{
  "handler": "executable",
  "runtime": "executable",
  "runtimeLanguage": "rust",
  "architecture": "x86_64"
}"#;

const CONFIG: &str = r#"{
  "version": 3,
  "routes": [
    { "handle": "filesystem" },
    { "src": "^/api/v1/books/([^/]+)/similar$", "dest": "/api/v1/books/[id]/similar?id=$1", "check": true },
    { "src": "^/api/v1/books/([^/]+)$", "dest": "/api/v1/books/[id]?id=$1", "check": true }
  ]
}"#;

struct Fixture {
    _tmp: tempfile::TempDir,
    repo: PathBuf,
    out: PathBuf,
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// A repository with three functions (two of them dynamic) and the output
/// tree a good build of it would give.
fn good() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let out = tmp.path().join("output");
    write(&repo.join("api/v1/health.rs"), "fn main() {}\n");
    write(&repo.join("api/v1/books/[id].rs"), "fn main() {}\n");
    write(&repo.join("api/v1/books/[id]/similar.rs"), "fn main() {}\n");
    write(&repo.join("src/main.rs"), "fn main() {}\n");
    write(&repo.join("Cargo.toml"), "[package]\n");
    write(&repo.join("data/books.db"), DB);
    write(&repo.join("data/books.csv"), CSV);
    write(&repo.join("public/index.html"), "<h1>books</h1>\n");
    for (func, body) in [
        ("health", HEALTH),
        ("books/[id]", BOOK),
        ("books/[id]/similar", SIMILAR),
    ] {
        let dir = out.join(format!("functions/api/v1/{func}.func"));
        let exe = dir.join("executable");
        write(&exe, FAKE_EXECUTABLE);
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        write(&dir.join(".vc-config.json"), VC_CONFIG);
        write(&dir.join("data/books.db"), DB);
        write(&dir.join("body.json"), body);
    }
    write(&out.join("config.json"), CONFIG);
    write(&out.join("static/index.html"), "<h1>books</h1>\n");
    Fixture {
        _tmp: tmp,
        repo,
        out,
    }
}

impl Fixture {
    fn func(&self, name: &str) -> PathBuf {
        self.out.join(format!("functions/api/v1/{name}.func"))
    }

    fn verify(&self, static_only: bool) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/verify-vercel-output.sh");
        let mut command = Command::new("bash");
        command.arg(script);
        if static_only {
            command.arg("--static-only");
        }
        // The script must drop these for the functions it starts.
        command.env("VERCEL_IPC_PATH", "/nonexistent/ipc.sock");
        command.env("BOOKS_DB", "/nonexistent/books.db");
        command.arg(&self.out).arg(&self.repo).output().unwrap()
    }
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn assert_fails_with(fixture: &Fixture, static_only: bool, expected: &[&str]) {
    let output = fixture.verify(static_only);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in expected {
        assert!(stderr.contains(needle), "missing {needle:?} in\n{all}");
    }
}

/// True while a process with this pid exists and is not a zombie.
fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn a_good_tree_passes_and_every_started_function_is_stopped() {
    let fixture = good();
    let output = fixture.verify(false);
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ok   api/v1/health.rs: GET http://127.0.0.1:"),
        "{all}"
    );
    assert!(stdout.contains("/api/v1/books/1?id=1 -> 200"), "{all}");
    assert!(
        stdout.contains("/api/v1/books/1/similar?id=1 -> 200"),
        "{all}"
    );
    assert!(
        stdout.contains(
            "config.json routes /api/v1/books/5/similar -> /api/v1/books/[id]/similar?id=$1"
        ),
        "{all}"
    );
    assert!(
        stdout.contains("config.json routes /api/v1/books/5 -> /api/v1/books/[id]?id=$1"),
        "{all}"
    );
    assert!(
        stdout.contains("all 3 functions packaged and checked"),
        "{all}"
    );
    for func in ["health", "books/[id]", "books/[id]/similar"] {
        let pid: u32 = fs::read_to_string(fixture.func(func).join("pid"))
            .expect("the function was started from inside its .func folder")
            .parse()
            .unwrap();
        assert!(!alive(pid), "{func} (pid {pid}) is still running");
    }
}

#[test]
fn a_function_without_the_database_fails() {
    let fixture = good();
    fs::remove_file(fixture.func("health").join("data/books.db")).unwrap();
    assert_fails_with(
        &fixture,
        false,
        &["api/v1/health.rs: data/books.db missing from functions/api/v1/health.func"],
    );
    // Its sibling is still checked, and passes.
    let output = fixture.verify(false);
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok   api/v1/books/[id].rs"));
}

#[test]
fn a_different_database_fails() {
    let fixture = good();
    write(&fixture.func("books/[id]").join("data/books.db"), b"stale");
    assert_fails_with(
        &fixture,
        true,
        &["api/v1/books/[id].rs: data/books.db in functions/api/v1/books/[id].func differs"],
    );
}

#[test]
fn publishing_the_repository_as_static_files_fails() {
    let fixture = good();
    write(&fixture.out.join("static/src/main.rs"), "fn main() {}\n");
    write(&fixture.out.join("static/Cargo.toml"), "[package]\n");
    write(&fixture.out.join("static/data/books.db"), DB);
    assert_fails_with(
        &fixture,
        true,
        &[
            "static files publish repository files",
            "./Cargo.toml",
            "./data/books.db",
            "./src",
        ],
    );
}

#[test]
fn a_missing_function_or_executable_fails() {
    let fixture = good();
    fs::remove_dir_all(fixture.func("health")).unwrap();
    fs::remove_file(fixture.func("books/[id]").join("executable")).unwrap();
    assert_fails_with(
        &fixture,
        true,
        &[
            "api/v1/health.rs: no function folder functions/api/v1/health.func",
            "api/v1/books/[id].rs: no executable file",
        ],
    );
}

#[test]
fn a_function_of_another_runtime_fails() {
    let fixture = good();
    write(
        &fixture.func("health").join(".vc-config.json"),
        r#"{"handler":"index.js","runtime":"nodejs20.x"}"#,
    );
    assert_fails_with(
        &fixture,
        true,
        &["api/v1/health.rs: .vc-config.json does not name the Rust runtime"],
    );
}

#[test]
fn a_missing_dynamic_route_fails() {
    let fixture = good();
    write(
        &fixture.out.join("config.json"),
        r#"{"version":3,"routes":[{"handle":"filesystem"}]}"#,
    );
    assert_fails_with(
        &fixture,
        true,
        &[
            "no route in config.json sends /api/v1/books/5 to /api/v1/books/[id]",
            "no route in config.json sends /api/v1/books/5/similar to /api/v1/books/[id]/similar",
        ],
    );
    // A route that shadows the static siblings fails too.
    write(
        &fixture.out.join("config.json"),
        r#"{"routes":[{"src":"^/api/v1/books/([^/]+)$","dest":"/api/v1/books/[id]?id=$1"},{"handle":"filesystem"}]}"#,
    );
    assert_fails_with(&fixture, true, &["comes before the filesystem phase"]);
}

#[test]
fn a_route_swallowing_another_functions_paths_fails() {
    let fixture = good();
    // [id]'s route first, matching more than one segment: /5/similar would
    // reach [id].
    write(
        &fixture.out.join("config.json"),
        r#"{"routes":[{"handle":"filesystem"},
            {"src":"^/api/v1/books/(.+)$","dest":"/api/v1/books/[id]?id=$1","check":true},
            {"src":"^/api/v1/books/([^/]+)/similar$","dest":"/api/v1/books/[id]/similar?id=$1","check":true}]}"#,
    );
    assert_fails_with(
        &fixture,
        true,
        &[
            "no route in config.json sends /api/v1/books/5/similar to /api/v1/books/[id]/similar \
             (its first route, {'src': '^/api/v1/books/(.+)$', 'dest': '/api/v1/books/[id]?id=$1'",
        ],
    );
    let output = fixture.verify(true);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("ok   api/v1/books/[id].rs: config.json"),
        "{}",
        text(&output)
    );
    // A route that only sets headers and continues decides nothing.
    write(
        &fixture.out.join("config.json"),
        r#"{"routes":[{"src":"^/api/(.*)$","headers":{"x-a":"1"},"continue":true},
            {"handle":"filesystem"},
            {"src":"^/api/v1/books/(?<id>[^/]+)/similar$","dest":"/api/v1/books/[id]/similar?id=$id","check":true},
            {"src":"^/api/v1/books/(?<id>[^/]+)$","dest":"/api/v1/books/[id]?id=$id","check":true}]}"#,
    );
    let output = fixture.verify(true);
    assert!(output.status.success(), "{}", text(&output));
}

#[test]
fn a_function_answering_with_other_data_fails() {
    let fixture = good();
    write(
        &fixture.func("health").join("body.json"),
        r#"{"status":"ok","database":"ok","books":999}"#,
    );
    assert_fails_with(&fixture, false, &["books is 999, not 2"]);
}

#[test]
fn a_function_that_does_not_start_fails_quickly() {
    let fixture = good();
    write(
        &fixture.func("health").join("executable"),
        "#!/bin/sh\necho 'cannot open data/books.db' >&2\nexit 1\n",
    );
    let started = std::time::Instant::now();
    assert_fails_with(
        &fixture,
        false,
        &[
            "api/v1/health.rs: the packaged executable did not answer",
            "cannot open data/books.db",
        ],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "waited for a dead process"
    );
}
