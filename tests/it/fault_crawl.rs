//! The crawler under a realistic mix of faults, reproducible from a seed: a
//! raw TCP server over the generated site answers about one request in five
//! with a 500, a 503, a 429 with `Retry-After`, a connection reset, a stall
//! past the client's timeout, or a body cut short. The books must come out
//! byte for byte as from a clean run, with the retries counted. A page that
//! always fails makes `books scrape` fail and leaves the old data as it was.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use books::store::csv::canonical_csv;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::common::{BOOKS, Site, product_path};
use crate::crawl::{crawl_site, run_books_scrape};

/// What the server does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fault {
    Status500,
    Status503,
    TooManyRequests,
    Reset,
    Stall,
    Truncated,
}

/// Which requests fail, and how.
#[derive(Clone)]
enum Plan {
    /// Per mille of requests to fault, from this seed; a path's last allowed
    /// attempt is always served, so a run can succeed.
    Seeded { seed: u64, per_mille: u32 },
    /// Every request for this path resets its connection.
    Always(String),
}

/// The seed the test runs unless `BOOKS_FAULT_SEED` gives another: it draws
/// 18 faults of all six kinds over the site's 48 pages (seeds 1 to 12 all
/// passed; some draw fewer kinds).
const DEFAULT_SEED: u64 = 12;

/// The retries the crawler makes after a first attempt (`fast_client`).
const MAX_RETRIES: u32 = 3;

impl Plan {
    /// The fault for `path`'s `attempt`-th request (from 0), if any: a pure
    /// function of the seed, the path and the attempt, so the same seed
    /// gives the same faults whatever order the requests come in.
    fn fault(&self, path: &str, attempt: u32) -> Option<Fault> {
        match self {
            Plan::Always(failing) => (path == failing).then_some(Fault::Reset),
            Plan::Seeded { seed, per_mille } => {
                if attempt >= MAX_RETRIES {
                    return None;
                }
                let mut key = *seed;
                for byte in path.bytes().chain(attempt.to_le_bytes()) {
                    key = (key ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
                }
                let roll = fastrand::Rng::with_seed(key).u32(0..1000);
                let faults = [
                    Fault::Status500,
                    Fault::Status503,
                    Fault::TooManyRequests,
                    Fault::Reset,
                    Fault::Stall,
                    Fault::Truncated,
                ];
                (roll < *per_mille)
                    .then(|| faults[(roll as usize * faults.len()) / *per_mille as usize])
            }
        }
    }
}

/// The server: the site's pages, the plan, and what it did.
struct FaultServer {
    site: Site,
    plan: Plan,
    attempts: Mutex<HashMap<String, u32>>,
    faults: Mutex<HashMap<Fault, u32>>,
}

async fn start(plan: Plan) -> (Arc<FaultServer>, Url) {
    let server = Arc::new(FaultServer {
        site: Site::generate(),
        plan,
        attempts: Mutex::new(HashMap::new()),
        faults: Mutex::new(HashMap::new()),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let serving = Arc::clone(&server);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let server = Arc::clone(&serving);
            tokio::spawn(async move { server.answer(stream).await });
        }
    });
    (server, base)
}

impl FaultServer {
    /// Reads one request and answers it; every answer closes the connection.
    async fn answer(&self, mut stream: TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&head);
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(path.clone()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let fault = self.plan.fault(&path, attempt);
        if let Some(fault) = fault {
            *self.faults.lock().unwrap().entry(fault).or_insert(0) += 1;
        }
        let page = self.site.page(&path).unwrap_or("").as_bytes();
        let ok = |length: usize| {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
            )
        };
        let reply: Vec<u8> = match fault {
            None if page.is_empty() => {
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            }
            None => [ok(page.len()).as_bytes(), page].concat(),
            Some(Fault::Status500) => {
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\nconnection: close\r\n\r\nfault".to_vec()
            }
            Some(Fault::Status503) => {
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            }
            Some(Fault::TooManyRequests) => {
                b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            }
            Some(Fault::Reset) => {
                // SO_LINGER 0: closing sends a reset, not a clean end.
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                return;
            }
            Some(Fault::Stall) => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                return;
            }
            Some(Fault::Truncated) => [ok(page.len()).as_bytes(), &page[..page.len() / 2]].concat(),
        };
        let _ = stream.write_all(&reply).await;
        let _ = stream.shutdown().await;
    }

    fn faults(&self) -> Vec<(Fault, u32)> {
        let mut faults: Vec<_> = self.faults.lock().unwrap().clone().into_iter().collect();
        faults.sort();
        faults
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_under_seeded_faults_gives_the_clean_run_byte_for_byte() {
    let (_, clean_base) = start(Plan::Seeded {
        seed: 0,
        per_mille: 0,
    })
    .await;
    let clean = crawl_site(&clean_base).await;
    assert!(clean.report.is_complete(), "{:?}", clean.report.failures);
    assert_eq!(
        (clean.books.len(), clean.report.retries),
        (BOOKS as usize, 0)
    );

    let seed = std::env::var("BOOKS_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let (server, base) = start(Plan::Seeded {
        seed,
        per_mille: 200,
    })
    .await;
    let faulty = crawl_site(&base).await;
    let faults = server.faults();
    let injected: u32 = faults.iter().map(|(_, n)| n).sum();
    eprintln!(
        "seed {seed} (BOOKS_FAULT_SEED), 20 % of first attempts: {injected} faults {faults:?}, {} retries",
        faulty.report.retries
    );
    assert!(faulty.report.is_complete(), "{:?}", faulty.report.failures);
    assert_eq!(canonical_csv(&faulty.books), canonical_csv(&clean.books));
    assert_eq!(faulty.reported_total, clean.reported_total);
    // Every fault cost one retry.
    assert_eq!(faulty.report.retries, u64::from(injected));
    if seed == DEFAULT_SEED {
        assert_eq!(faults.len(), 6, "every kind of fault: {faults:?}");
        assert_eq!(injected, 18);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_always_fails_fails_the_scrape_and_keeps_the_old_data() {
    let (_, base) = start(Plan::Always(product_path(17))).await;
    let dir = tempfile::tempdir().unwrap();
    let (csv, db) = (dir.path().join("books.csv"), dir.path().join("books.db"));
    std::fs::write(&csv, b"id,upc\n1,previous\n").unwrap();
    std::fs::write(&db, b"previous database bytes").unwrap();

    let out = run_books_scrape(&base, dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{base}catalogue/book-17_17/index.html")),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&csv).unwrap(), b"id,upc\n1,previous\n");
    assert_eq!(std::fs::read(&db).unwrap(), b"previous database bytes");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}
