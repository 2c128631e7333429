//! `/docs` in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver, loads the docs page from the local server, which lists every
//! endpoint; "Try it out" on `/api/v1/books/{id}` with id 1 shows the book's
//! title. Authorize, with the OAuth 2.0 password flow and the test admin's
//! credentials, gets a token at `/api/v1/auth/token`; "Try it out" on
//! `POST /api/v1/scraping/trigger` then gets a 202 from the GitHub Actions
//! trigger (against the shared server's stand-in). Screenshots go to
//! `target/docs-browser/`. Nothing may be loaded from another origin (other
//! hosts do not even resolve in this browser).
//!
//! Ignored, with the reason, unless asked for (`--include-ignored`): they
//! need Chromium and chromedriver (see [`crate::browser`]).

use books::http::Route;
use serde_json::{Value, json};

use crate::browser::{Driver, Session, browser_binaries, json_of};

/// Everything came from `origin`, the console has no errors, and Swagger
/// UI's bundle was among what loaded. Returns the URLs loaded.
async fn assert_local_only(session: &Session, origin: &str) -> Vec<String> {
    let loaded = session.assert_local_only(origin).await;
    assert!(
        loaded.iter().any(|u| u.ends_with("/swagger-ui-bundle.js")),
        "{loaded:?}"
    );
    loaded
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"]
async fn docs_page_lists_every_endpoint_and_try_it_out_fetches_a_book() {
    let (chromium, chromedriver) = browser_binaries("docs browser test");

    let origin = format!("http://{}", crate::app::server_addr());
    // The book the page must show, as the API serves it.
    let expected = json_of(reqwest::get(format!("{origin}/api/v1/books/1")).await)
        .await
        .expect("GET book 1");
    let title = expected["title"].as_str().expect("title").to_owned();
    assert!(!title.is_empty());

    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path(), "docs-browser").await;

    // From the landing page to the docs, as a person would.
    session.goto(&format!("{origin}/")).await;
    session
        .wait_for(
            "the landing page",
            "return document.querySelector('a.button.primary') !== null;",
        )
        .await;
    session.screenshot("landing.png").await;
    session.click("a.button.primary").await;
    session
        .wait_for(
            "the docs page",
            "return window.location.pathname === '/docs';",
        )
        .await;
    let count = Route::ALL.len();
    session
        .wait_for(
            "Swagger UI to render every operation",
            &format!("return document.querySelectorAll('.opblock').length >= {count};"),
        )
        .await;
    let listed = session
        .script(
            "return Array.from(document.querySelectorAll('.opblock-summary-path'))\
             .map(e => e.textContent.replace(/\\u200b/g, '').trim());",
        )
        .await;
    let mut listed: Vec<String> = listed
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| p.as_str().expect("path").to_owned())
        .collect();
    listed.sort();
    let mut routes: Vec<String> = Route::ALL.iter().map(|r| r.path().to_owned()).collect();
    routes.sort();
    assert_eq!(listed, routes, "the docs page lists exactly the endpoints");
    let page_title = session.script("return document.title;").await;
    assert!(page_title.as_str().is_some_and(|t| t.contains("books API")));
    session.screenshot("docs.png").await;

    // Try it out: GET /api/v1/books/{id} with id 1.
    let op = "#operations-books-getBook";
    session
        .click(&format!("{op} .opblock-summary-control"))
        .await;
    session
        .wait_for(
            "the operation to open",
            &format!("return document.querySelector('{op} .try-out__btn') !== null;"),
        )
        .await;
    session.click(&format!("{op} .try-out__btn")).await;
    session
        .wait_for(
            "the id field",
            &format!(
                "return document.querySelector('{op} tr[data-param-name=\"id\"] input') !== null;"
            ),
        )
        .await;
    session
        .type_into(&format!("{op} tr[data-param-name=\"id\"] input"), "1")
        .await;
    session.click(&format!("{op} .btn.execute")).await;
    let status = session
        .wait_for(
            "the live response",
            &format!(
                "const s = document.querySelector('{op} .live-responses-table tbody .response-col_status');\
                 return s ? s.textContent.trim() : '';"
            ),
        )
        .await;
    assert!(
        status.as_str().is_some_and(|s| s.starts_with("200")),
        "status {status}"
    );
    let shown = session
        .wait_for(
            "the response body",
            &format!(
                "const b = document.querySelector('{op} .live-responses-table tbody .response-col_description .highlight-code');\
                 return b ? b.textContent : '';"
            ),
        )
        .await;
    let shown = shown.as_str().unwrap_or_default();
    assert!(
        shown.contains(&title),
        "the response shows {title:?}: {shown:.400}"
    );
    let request_url = session
        .script(&format!(
            "const u = document.querySelector('{op} .request-url pre');\
             return u ? u.textContent : '';"
        ))
        .await;
    assert_eq!(
        request_url.as_str(),
        Some(format!("{origin}/api/v1/books/1").as_str())
    );
    session
        .script(&format!(
            "document.querySelector('{op}').scrollIntoView({{block: 'start'}});"
        ))
        .await;
    session.screenshot("try-it-out.png").await;

    // Everything the page loaded came from the local server, and the
    // console has no errors.
    assert_local_only(&session, &origin).await;

    session.quit().await;
    drop(driver);
}

