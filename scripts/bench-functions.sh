#!/usr/bin/env bash
# Every Vercel function's executable size and cold start: process start to
# its first answer (any status), in a deployed function's layout (data/
# beside its working directory, VERCEL_DEV_PORT set), polled every 0.2 ms,
# median of RUNS starts. The sign-in function signs a real account in
# (argon2id at its production parameters), as its first request would.
#
# Usage: scripts/bench-functions.sh [BIN_DIR] [RUNS]
#   BIN_DIR: where the api-v1-* executables are (default target/release,
#   built with `cargo build --release` and scripts/build-functions.sh's
#   --bin list, or a Vercel output's executables gathered in one folder).
#   RUNS: starts per function (default 5).
# Environment: BENCH_FUNCTIONS (space-separated names) measures only those;
# BOOKS_BIN, the `books` that hashes the throwaway password.
#
# The first row is the floor of this measurement: a std-only Rust program
# (compiled here with `rustc -O`) that answers its first request at once.
# What a function adds to its start is its figure minus the floor's.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=$(cd "${1:-target/release}" && pwd)
runs=${2:-5}
books=${BOOKS_BIN:-$bin_dir/books}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data"
cp data/books.db data/model.json data/model.bin "$work/data/"

# The floor: listen, answer one request, nothing else.
cat >"$work/floor.rs" <<'RS'
use std::io::{Read, Write};
fn main() {
    let port = std::env::var("VERCEL_DEV_PORT").unwrap_or_else(|_| "3000".into());
    let listener = std::net::TcpListener::bind(format!("127.0.0.1:{port}")).unwrap();
    for stream in listener.incoming() {
        let mut stream = stream.unwrap();
        let _ = stream.read(&mut [0u8; 4096]);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
    }
}
RS
rustc -O -o "$work/floor" "$work/floor.rs" 2>/dev/null || rm -f "$work/floor"

# A throwaway account and secret, for sign-in and the admin routes.
secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
password=bench-password-$RANDOM$RANDOM
if [ -x "$books" ]; then
    hash=$(printf %s "$password" | "$books" hash-password)
else
    hash=
fi

BOOKS_BENCH_SECRET=$secret BOOKS_BENCH_PASSWORD=$password BOOKS_BENCH_HASH=$hash \
    python3 - "$bin_dir" "$work" "$runs" <<'PY'
import http.client, json, os, socket, statistics, subprocess, sys, time, urllib.parse

bin_dir, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
secret = os.environ["BOOKS_BENCH_SECRET"]
password = os.environ["BOOKS_BENCH_PASSWORD"]
account_hash = os.environ["BOOKS_BENCH_HASH"]
login = json.dumps({"username": "bench", "password": password}).encode()
grant = urllib.parse.urlencode(
    {"grant_type": "password", "username": "bench", "password": password}).encode()
# (function, method, path, body): one representative request each.
functions = [
    ("(floor)", "GET", "/", None),
    ("api-v1-health", "GET", "/api/v1/health", None),
    ("api-v1-books", "GET", "/api/v1/books?page=3&per_page=20", None),
    ("api-v1-books-id", "GET", "/api/v1/books/42?id=42", None),
    ("api-v1-books-id-similar", "GET", "/api/v1/books/42/similar?id=42", None),
    ("api-v1-books-search", "GET", "/api/v1/books/search?title=light", None),
    ("api-v1-books-top-rated", "GET", "/api/v1/books/top-rated", None),
    ("api-v1-books-price-range", "GET", "/api/v1/books/price-range?min=10&max=20", None),
    ("api-v1-categories", "GET", "/api/v1/categories", None),
    ("api-v1-stats-overview", "GET", "/api/v1/stats/overview", None),
    ("api-v1-stats-categories", "GET", "/api/v1/stats/categories", None),
    ("api-v1-ml-training-data", "GET", "/api/v1/ml/training-data", None),
    ("api-v1-ml-predictions", "POST", "/api/v1/ml/predictions", b'{"book_ids":[42]}'),
    ("api-v1-ml-model", "GET", "/api/v1/ml/model", None),
    ("api-v1-ml-features", "GET", "/api/v1/ml/features", None),
    ("api-v1-auth-login", "POST", "/api/v1/auth/login", login),
    ("api-v1-auth-token", "POST", "/api/v1/auth/token", grant),
    ("api-v1-auth-refresh", "POST", "/api/v1/auth/refresh", b'{"refresh_token":"x"}'),
    ("api-v1-scraping-trigger", "POST", "/api/v1/scraping/trigger", b"{}"),
    ("api-v1-scraping-status", "GET", "/api/v1/scraping/status", None),
    ("api-v1-openapi-json", "GET", "/api/v1/openapi.json", None),
]

only = set(os.environ.get("BENCH_FUNCTIONS", "").split())
if only:
    functions = [f for f in functions if f[0] in only or f[0] == "(floor)"]

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

print(f"{'function':<28} {'size':>9} {'cold start (median of ' + str(runs) + ')':>26} {'min':>8} {'max':>8} status")
for name, method, path, body in functions:
    exe = os.path.join(work, "floor") if name == "(floor)" else os.path.join(bin_dir, name)
    if not os.path.exists(exe):
        print(f"{name:<28} (not built)")
        continue
    samples, status = [], None
    for _ in range(runs):
        port = free_port()
        env = {k: v for k, v in os.environ.items()
               if k not in ("BOOKS_DB", "BOOKS_MODEL", "VERCEL_IPC_PATH")}
        env["VERCEL_DEV_PORT"] = str(port)
        env["BOOKS_JWT_SECRET"] = secret
        if account_hash:
            env["BOOKS_USERS"] = f"bench:{account_hash}:admin"
        start = time.perf_counter()
        proc = subprocess.Popen([exe], cwd=work, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    media = ("application/x-www-form-urlencoded" if path.endswith("/token")
                             else "application/json")
                    conn.request(method, path, body=body, headers={"Content-Type": media})
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    conn.close()
                    break
                except OSError:
                    time.sleep(0.0002)
                if time.perf_counter() - start > 10:
                    sys.exit(f"{name} did not answer within 10 s")
            samples.append((time.perf_counter() - start) * 1000)
        finally:
            proc.kill()
            proc.wait()
    size = os.path.getsize(exe) / 1048576
    print(f"{name:<28} {size:>7.2f} MiB {statistics.median(samples):>23.2f} ms"
          f" {min(samples):>6.2f} ms {max(samples):>6.2f} ms {status}")
PY
