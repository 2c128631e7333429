#!/usr/bin/env bash
# Benchmarks the API on this machine:
#  1. `books serve` (release) under wrk at 32 connections on four endpoints:
#     requests/s and p50/p99 latency;
#  2. the cold start of two Vercel function binaries, process start to the
#     first 200 response over repeated runs: /books/{id} (the database only)
#     and /ml/predictions (the database and the model file, loaded at start).
# Usage: scripts/bench-api.sh [seconds per endpoint, default 10]
# Environment: CARGO_TARGET_DIR (and CARGO_PROFILE_RELEASE_*) choose the build
# measured, as scripts/bench-profiles.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
connections=32
db="$PWD/data/books.db"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --quiet --bins
bin="${CARGO_TARGET_DIR:-$PWD/target}/release"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

port=$(free_port)
"$bin/books" serve --addr "127.0.0.1:$port" --db "$db" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.05; done

echo "books serve on $(nproc) cores; wrk -t2 -c$connections -d${duration}s; request logs to /dev/null"
printf '%-45s %12s %10s %10s\n' endpoint 'requests/s' p50 p99
for path in /api/v1/books/42 '/api/v1/books?page=3&per_page=20' '/api/v1/books/search?title=light' /api/v1/stats/overview; do
  out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port$path")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
  printf '%-45s %12s %10s %10s %s\n' "$path" "$rps" "$p50" "$p99" "$errors"
done
kill "$server" 2>/dev/null || true

# Cold start: a deployed function's layout (data/ beside its working
# directory), VERCEL_DEV_PORT set, polled every 0.2 ms until the first 200.
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/data" && cp "$db" "$PWD/data/model.json" "$PWD/data/model.bin" "$work/data/"
python3 - "$bin" "$work" <<'PY'
import http.client, os, socket, statistics, subprocess, sys, time
bin_dir, work = sys.argv[1], sys.argv[2]
functions = [
    ("api-v1-books-id", "GET", "/api/v1/books/42?id=42", None),
    ("api-v1-ml-predictions", "POST", "/api/v1/ml/predictions", b'{"book_ids":[42]}'),
]
for name, method, path, body in functions:
    samples = []
    for _ in range(30):
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        env = {k: v for k, v in os.environ.items() if k not in ("BOOKS_DB", "BOOKS_MODEL", "VERCEL_IPC_PATH")}
        env["VERCEL_DEV_PORT"] = str(port)
        start = time.perf_counter()
        proc = subprocess.Popen([f"{bin_dir}/{name}"], cwd=work, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
                    status = conn.getresponse().status
                    conn.close()
                    if status == 200:
                        break
                except OSError:
                    time.sleep(0.0002)
                if time.perf_counter() - start > 10:
                    sys.exit(f"{name} did not answer within 10 s")
            samples.append((time.perf_counter() - start) * 1000)
        finally:
            proc.kill(); proc.wait()
    samples.sort()
    print(f"cold start of {name} (process start to first 200, {len(samples)} runs): "
          f"median {statistics.median(samples):.2f} ms, min {samples[0]:.2f} ms, max {samples[-1]:.2f} ms")
PY
