//! Sign-in, refresh and the protected routes, against the real `books serve`
//! with the test accounts: the JWT attack table (every forged, expired,
//! misdirected or malformed credential is a 401 problem with a
//! `WWW-Authenticate` challenge, never a 200 or a 500), 403 for a reader,
//! sign-in failures that cannot be told apart, bad bodies, 503 while
//! authentication is not configured, and finally a scan of everything the
//! server logged for every password and token used.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::app::{ADMIN, READER, Reply, TEST_SECRET, auth_env, committed_db};
use crate::served::Served;

const LOGIN: &str = "/api/v1/auth/login";
const TOKEN: &str = "/api/v1/auth/token";
const REFRESH: &str = "/api/v1/auth/refresh";
/// An admin-only read: the attack table's target.
const PROTECTED: &str = "/api/v1/scraping/status";
const TRIGGER: &str = "/api/v1/scraping/trigger";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// HMAC-SHA256 (RFC 2104), so the tests can sign what the library would not.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with exactly this header and these claims, signed with
/// HMAC-SHA256 under `key` whatever the header's `alg` says.
fn forge(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = hmac_sha256(key, input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// Claims as the server issues them for the admin, with `changes` applied.
fn claims(changes: &[(&str, Value)]) -> Value {
    let now = now();
    let mut claims = json!({
        "sub": ADMIN.0, "role": "admin", "typ": "access",
        "iat": now, "nbf": now, "exp": now + 600,
        "iss": "books", "aud": "books-api", "jti": "0123456789abcdef0123456789abcdef",
    });
    for (name, value) in changes {
        if value.is_null() {
            claims.as_object_mut().expect("object").remove(*name);
        } else {
            claims[*name] = value.clone();
        }
    }
    claims
}

fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

async fn get_with(server: &Served, path: &str, authorization: &[&str]) -> Reply {
    let mut request = client().get(server.url(path));
    for value in authorization {
        request = request.header("authorization", *value);
    }
    Reply::read(request.send().await.expect("sent")).await
}

/// A trigger request (a sound body) with these `Authorization` values.
async fn post_with(server: &Served, path: &str, authorization: &[&str]) -> Reply {
    let mut request = client()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(r#"{"reason":"an attacker tries"}"#);
    for value in authorization {
        request = request.header("authorization", *value);
    }
    Reply::read(request.send().await.expect("sent")).await
}

async fn post(server: &Served, path: &str, content_type: &str, body: String) -> Reply {
    let request = client()
        .post(server.url(path))
        .header("content-type", content_type)
        .body(body);
    Reply::read(request.send().await.expect("sent")).await
}

async fn sign_in(server: &Served, name: &str, password: &str) -> Reply {
    let body = json!({"username": name, "password": password}).to_string();
    post(server, LOGIN, "application/json", body).await
}

/// Asserts a 401 problem with a Bearer challenge, never stored.
fn assert_challenged(reply: &Reply, label: &str, invalid_token: bool) {
    assert_eq!(reply.status, 401, "{label}: {}", reply.text);
    reply.problem(401);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer realm=\"books\""),
        "{label}: {challenge:?}"
    );
    if invalid_token {
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{label}: {challenge:?}"
        );
    }
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{label}");
}

/// A body and its headers (sorted, without the per-request ones).
type Answer = (String, Vec<(String, String)>);

fn start() -> Served {
    Served::start(&committed_db(), &[], &auth_env())
}

