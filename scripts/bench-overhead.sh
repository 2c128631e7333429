#!/usr/bin/env bash
# What a change costs per request: two `books` binaries (a baseline and a
# candidate, both release builds) served in turn over the committed data and
# driven by wrk at 32 connections, alternating A, B, A, B... so that drift in
# the machine's load hits both alike. Prints requests/s per round and the
# median of each, and the candidate's change in per cent.
#
# Usage: scripts/bench-overhead.sh BASELINE_BIN CANDIDATE_BIN [seconds per run, default 10] [rounds, default 3]
# The servers inherit the environment (BOOKS_RESPONSE_CACHE_MB=0 measures
# the answers as made, not as kept).
# A baseline from an earlier commit:
#   git worktree add /tmp/base <commit> && (cd /tmp/base && cargo build --release --bin books)
#   scripts/bench-overhead.sh /tmp/base/target/release/books target/release/books
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
baseline="$1"
candidate="$2"
duration="${3:-10}"
rounds="${4:-3}"
connections=32
db="$PWD/data/books.db"
# BENCH_PATHS (space-separated) replaces the endpoints measured.
read -r -a paths <<<"${BENCH_PATHS:-/api/v1/books/42 /api/v1/books?page=3&per_page=20 /api/v1/stats/overview}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT

# Prints requests/s of `bin` on `path`.
run() {
  local bin="$1" path="$2" port
  port=$(free_port)
  "$bin" serve --addr "127.0.0.1:$port" --db "$db" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.05; done
  # A warm-up second, then the measured run.
  wrk -t2 -c"$connections" -d1s "http://127.0.0.1:$port$path" >/dev/null
  wrk -t2 -c"$connections" -d"${duration}s" "http://127.0.0.1:$port$path" | awk '/^Requests\/sec/ {print $2}'
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "baseline:  $baseline"
echo "candidate: $candidate"
echo "$(nproc) cores; wrk -t2 -c$connections -d${duration}s; $rounds alternating rounds; request logs to /dev/null"
printf '%-36s %-10s %s\n' endpoint binary 'requests/s per round -> median'
for path in "${paths[@]}"; do
  a=() b=()
  for _ in $(seq "$rounds"); do
    a+=("$(run "$baseline" "$path")")
    b+=("$(run "$candidate" "$path")")
  done
  ma=$(printf '%s\n' "${a[@]}" | median)
  mb=$(printf '%s\n' "${b[@]}" | median)
  printf '%-36s %-10s %s -> %s\n' "$path" baseline "${a[*]}" "$ma"
  printf '%-36s %-10s %s -> %s\n' "" candidate "${b[*]}" "$mb"
  awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%-36s change: %+.1f %%\n", "", (b - a) / a * 100 }'
done
