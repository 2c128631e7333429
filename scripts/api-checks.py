#!/usr/bin/env python3
"""Calls API endpoints over HTTP and checks they answer with the real data.

Usage: api-checks.py --base-url URL --data-dir DIR [--wait S] [--header 'K: V']
                     API_FILE...

Each API_FILE is a function file as named under api/ (`api/v1/health.rs`,
`api/v1/books/[id].rs`); the request path is derived from it, and what the
answer must hold is derived from DIR/books.csv (the data the server should be
serving). Used by verify-vercel-output.sh (on each packaged function, started
locally) and smoke-test.sh (on a deployment). Exits 1 if any check fails,
after running them all. Standard library only.
"""

import argparse
import csv
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class Data:
    """What the served catalogue must contain, from books.csv."""

    def __init__(self, csv_path):
        with open(csv_path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise SystemExit(f"{csv_path}: no books")
        self.count = len(rows)
        self.first = min(rows, key=lambda r: int(r["id"]))
        self.titles = {int(r["id"]): r["title"] for r in rows}
        self.categories = len({r["category"] for r in rows})
        self.total_stock = sum(int(r["stock"]) for r in rows)
        self.max_rating = max(int(r["rating"]) for r in rows)
        prices = [float(r["price"]) for r in rows]
        self.min_price, self.max_price = min(prices), max(prices)
        self.model_version = None
        try:
            with open(csv_path.rsplit("/", 1)[0] + "/model.json", encoding="utf-8") as f:
                self.model_version = json.load(f)["version"]
        except OSError:
            pass


def quote(value):
    return urllib.parse.quote(str(value), safe="")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def check_health(body, data):
    expect(body.get("status") == "ok", f"status is {body.get('status')!r}, not 'ok'")
    expect(body.get("database") == "ok", f"database is {body.get('database')!r}")
    expect(body.get("books") == data.count, f"books is {body.get('books')!r}, not {data.count}")


def check_list_total(body, data):
    expect(body.get("total") == data.count, f"total is {body.get('total')!r}, not {data.count}")
    expect(len(body.get("items") or []) == 1, "not exactly one item with per_page=1")


def check_book(body, data):
    want = int(data.first["id"])
    expect(body.get("id") == want, f"id is {body.get('id')!r}, not {want}")
    title = data.first["title"]
    expect(body.get("title") == title, f"title is {body.get('title')!r}, not {title!r}")


def check_similar(body, data):
    want = int(data.first["id"])
    expect(body.get("book_id") == want, f"book_id is {body.get('book_id')!r}, not {want}")
    items = body.get("items") or []
    expected = min(body.get("limit") or 0, data.count - 1)
    expect(body.get("limit") == 5, f"limit is {body.get('limit')!r}, not the default 5")
    expect(len(items) == expected, f"{len(items)} items, not {expected}")
    keys = []
    for item in items:
        book, score = item.get("book") or {}, item.get("score")
        ident = book.get("id")
        expect(ident != want, "the book itself is among its similar books")
        expect(ident in data.titles, f"similar book {ident!r} is not in the data")
        expect(book.get("title") == data.titles[ident], f"book {ident}: title {book.get('title')!r}")
        expect(isinstance(score, (int, float)) and 0 <= score <= 1, f"book {ident}: score {score!r}")
        keys.append((-score, ident))
    expect(keys == sorted(keys), f"not by score, then id: {keys}")


def check_search(body, data):
    want = int(data.first["id"])
    ids = [item.get("id") for item in body.get("items") or []]
    expect(want in ids, f"book {want} not found by its own title (got ids {ids[:10]})")


def check_top_rated(body, data):
    items = body.get("items") or []
    expect(items, "no items")
    rating = items[0].get("rating")
    expect(rating == data.max_rating, f"first rating is {rating!r}, not {data.max_rating}")


def check_overview(body, data):
    expect(body.get("total_books") == data.count, f"total_books is {body.get('total_books')!r}")
    expect(body.get("total_stock") == data.total_stock, f"total_stock is {body.get('total_stock')!r}")


def check_categories(body, data):
    expect(body.get("total") == data.categories, f"total is {body.get('total')!r}, not {data.categories}")


def check_openapi(body, _data):
    expect(str(body.get("openapi", "")).startswith("3."), "no OpenAPI 3 version")
    expect(body.get("paths"), "no paths")


def check_model(body, data):
    expect(body.get("version") == data.model_version,
           f"model version {body.get('version')!r}, not data/model.json's {data.model_version!r}")
    expect(body.get("card", {}).get("evaluation"), "no evaluation in the model card")


def check_predictions(body, data):
    expect(body.get("model", {}).get("version") == data.model_version,
           f"model {body.get('model')!r}, not version {data.model_version!r}")
    predictions = body.get("predictions") or []
    expect(len(predictions) == 1 and predictions[0].get("category"), f"predictions: {predictions!r}")


def check_training_data(body, data):
    expect(body.get("count") == data.count and len(body.get("items") or []) == data.count,
           f"count {body.get('count')!r}, not {data.count}")
    expect(body.get("items")[0].get("id") == int(data.first["id"]), "the first row is not the first book")


def check_features(body, data):
    features = {f.get("name"): f for f in body.get("features") or []}
    expect(features, "no features")
    expect(body.get("data", {}).get("books") == data.count,
           f"data.books is {body.get('data', {}).get('books')!r}, not {data.count}")
    for name, f in features.items():
        expect(f.get("type") in ("numeric", "categorical", "boolean", "text"), f"{name}: type {f.get('type')!r}")
    stock = [w.get("code") for w in features.get("stock", {}).get("warnings") or []]
    expect("leaks_id" in stock, f"stock is not flagged as leaking the id: {stock!r}")
    expect("tax" in (body.get("flagged") or {}).get("constant", []), "tax is not flagged constant")
    category = next((t for t in body.get("targets") or [] if t.get("name") == "category"), {})
    if data.model_version is not None:
        expect(body.get("model", {}).get("version") == data.model_version,
               f"model {body.get('model')!r}, not version {data.model_version!r}")
        expect(category.get("finding"), "no finding for the category target")


def check_auth_closed(body, _data):
    expect(body.get("status") == 503 and body.get("detail") == "authentication is not configured",
           f"not closed for want of a secret: {body!r}")


def check_id_refused(body, _data):
    expect(body.get("status") == 400 and body.get("parameter") == "id", f"not an id problem: {body!r}")


# api file -> (request path and query, check), or a list of (path, status,
# check[, JSON body to POST]) for a route asked more than once or by POST.
# Unknown files are requested at their plain path and must answer 200 with JSON.
def checks(data):
    book = data.first["id"]
    other = int(book) % 1000 + 1
    return {
        "api/v1/health.rs": ("/api/v1/health", check_health),
        "api/v1/books.rs": ("/api/v1/books?per_page=1", check_list_total),
        # Vercel's route for [id] rewrites to the function with the segment
        # repeated as ?id=; a query that disagrees with the path is refused.
        "api/v1/books/[id].rs": [
            (f"/api/v1/books/{book}?id={book}", 200, check_book),
            (f"/api/v1/books/{book}?id={other}", 400, check_id_refused),
        ],
        # The same rewrite for [id]/similar: Vercel must send .../5/similar
        # here, not to [id].
        "api/v1/books/[id]/similar.rs": [
            (f"/api/v1/books/{book}/similar?id={book}", 200, check_similar),
            (f"/api/v1/books/{book}/similar?id={other}", 400, check_id_refused),
        ],
        "api/v1/books/search.rs": (
            f"/api/v1/books/search?title={quote(data.first['title'])}&per_page=100",
            check_search,
        ),
        "api/v1/books/top-rated.rs": ("/api/v1/books/top-rated?per_page=1", check_top_rated),
        "api/v1/books/price-range.rs": (
            f"/api/v1/books/price-range?min={data.min_price:.2f}&max={data.max_price:.2f}&per_page=1",
            check_list_total,
        ),
        "api/v1/categories.rs": ("/api/v1/categories", check_categories),
        "api/v1/stats/overview.rs": ("/api/v1/stats/overview", check_overview),
        "api/v1/stats/categories.rs": ("/api/v1/stats/categories", check_categories),
        "api/v1/ml/training-data.rs": ("/api/v1/ml/training-data?columns=id,category", check_training_data),
        "api/v1/ml/predictions.rs": [
            ("/api/v1/ml/predictions", 200, check_predictions, {"book_ids": [int(book)]}),
        ],
        "api/v1/ml/model.rs": ("/api/v1/ml/model", check_model),
        "api/v1/ml/features.rs": ("/api/v1/ml/features", check_features),
        # Run without BOOKS_JWT_SECRET (as the packaging check runs them), the
        # sign-in and operators' functions must fail closed.
        "api/v1/auth/login.rs": [
            ("/api/v1/auth/login", 503, check_auth_closed, {"username": "admin", "password": "x"}),
        ],
        "api/v1/auth/token.rs": [
            ("/api/v1/auth/token", 503, check_auth_closed, "grant_type=password&username=admin&password=x"),
        ],
        "api/v1/auth/refresh.rs": [
            ("/api/v1/auth/refresh", 503, check_auth_closed, {"refresh_token": "a.b.c"}),
        ],
        "api/v1/scraping/trigger.rs": [
            ("/api/v1/scraping/trigger", 503, check_auth_closed, {"reason": "packaging check"}),
        ],
        "api/v1/scraping/status.rs": [("/api/v1/scraping/status", 503, check_auth_closed)],
        "api/v1/openapi.json.rs": ("/api/v1/openapi.json", check_openapi),
    }


def running(pid):
    """True while process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return not f.read().rsplit(")", 1)[-1].strip().startswith("Z")
    except FileNotFoundError:
        return False
    except OSError:
        return True


def fetch(url, headers, wait, pid=None, body=None):
    """GET url (POST `body` when given: a form if a string, else JSON); connection errors are retried until `wait` seconds have passed
    (the server may still be starting), unless process `pid` (the server) has
    exited."""
    deadline = time.monotonic() + wait
    while True:
        if pid is not None and not running(pid):
            raise AssertionError(f"the server (pid {pid}) exited without answering")
        # A string body is a form (the OAuth 2.0 token route's); any other, JSON.
        if body is None:
            data, sent = None, headers
        elif isinstance(body, str):
            data = body.encode()
            sent = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        else:
            data = json.dumps(body).encode()
            sent = {**headers, "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            if time.monotonic() >= deadline:
                raise AssertionError(f"no answer: {err}") from err
            time.sleep(0.05)


def run_one(base_url, api_file, data, headers, wait, pid):
    requests = checks(data).get(api_file, ("/" + api_file.removesuffix(".rs"), None))
    if isinstance(requests, tuple):
        requests = [(requests[0], 200, requests[1])]
    ok = True
    for path, want, check, *payload in requests:
        url = base_url.rstrip("/") + path
        method = "POST" if payload else "GET"
        try:
            status, response_headers, body = fetch(url, headers, wait, pid, *payload)
            expect(status == want, f"status {status}, not {want}: {body[:300]!r}")
            content_type = response_headers.get("content-type", "")
            expect("json" in content_type, f"content-type {content_type!r}")
            parsed = json.loads(body)
            if check is not None:
                check(parsed, data)
        except (AssertionError, ValueError) as err:
            print(f"FAIL {api_file}: {method} {url}: {err}", file=sys.stderr)
            ok = False
            continue
        print(f"ok   {api_file}: {method} {url} -> {status}, {len(body)} bytes")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--data-dir", required=True, help="holds the books.csv being served")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the server")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--pid", type=int, help="stop waiting if this process (the server) exits")
    parser.add_argument("api_files", nargs="+")
    args = parser.parse_args()

    data = Data(f"{args.data_dir}/books.csv")
    headers = {"User-Agent": "books-api-checks", "Accept": "application/json"}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    results = [run_one(args.base_url, f, data, headers, args.wait, args.pid) for f in args.api_files]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