#[tokio::test]
async fn the_auth_suite_leaves_no_secret_in_the_logs() {
    let server = start();
    // Every secret the suite uses, to look for in the logs at the end.
    let mut secrets: Vec<String> = vec![
        TEST_SECRET.to_owned(),
        ADMIN.1.to_owned(),
        READER.1.to_owned(),
    ];

    // Sign in, as JSON and as the OAuth 2.0 password form.
    let reply = sign_in(&server, ADMIN.0, ADMIN.1).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let pair = reply.json();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["refresh_expires_in"], 604_800);
    let access = pair["access_token"].as_str().expect("access").to_owned();
    let refresh = pair["refresh_token"].as_str().expect("refresh").to_owned();
    secrets.extend([access.clone(), refresh.clone()]);
    let form = format!(
        "grant_type=password&username={}&password={}&scope=",
        ADMIN.0,
        ADMIN.1.replace(' ', "+")
    );
    // The OAuth 2.0 password grant has its own route, which takes only
    // the form; the sign-in route takes only JSON.
    let reply = post(
        &server,
        LOGIN,
        "application/x-www-form-urlencoded",
        form.clone(),
    )
    .await;
    assert_eq!(reply.status, 415, "{}", reply.text);
    reply.problem(415);
    let reply = post(&server, TOKEN, "application/x-www-form-urlencoded", form).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    secrets.push(
        reply.json()["access_token"]
            .as_str()
            .expect("token")
            .to_owned(),
    );

    // The token opens the protected route, whatever the scheme's case.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let reply = get_with(&server, PROTECTED, &[&format!("{scheme} {access}")]).await;
        assert_eq!(reply.status, 200, "{scheme}: {}", reply.text);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }

    // A refresh gives a new pair; the refresh token is no access token, and
    // an access token does not refresh.
    let body = json!({"refresh_token": refresh}).to_string();
    let reply = post(&server, REFRESH, "application/json", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let renewed = reply.json();
    let renewed_access = renewed["access_token"].as_str().expect("access").to_owned();
    assert_ne!(renewed_access, access);
    secrets.extend([
        renewed_access.clone(),
        renewed["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    ]);
    let reply = get_with(&server, PROTECTED, &[&format!("Bearer {renewed_access}")]).await;
    assert_eq!(reply.status, 200);
    let body = json!({"refresh_token": access}).to_string();
    let reply = post(&server, REFRESH, "application/json", body).await;
    assert_challenged(&reply, "an access token used to refresh", true);

    // The attack table.
    let key = TEST_SECRET.as_bytes();
    let tampered_payload = {
        let reader = crate::app::token_for(
            READER.0,
            books::auth::Role::Reader,
            books::auth::TokenKind::Access,
        );
        let parts: Vec<&str> = reader.split('.').collect();
        let promoted = b64(claims(&[("sub", json!(READER.0))]).to_string().as_bytes());
        format!("{}.{promoted}.{}", parts[0], parts[2])
    };
    let tampered_signature = {
        let (head, signature) = access.rsplit_once('.').expect("three parts");
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("signature");
        bytes[0] ^= 1;
        format!("{head}.{}", b64(&bytes))
    };
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes()),
        b64(claims(&[]).to_string().as_bytes())
    );
    // Signed with the `hmac` crate: the server's own provider knows HS256 only.
    let hs512 = {
        use hmac::{KeyInit as _, Mac as _};
        let header = json!({"alg": "HS512", "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims(&[]).to_string().as_bytes())
        );
        let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key).expect("HS512 key");
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    };
    let tokens: Vec<(&str, String)> = vec![
        ("alg none", unsigned),
        ("alg none, no dot", {
            let header = b64(json!({"alg": "none"}).to_string().as_bytes());
            format!("{header}.{}", b64(claims(&[]).to_string().as_bytes()))
        }),
        ("HS512 with the right key", hs512),
        (
            "RS256 signed with the secret as a public key",
            forge(&json!({"alg": "RS256", "typ": "JWT"}), &claims(&[]), key),
        ),
        (
            "ES256",
            forge(&json!({"alg": "ES256", "typ": "JWT"}), &claims(&[]), key),
        ),
        (
            "wrong key",
            forge(
                &hs256(),
                &claims(&[]),
                b"another secret of thirty-two bytes!!",
            ),
        ),
        ("tampered payload", tampered_payload),
        ("tampered signature", tampered_signature),
        (
            "expired",
            forge(
                &hs256(),
                &claims(&[
                    ("iat", json!(now() - 7200)),
                    ("nbf", json!(now() - 7200)),
                    ("exp", json!(now() - 3600)),
                ]),
                key,
            ),
        ),
        (
            "nbf in the future",
            forge(&hs256(), &claims(&[("nbf", json!(now() + 3600))]), key),
        ),
        (
            "wrong iss",
            forge(&hs256(), &claims(&[("iss", json!("someone-else"))]), key),
        ),
        (
            "wrong aud",
            forge(&hs256(), &claims(&[("aud", json!("another-api"))]), key),
        ),
        ("a refresh token used as access", refresh.clone()),
        (
            "missing typ",
            forge(&hs256(), &claims(&[("typ", Value::Null)]), key),
        ),
        (
            "missing exp",
            forge(&hs256(), &claims(&[("exp", Value::Null)]), key),
        ),
        (
            "kid pointing elsewhere",
            forge(
                &json!({"alg": "HS256", "typ": "JWT", "kid": "../../other-key"}),
                &claims(&[]),
                key,
            ),
        ),
        (
            "jku pointing elsewhere",
            forge(
                &json!({"alg": "HS256", "typ": "JWT", "jku": "https://attacker.example/jwks.json"}),
                &claims(&[]),
                key,
            ),
        ),
        (
            "x5u pointing elsewhere",
            forge(
                &json!({"alg": "HS256", "typ": "JWT", "x5u": "https://attacker.example/cert.pem"}),
                &claims(&[]),
                key,
            ),
        ),
        ("a 16 KB token", "a".repeat(16 * 1024)),
        ("non-base64 segments", "@@@.###.$$$".to_owned()),
        (
            "base64 but not JSON",
            format!("{}.{}.{}", b64(b"nope"), b64(b"nope"), b64(b"nope")),
        ),
    ];
    for (label, token) in &tokens {
        let authorization = format!("Bearer {token}");
        let reply = get_with(&server, PROTECTED, &[&authorization]).await;
        assert_challenged(&reply, label, true);
        let reply = post_with(&server, TRIGGER, &[&authorization]).await;
        assert_challenged(&reply, &format!("{label}, on the trigger"), true);
        secrets.push(token.clone());
    }
    // Malformed headers: the challenge without (or with another) error code.
    let two = format!("Bearer {access}");
    let headers: Vec<(&str, Vec<&str>)> = vec![
        ("no header", vec![]),
        ("an empty header", vec![""]),
        ("a blank header", vec!["   "]),
        ("the Basic scheme", vec!["Basic YWRhOmFkbWlu"]),
        ("no token after Bearer", vec!["Bearer"]),
        ("only spaces after Bearer", vec!["Bearer    "]),
        ("two Authorization headers", vec![&two, &two]),
    ];
    for (label, values) in &headers {
        let reply = get_with(&server, PROTECTED, values).await;
        assert_challenged(&reply, label, false);
        let reply = post_with(&server, TRIGGER, values).await;
        assert_challenged(&reply, &format!("{label}, on the trigger"), false);
    }

    // A reader is who they say, and still not an admin.
    let reply = sign_in(&server, READER.0, READER.1).await;
    assert_eq!(reply.status, 200);
    let reader = reply.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    secrets.push(reader.clone());
    let reply = get_with(&server, PROTECTED, &[&format!("Bearer {reader}")]).await;
    assert_eq!(
        reply.problem(403)["detail"],
        "this endpoint needs the admin role"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    post_with(&server, TRIGGER, &[&format!("Bearer {reader}")])
        .await
        .problem(403);

    // A wrong password and an unknown name cannot be told apart: same
    // status, same body, same headers (but the request id), same time
    // within noise. Interleaved, so drift in machine load hits both alike.
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut answers: [Option<Answer>; 2] = [None, None];
    let wrong = "not the password at all";
    secrets.push(wrong.to_owned());
    for _ in 0..8 {
        for (i, (name, password)) in [(ADMIN.0, wrong), ("nobody-here", wrong)]
            .iter()
            .enumerate()
        {
            let started = Instant::now();
            let reply = sign_in(&server, name, password).await;
            times[i].push(started.elapsed());
            assert_challenged(&reply, "a failed sign-in", false);
            let mut headers: Vec<(String, String)> = reply
                .headers
                .iter()
                .filter(|(n, _)| !matches!(n.as_str(), "x-request-id" | "date" | "server-timing"))
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            headers.sort();
            let answer = (reply.text.clone(), headers);
            let first = answers[i].get_or_insert_with(|| answer.clone());
            assert_eq!(*first, answer);
        }
    }
    assert_eq!(answers[0], answers[1], "wrong password vs unknown user");
    assert_eq!(
        answers[0]
            .as_ref()
            .map(|a| serde_json::from_str::<Value>(&a.0).unwrap()["detail"].clone()),
        Some(json!("the username or password is wrong"))
    );
    // The fastest of each: load on a shared machine only ever adds time,
    // so the minimum is the steadiest estimate of the work done.
    let fastest = |samples: &[Duration]| {
        samples
            .iter()
            .min()
            .expect("sign-ins were timed")
            .as_secs_f64()
    };
    let (known, unknown) = (fastest(&times[0]), fastest(&times[1]));
    // Each runs one argon2 verification of some tens of ms; a shortcut for
    // unknown names would be over a hundred times faster.
    assert!(
        (0.2..5.0).contains(&(unknown / known)),
        "unknown user {unknown:.4}s vs wrong password {known:.4}s (fastest of 8 each)"
    );

    // Bad bodies on both routes: 4xx problems, never a sign-in.
    let bad: Vec<(&str, &str, String, u16)> = vec![
        (LOGIN, "application/json", "{\"username\":".into(), 400),
        (LOGIN, "application/json", "not json".into(), 400),
        (
            LOGIN,
            "application/json",
            r#"{"username":1,"password":2}"#.into(),
            422,
        ),
        (
            LOGIN,
            "application/json",
            r#"{"username":"ada"}"#.into(),
            422,
        ),
        (
            LOGIN,
            "application/json",
            r#"{"username":"","password":"x"}"#.into(),
            422,
        ),
        (
            LOGIN,
            "application/json",
            r#"{"username":"ada","password":"x","admin":true}"#.into(),
            422,
        ),
        (
            LOGIN,
            "application/json",
            json!({"username": "ada", "password": "x".repeat(2000)}).to_string(),
            422,
        ),
        (LOGIN, "text/plain", format!("{}:{}", ADMIN.0, ADMIN.1), 415),
        (
            TOKEN,
            "application/x-www-form-urlencoded",
            "username=ada".into(),
            422,
        ),
        (
            TOKEN,
            "application/x-www-form-urlencoded",
            format!("username={}&password={}", ADMIN.0, ADMIN.1),
            422,
        ),
        (
            TOKEN,
            "application/x-www-form-urlencoded",
            format!(
                "grant_type=client_credentials&username={}&password=x",
                ADMIN.0
            ),
            422,
        ),
        (
            TOKEN,
            "application/json",
            json!({"username": ADMIN.0, "password": ADMIN.1}).to_string(),
            415,
        ),
        (REFRESH, "application/json", "[".into(), 400),
        (
            REFRESH,
            "application/json",
            r#"{"refresh_token":7}"#.into(),
            422,
        ),
        (REFRESH, "application/json", "{}".into(), 422),
        (
            REFRESH,
            "application/json",
            r#"{"refresh_token":""}"#.into(),
            422,
        ),
        (
            REFRESH,
            "application/json",
            r#"{"refresh_token":"a.b.c"}"#.into(),
            401,
        ),
        (
            REFRESH,
            "application/x-www-form-urlencoded",
            "refresh_token=a.b.c".into(),
            415,
        ),
    ];
    for (path, content_type, body, status) in bad {
        let label = format!("POST {path} {content_type} {:.60}", body);
        let reply = post(&server, path, content_type, body).await;
        assert_eq!(reply.status, status, "{label}: {}", reply.text);
        reply.problem(status);
    }
    // A megabyte of body is refused without reading it whole.
    for path in [LOGIN, REFRESH] {
        let body = format!("{{\"username\":\"{}\"}}", "a".repeat(1024 * 1024));
        let sent = client()
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        if let Ok(response) = sent {
            let reply = Reply::read(response).await;
            reply.problem(413);
        }
    }

    // Nothing the suite sent in secret reached the logs.
    let logs = server.stop();
    assert!(logs.contains("\"event\":\"sign_in\""), "{logs:.2000}");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret ({:.24}…) is in the logs",
            secret
        );
    }
    for line in logs.lines() {
        assert!(
            !line.to_ascii_lowercase().contains("authorization"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn without_a_long_enough_secret_auth_is_closed_and_the_rest_answers() {
    for secret in [None, Some("thirty-one bytes, one too short")] {
        let users = crate::app::test_users();
        let mut env = vec![("BOOKS_USERS", users)];
        if let Some(secret) = secret {
            assert_eq!(secret.len(), 31);
            env.push(("BOOKS_JWT_SECRET", secret));
        }
        let server = Served::start(&committed_db(), &[], &env);
        let label = format!("secret {secret:?}");
        let reply = sign_in(&server, ADMIN.0, ADMIN.1).await;
        let problem = reply.problem(503);
        assert_eq!(
            problem["detail"], "authentication is not configured",
            "{label}"
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let body = json!({"refresh_token": "a.b.c"}).to_string();
        post(&server, REFRESH, "application/json", body)
            .await
            .problem(503);
        // Even a token signed with the short secret opens nothing.
        let token = forge(&hs256(), &claims(&[]), secret.unwrap_or("x").as_bytes());
        get_with(&server, PROTECTED, &[&format!("Bearer {token}")])
            .await
            .problem(503);
        // The public routes answer as ever.
        let reply = get_with(&server, "/api/v1/books/1", &[]).await;
        assert_eq!(reply.status, 200, "{label}");
        let reply = get_with(&server, "/api/v1/health", &[]).await;
        assert_eq!(reply.status, 200, "{label}");
        let logs = server.stop();
        assert!(logs.contains("\"event\":\"auth_not_configured\""), "{logs}");
        if let Some(secret) = secret {
            assert!(!logs.contains(secret), "the short secret is in the logs");
        }
    }
}

#[tokio::test]
async fn failed_sign_ins_for_one_name_are_slowed_even_for_the_right_password() {
    // A server of its own: the count of failures lives in the process.
    let server = Served::start(&committed_db(), &[], &crate::app::auth_env());
    let wrong = "a guess";
    for attempt in 1..=10 {
        let reply = sign_in(&server, ADMIN.0, wrong).await;
        assert_challenged(&reply, &format!("wrong password {attempt}"), false);
    }
    // The eleventh attempt comes too early: refused unchecked, even with
    // the right password, on both sign-in routes.
    let reply = sign_in(&server, ADMIN.0, ADMIN.1).await;
    let problem = reply.problem(429);
    assert_eq!(
        problem["detail"],
        "too many failed sign-ins for this account; try again in 1 s"
    );
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let form = format!(
        "grant_type=password&username={}&password={}",
        ADMIN.0, ADMIN.1
    );
    let reply = post(&server, TOKEN, "application/x-www-form-urlencoded", form).await;
    reply.problem(429);
    // Other names are not slowed.
    assert_eq!(sign_in(&server, READER.0, READER.1).await.status, 200);
    // After the wait the right password signs in, and clears the count.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(sign_in(&server, ADMIN.0, ADMIN.1).await.status, 200);
    assert_challenged(&sign_in(&server, ADMIN.0, wrong).await, "after", false);
    // An unknown name is slowed alike: the answers never tell the two apart.
    for _ in 0..10 {
        assert_challenged(&sign_in(&server, "nobody", wrong).await, "?", false);
    }
    sign_in(&server, "nobody", wrong).await.problem(429);
    // Guesses sent at once do not slip in under the limit: each is counted
    // before its password is checked.
    let guesses = (0..20).map(|_| sign_in(&server, "in-a-hurry", wrong));
    let statuses: Vec<u16> = futures::future::join_all(guesses)
        .await
        .iter()
        .map(|reply| reply.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 401).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 429).count(),
        10,
        "{statuses:?}"
    );
}