/// Records every `fetch` the page makes from now on in `window.__fetches`:
/// URL, method, headers (lower-cased names), body and answer status. Swagger
/// UI calls the global `fetch` for both its Authorize and its Try it out.
const FETCH_HOOK: &str = "
    if (!window.__fetches) {
        window.__fetches = [];
        const original = window.fetch;
        window.fetch = function (input, init) {
            init = init || {};
            const entry = {
                url: new URL(typeof input === 'string' ? input : input.url, location.href).href,
                method: (init.method || (typeof input === 'string' ? 'GET' : input.method)).toUpperCase(),
                headers: Object.fromEntries(new Headers(init.headers || {}).entries()),
                body: init.body == null ? null : String(init.body),
                status: null,
            };
            window.__fetches.push(entry);
            return original.apply(this, arguments).then(response => {
                entry.status = response.status;
                return response;
            });
        };
    }
    return true;";

/// The recorded fetches to `path` on `origin`.
async fn fetches_to(session: &Session, origin: &str, path: &str) -> Vec<Value> {
    let all = session.script("return window.__fetches || [];").await;
    let url = format!("{origin}{path}");
    all.as_array()
        .expect("fetches")
        .iter()
        .filter(|f| {
            f["url"]
                .as_str()
                .is_some_and(|u| u.split('?').next() == Some(&url))
        })
        .cloned()
        .collect()
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"]
async fn authorize_with_the_password_flow_then_trigger_a_scrape() {
    let (chromium, chromedriver) = browser_binaries("docs browser test");
    let origin = format!("http://{}", crate::app::server_addr());
    let (admin, password) = crate::app::ADMIN;
    let login_path = books::http::Route::AuthToken.path();
    let trigger_path = books::http::Route::ScrapingTrigger.path();

    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path(), "docs-browser").await;

    session.goto(&format!("{origin}/docs")).await;
    let op = "#operations-operations-triggerScrape";
    session
        .wait_for(
            "Swagger UI to render the trigger and the Authorize button",
            &format!(
                "return document.querySelector('{op}') !== null \
                 && document.querySelector('.auth-wrapper .btn.authorize') !== null;"
            ),
        )
        .await;
    session.script(FETCH_HOOK).await;
    // Nobody is signed in yet: the trigger's padlock is open.
    let padlock =
        format!("document.querySelector('{op} .authorization__btn').getAttribute('aria-label')");
    let before = session.script(&format!("return {padlock};")).await;
    assert_eq!(before, "authorization button unlocked", "before Authorize");

    // Authorize: the password flow's dialog, with the admin's credentials.
    session.click(".auth-wrapper .btn.authorize").await;
    // The scheme's section of the dialog, found by its heading.
    let section = "Array.from(document.querySelectorAll('.modal-ux .auth-container'))\
                   .find(c => (c.querySelector('h4') || {textContent: ''}).textContent.trim()\
                   .startsWith('password (OAuth2, password)'))";
    session
        .wait_for(
            "the password flow in the Authorize dialog",
            &format!("const c = {section}; return !!(c && c.querySelector('#oauth_username'));"),
        )
        .await;
    let token_url = session
        .script(&format!(
            "const c = {section}; return Array.from(c.querySelectorAll('p'))\
             .map(p => p.textContent).find(t => t.startsWith('Token URL')) || '';"
        ))
        .await;
    assert_eq!(
        token_url
            .as_str()
            .map(|t| t.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["Token", "URL:", login_path]),
        "the dialog's token URL"
    );
    session.type_into("#oauth_username", admin).await;
    session.type_into("#oauth_password", password).await;
    let authorize = session
        .find_by_script(
            "the password flow's Authorize button",
            &format!(
                "const c = {section}; return c.querySelector('button.modal-btn.auth.authorize');"
            ),
        )
        .await;
    session.click_element(&authorize).await;
    // Authorized: the section says so and offers Logout instead.
    let shown = session
        .wait_for(
            "the password flow to show as authorized",
            &format!(
                "const c = {section}; if (!c) return '';\
                 const h = c.querySelector('h6'), b = c.querySelector('button.modal-btn.auth.authorize');\
                 return h && b && h.textContent.trim() === 'Authorized' && b.textContent.trim() === 'Logout'\
                    ? c.textContent : '';"
            ),
        )
        .await;
    let shown = shown.as_str().unwrap_or_default();
    assert!(shown.contains(admin), "the signed-in user: {shown}");
    assert!(!shown.contains(password), "the password is shown: {shown}");
    let errors = session
        .script("return Array.from(document.querySelectorAll('.modal-ux .errors')).map(e => e.textContent);")
        .await;
    assert_eq!(errors, json!([]), "errors in the Authorize dialog");
    session.screenshot("authorized.png").await;

    // The token request: a password grant form, POSTed to the token route
    // on this origin, answered 200.
    let logins = fetches_to(&session, &origin, login_path).await;
    assert_eq!(logins.len(), 1, "one sign-in: {logins:?}");
    let login = &logins[0];
    assert_eq!(login["method"], "POST");
    assert_eq!(login["status"], 200, "{login}");
    assert_eq!(
        login["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: Vec<(String, String)> = login["body"]
        .as_str()
        .expect("a form body")
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode(&s.replace('+', " "));
            (decode(k), decode(v))
        })
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("grant_type"), Some("password"), "{form:?}");
    assert_eq!(field("username"), Some(admin), "{form:?}");
    assert_eq!(field("password"), Some(password), "{form:?}");
    // And the browser's own record of it: a fetch to this origin.
    let timed = session
        .script(&format!(
            "return performance.getEntriesByType('resource')\
             .filter(e => e.name === '{origin}{login_path}').map(e => e.initiatorType);"
        ))
        .await;
    assert_eq!(
        timed,
        json!(["fetch"]),
        "the sign-in, as the browser timed it"
    );

    session.click(".modal-ux .btn-done").await;
    session
        .wait_for(
            "the dialog to close",
            "return document.querySelector('.modal-ux') === null;",
        )
        .await;
    session
        .wait_for(
            "the trigger's padlock to close",
            &format!("return {padlock} === 'authorization button locked';"),
        )
        .await;

    // Try it out: POST /api/v1/scraping/trigger with a reason.
    session
        .click(&format!("{op} .opblock-summary-control"))
        .await;
    session
        .wait_for(
            "the operation to open",
            &format!("return document.querySelector('{op} .try-out__btn') !== null;"),
        )
        .await;
    session.click(&format!("{op} .try-out__btn")).await;
    let body_field = format!("{op} textarea.body-param__text");
    session
        .wait_for(
            "the request body field",
            &format!("return document.querySelector('{body_field}') !== null;"),
        )
        .await;
    session
        .type_into(&body_field, r#"{"reason": "browser test"}"#)
        .await;
    session.click(&format!("{op} .btn.execute")).await;
    let status = session
        .wait_for(
            "the live response",
            &format!(
                "const s = document.querySelector('{op} .live-responses-table tbody .response-col_status');\
                 return s ? s.textContent.trim() : '';"
            ),
        )
        .await;
    assert!(
        status.as_str().is_some_and(|s| s.starts_with("202")),
        "status {status}"
    );
    // The body is highlighted after it is first shown: wait for the answer.
    let body = session
        .wait_for(
            "the response body",
            &format!(
                "const b = document.querySelector('{op} .live-responses-table tbody .response-col_description .highlight-code pre');\
                 return b && b.textContent.includes('\"mode\"') ? b.textContent : '';"
            ),
        )
        .await;
    let body = body.as_str().unwrap_or_default();
    let answer: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("the shown body ({e}): {body:.400}"));
    assert_eq!(answer["mode"], "github-actions", "{answer}");
    assert_eq!(answer["reason"], "browser test", "{answer}");
    assert!(body.contains("\"github-actions\"") && body.contains("\"browser test\""));
    let headers = session
        .script(&format!(
            "return Array.from(document.querySelectorAll('{op} .live-responses-table .headerline'))\
             .map(h => h.textContent.trim());"
        ))
        .await;
    let location = format!("location: {}", books::http::Route::ScrapingStatus.path());
    assert!(
        headers
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h.as_str() == Some(location.as_str()))),
        "the shown headers: {headers}"
    );
    // The request went to this origin, with the token from the sign-in.
    let request_url = session
        .script(&format!(
            "const u = document.querySelector('{op} .request-url pre'); return u ? u.textContent : '';"
        ))
        .await;
    assert_eq!(
        request_url.as_str(),
        Some(format!("{origin}{trigger_path}").as_str())
    );
    let curl = session
        .script(&format!(
            "const c = document.querySelector('{op} .curl-command'); return c ? c.textContent : '';"
        ))
        .await;
    let curl = curl.as_str().unwrap_or_default();
    assert!(
        curl.contains("Authorization: Bearer ey"),
        "the curl command: {curl}"
    );
    let triggers = fetches_to(&session, &origin, trigger_path).await;
    assert_eq!(triggers.len(), 1, "one trigger: {triggers:?}");
    let bearer = triggers[0]["headers"]["authorization"]
        .as_str()
        .unwrap_or_default();
    assert!(bearer.starts_with("Bearer ey"), "{}", triggers[0]);
    assert!(
        curl.contains(bearer),
        "the curl command shows the token sent"
    );
    assert_eq!(triggers[0]["status"], 202);
    session
        .script(&format!(
            "document.querySelector('{op}').scrollIntoView({{block: 'start'}});"
        ))
        .await;
    session.screenshot("trigger.png").await;

    // Only this origin, and no console errors.
    let loaded = assert_local_only(&session, &origin).await;
    assert!(
        loaded
            .iter()
            .any(|u| *u == format!("{origin}{trigger_path}")),
        "{loaded:?}"
    );

    session.quit().await;
    drop(driver);
}

/// Decodes `%XX` escapes (the test's own form fields are ASCII).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
