//! The local server's hardening, on loopback: a stalled half-sent header and
//! an idle keep-alive connection are closed, the connection cap holds
//! further clients back, shutdown drains what is in flight, and the real
//! `books serve` stops cleanly on SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use books::adapters::server::{Limits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long any step may take before the test calls it stuck.
const STUCK: Duration = Duration::from_secs(10);

/// `app` served on a fresh loopback port with `limits` until `shutdown`.
async fn start(
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(serve(listener, app, shutdown, limits));
    (addr, server)
}

fn short_header_timeout() -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    }
}

fn hello() -> Router {
    Router::new().route("/hello", get(|| async { "hello" }))
}

/// Reads until the server closes the socket; what it sent on the way.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(STUCK, stream.read(&mut buf)).await {
            Err(_) => panic!("the server kept the socket open; got {seen:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return seen,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_half_sent_header_that_stalls_is_closed() {
    let (addr, _) = start(hello(), short_header_timeout(), std::future::pending()).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        !text.contains("hello"),
        "a half header was answered: {text}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (addr, _) = start(hello(), short_header_timeout(), std::future::pending()).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("hello"), "{text}");
}

#[tokio::test]
async fn clients_past_the_connection_cap_wait_for_a_free_slot() {
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let (addr, _) = start(hello(), limits, std::future::pending()).await;
    let mut first = TcpStream::connect(addr).await.expect("connect");
    first
        .write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let n = first.read(&mut buf).await.expect("first answered");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));

    // The one slot is held by `first` (kept alive): `second` is accepted by
    // the kernel but not served.
    let mut second = TcpStream::connect(addr).await.expect("connect");
    second
        .write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let waiting = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buf)).await;
    assert!(waiting.is_err(), "served past the cap");

    drop(first);
    let answer = read_until_closed(&mut second).await;
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}

#[tokio::test]
async fn shutdown_drains_a_request_in_flight_and_stops_accepting() {
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "done"
        }),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, server) = start(app, Limits::default(), async {
        let _ = stopped.await;
    })
    .await;
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(format!("http://{addr}/slow"))
            .timeout(STUCK)
            .send()
            .await?
            .text()
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).expect("server running");
    let body = in_flight.await.expect("task").expect("answered");
    assert_eq!(body, "done");
    tokio::time::timeout(STUCK, server)
        .await
        .expect("the server stopped after draining")
        .expect("server task");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[test]
fn books_serve_stops_cleanly_on_sigterm() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let db = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/books.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_books"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("books serve starts");
    let deadline = Instant::now() + STUCK;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "books serve did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + STUCK;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "books serve ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut log)
        .expect("log");
    assert!(
        log.lines()
            .any(|l| l.contains(r#""event":"shutdown""#) && l.contains(r#""drained":true"#)),
        "{log}"
    );
}
