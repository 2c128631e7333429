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

# Cold start of two functions (the database only, and the model too):
# scripts/bench-functions.sh's measurement, 30 starts each.
BENCH_FUNCTIONS="api-v1-books-id api-v1-ml-predictions" scripts/bench-functions.sh "$bin" 30
