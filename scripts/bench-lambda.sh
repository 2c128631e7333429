#!/usr/bin/env bash
# Cold and warm starts of the Lambda function in cargo-lambda's emulator:
# for each run, starts `books-lambda` (from a directory laid out like the
# zip) against the emulator and times one invoke of the health event from
# just before the process starts to its answer (the cold start: process
# start, database and model opened, first event), then, with curl's timer, a
# second invoke (warm). Prints each run and the medians.
#
# Usage: scripts/bench-lambda.sh [runs] (default 20)
# Environment: BOOKS_LAMBDA_BIN (default: the host release build,
# $CARGO_TARGET_DIR or target, /release/books-lambda; build it with
# `cargo build --release --bin books-lambda`),
# BOOKS_LAMBDA_PORT (default 9400).
set -euo pipefail

runs=${1:-20}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bin=${BOOKS_LAMBDA_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/books-lambda}
port=${BOOKS_LAMBDA_PORT:-9400}
[ -x "$bin" ] || { echo "error: no executable at $bin" >&2; exit 1; }
# Only the tools: a host build needs no other Rust target.
tools=$(BOOKS_LAMBDA_ARCH=x86_64 scripts/lambda/setup.sh)

work=$(mktemp -d)
emulator=
function=
cleanup() {
    [ -z "$function" ] || kill "$function" 2>/dev/null || true
    [ -z "$emulator" ] || kill "$emulator" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/zip/data"
cp data/books.db data/model.json data/model.bin "$work/zip/data/"
python3 - tests/fixtures/lambda/function-url-health.json >"$work/event.json" <<'PY'
import json, sys
print(json.dumps(json.load(open(sys.argv[1]))))
PY

"$tools/cargo-lambda" lambda watch --only-lambda-apis --ignore-changes --disable-cors --timeout 30 \
    --invoke-address 127.0.0.1 --invoke-port "$port" >"$work/emulator.log" 2>&1 &
emulator=$!
# (A connection, not a request: the emulator takes any path as an invoke
# and would wait for a function.)
for _ in $(seq 100); do
    (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

url="http://127.0.0.1:$port/2015-03-31/functions/books-lambda/invocations"
invoke() {
    curl -s -o "$work/answer.json" -w '%{time_total}' --max-time 30 \
        -H 'content-type: application/json' --data-binary "@$work/event.json" "$url"
}
echo "run  cold_ms  warm_ms   ($bin, $(stat -c %s "$bin") bytes)"
: >"$work/cold"
: >"$work/warm"
for run in $(seq "$runs"); do
    # The clock starts before the process does (curl's own timer would
    # start after it, while the function is already opening its files).
    started=$(date +%s%N)
    (cd "$work/zip" &&
        exec env AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt/books-lambda" \
            AWS_LAMBDA_FUNCTION_NAME=books-lambda AWS_LAMBDA_FUNCTION_VERSION=1 \
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 "$bin" >/dev/null 2>&1) &
    function=$!
    invoke >/dev/null
    cold=$((($(date +%s%N) - started) / 1000))e-6
    grep -q '"statusCode":200' "$work/answer.json" || { echo "error: $(cat "$work/answer.json")" >&2; exit 1; }
    warm=$(invoke)
    kill "$function"
    wait "$function" 2>/dev/null || true
    function=
    awk -v r="$run" -v c="$cold" -v w="$warm" 'BEGIN { printf "%3d  %7.1f  %7.1f\n", r, c * 1000, w * 1000 }'
    echo "$cold" >>"$work/cold"
    echo "$warm" >>"$work/warm"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m * 1000 }'; }
echo "median cold start (process start to first answer): $(median "$work/cold") ms; warm invoke: $(median "$work/warm") ms"
