//! A loopback stand-in of the model endpoint (`mlflow models serve`) that
//! answers as a test scripts it, records what it was sent, and counts the
//! connections it has open at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the stand-in does with a request.
#[derive(Clone)]
pub enum Reply {
    /// A well-formed answer: probabilities `{"Art": 0.25, "Mystery": 0.25,
    /// "Poetry": 0.5}` for every row asked, plus `extra_rows` more.
    Predictions { extra_rows: usize },
    /// Predictions as above, and when asked to describe the model
    /// (`params.output = "model"`), this model file's description.
    Describing(Arc<Value>),
    /// This status and body, as JSON.
    Status(u16, &'static str),
    /// A 200 with this body.
    Body(&'static str),
    /// Headers promising more body than is sent, then the connection closes.
    CutShort,
    /// Nothing, for longer than any test waits.
    Stall,
}

/// A request the stand-in received: its request line, headers and body.
#[derive(Debug, Clone)]
pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
}

pub struct Upstream {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// The most connections it had open at once.
    pub peak: Arc<AtomicUsize>,
}

/// The stand-in on 127.0.0.1:0: `/ping` answers 200 unless `reply` is a
/// failure; `/invocations` gets `reply` after `delay`.
pub async fn upstream(reply: Reply, delay: Duration) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let peak = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let (seen, top) = (Arc::clone(&received), Arc::clone(&peak));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (seen, top, open) = (Arc::clone(&seen), Arc::clone(&top), Arc::clone(&open));
            let reply = reply.clone();
            tokio::spawn(async move {
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                top.fetch_max(now, Ordering::SeqCst);
                answer(stream, reply, delay, seen).await;
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Upstream {
        url,
        received,
        peak,
    }
}

/// Reads one request and answers it; the connection then closes.
async fn answer(
    mut stream: TcpStream,
    reply: Reply,
    delay: Duration,
    seen: Arc<Mutex<Vec<Received>>>,
) {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, body_at) = loop {
        let Ok(n) = stream.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        bytes.extend_from_slice(&buf[..n]);
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&bytes[..at]).into_owned(), at + 4);
        }
    };
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while bytes.len() < body_at + length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let body = bytes[body_at..body_at + length].to_vec();
    seen.lock().unwrap().push(Received {
        head: head.clone(),
        body: body.clone(),
    });
    let ping = head.starts_with("GET /ping ");
    tokio::time::sleep(delay).await;
    let (status, text) = match (&reply, ping) {
        (Reply::Stall, _) => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return;
        }
        (Reply::Status(code, text), _) => (*code, text.to_string()),
        (_, true) => (200, "\n".to_owned()),
        (Reply::Describing(file), false) if body.windows(7).any(|w| w == b"\"model\"") => {
            let model = json!({
                "name": file["name"], "version": file["version"], "format": file["format"],
                "classes": file["classifier"]["classes"],
                "vocabulary_terms": file["vectorizer"]["vocabulary"].as_array().map(Vec::len),
                "card": file["card"],
            });
            (
                200,
                json!({ "predictions": [{ "model": model }] }).to_string(),
            )
        }
        (Reply::Predictions { .. } | Reply::Describing(_), false) => {
            let extra_rows = match reply {
                Reply::Predictions { extra_rows } => extra_rows,
                _ => 0,
            };
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let rows = request["dataframe_split"]["data"]
                .as_array()
                .map_or(0, Vec::len);
            let row = json!({
                "category": "Poetry", "probability": 0.5,
                "probabilities": {"Art": 0.25, "Mystery": 0.25, "Poetry": 0.5},
                "model_version": "standin000000001",
            });
            let predictions = vec![row; rows + extra_rows];
            (200, json!({ "predictions": predictions }).to_string())
        }
        (Reply::Body(text), false) => (200, text.to_string()),
        (Reply::CutShort, false) => {
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(br#"{"predictions": [{"probab"#).await;
            return;
        }
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}
