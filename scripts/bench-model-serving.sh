#!/usr/bin/env bash
# Measures what orchestrator mode costs against phase 1, on loopback:
#  1. how long `mlflow models serve --env-manager local` takes from start to
#     its first healthy /ping (three starts);
#  2. POST /api/v1/ml/predictions latency (p50, p99) with 1 and with 100
#     instances (catalogue titles and descriptions), one connection at a time
#     (wrk -t1 -c1): `books serve` with the model file (phase 1) against
#     `books serve` with BOOKS_MODEL_SERVING_URL (phase 2), alternating.
# Needs the MLflow environment (scripts/mlflow/setup.sh) and wrk.
# Usage: scripts/bench-model-serving.sh [seconds per measurement, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
repo="$PWD"
env_dir="$repo/.tools/mlflow"
db="$PWD/data/books.db"
[ -x "$env_dir/bin/mlflow" ] || { echo "run scripts/mlflow/setup.sh first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet --bin books
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/books"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1200); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; return 1; }

echo "== logging the model to a scratch tracking store"
export MLFLOW_TRACKING_URI="sqlite:///$work/mlflow.db"
model_uri=$(cd "$work" && "$env_dir/bin/python" "$repo/scripts/mlflow/log_model.py" \
  --model "$repo/data/model.json" --register book-category 2>/dev/null |
  tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["serve_uri"])')

echo "== mlflow models serve: start to first healthy /ping"
start_server() {
  (cd "$work" && PATH="$env_dir/bin:$PATH" exec setsid "$env_dir/bin/mlflow" models serve \
    -m "$model_uri" --env-manager local --host 127.0.0.1 --port "$1" >"$work/serve.log" 2>&1) &
  pids+=($!)
}
for run in 1 2 3; do
  port=$(free_port)
  started=$(date +%s.%N)
  start_server "$port"
  wait_for "http://127.0.0.1:$port/ping"
  printf 'run %d: %.2f s\n' "$run" "$(echo "$(date +%s.%N) - $started" | bc)"
  if [ "$run" -lt 3 ]; then kill -- "-${pids[-1]}"; unset 'pids[-1]'; sleep 1; fi
done
mlflow_url="http://127.0.0.1:$port"

phase1=$(free_port)
phase2=$(free_port)
"$bin" serve --addr "127.0.0.1:$phase1" --db "$db" >/dev/null 2>&1 &
pids+=($!)
BOOKS_MODEL_SERVING_URL="$mlflow_url" "$bin" serve --addr "127.0.0.1:$phase2" --db "$db" >/dev/null 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$phase1/api/v1/health"
wait_for "http://127.0.0.1:$phase2/api/v1/health"

# Request bodies: the first 1 and 100 catalogue books as free-text instances.
curl -sf "http://127.0.0.1:$phase1/api/v1/ml/training-data?columns=title,description" >"$work/books.json"
for n in 1 100; do
  python3 - "$work/books.json" "$n" >"$work/body-$n.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"][: int(sys.argv[2])]
print(json.dumps({"instances": [{"title": b["title"], "description": b["description"]} for b in items]}))
PY
  cat >"$work/post-$n.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body-$n.json", "r")
wrk.body = f:read("*a")
f:close()
LUA
done

echo "== POST /api/v1/ml/predictions, wrk -t1 -c1 -d${duration}s, alternating (two rounds)"
printf '%-10s %-22s %10s %10s %10s\n' instances mode 'requests/s' p50 p99
for round in 1 2; do
  for n in 1 100; do
    for mode in phase1 phase2; do
      port=${!mode}
      label=$([ "$mode" = phase1 ] && echo "model file (phase 1)" || echo "MLflow (phase 2)")
      out=$(wrk -t1 -c1 -d"${duration}s" --latency -s "$work/post-$n.lua" \
        "http://127.0.0.1:$port/api/v1/ml/predictions")
      if grep -q "Non-2xx" <<<"$out"; then echo "errors: $out" >&2; exit 1; fi
      printf '%-10s %-22s %10s %10s %10s\n' "$n" "$label" \
        "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1=="50%" {print $2}' <<<"$out")" \
        "$(awk '$1=="99%" {print $2}' <<<"$out")"
    done
  done
  [ "$round" = 1 ] && echo "-- round 2"
done
