#!/usr/bin/env bash
# Measures `books usage-report` (release build) on large generated logs:
# throughput and peak RSS (/usr/bin/time -v), at SIZE_MB/8 and at SIZE_MB,
# to show that memory stays flat whatever the log's size.
#
# The log is made by awk: a block of ~16 MiB of varied lines (our request
# lines, Vercel Log Drain entries, `vercel logs --json` lines with a
# function prefix, plain text and other events; 20,000 distinct search
# terms, durations up to 300 ms, 5xx answers, a week of timestamps),
# repeated to the size asked for. It is deleted afterwards (KEEP=1 keeps it).
#
#   scripts/bench-usage-report.sh              # 1024 MiB
#   SIZE_MB=256 scripts/bench-usage-report.sh
set -euo pipefail
trap 'echo "bench-usage-report.sh: failed at line $LINENO" >&2' ERR

cd "$(dirname "$0")/.."
SIZE_MB="${SIZE_MB:-1024}"
KEEP="${KEEP:-0}"

if [[ ! -x /usr/bin/time ]]; then
    echo "installing: time" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi

echo "== building (release)" >&2
cargo build --release --locked --quiet --bin books
BIN="${CARGO_TARGET_DIR:-target}/release/books"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench-usage-report.XXXXXX")"
cleanup() {
    if [[ $KEEP == 1 ]]; then
        echo "kept: $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

echo "== generating a ${SIZE_MB} MiB log" >&2
awk -v lines=64000 '
function ts(i,    s, day, h, m) {
    s = i * 9                                   # a week of 9 s steps
    day = 1 + int(s / 86400); s %= 86400
    h = int(s / 3600); m = int((s % 3600) / 60)
    return sprintf("2026-12-%02dT%02d:%02d:%02d.%06dZ", day, h, m, s % 60, (i * 7919) % 1000000)
}
function request(i,    kind, route, path, query, status, level, line) {
    kind = i % 7
    query = ""
    if (kind == 0)      { route = "/api/v1/books/{id}"; path = "/api/v1/books/" (i % 1000 + 1) }
    else if (kind == 1) { route = "/api/v1/books/search"; path = route
                          query = "q=term+" (i % 20000) "&page=" (i % 3 + 1) }
    else if (kind == 2) { route = "/api/v1/books"; path = route; query = "category=cat-" (i % 50) }
    else if (kind == 3) { route = "/api/v1/health"; path = route }
    else if (kind == 4) { route = "/api/v1/books/top-rated"; path = route; query = "category=Travel" }
    else if (kind == 5) { route = ""; path = "/docs" }
    else                { route = "/api/v1/stats/overview"; path = route }
    status = 200
    if (i % 9 == 0) status = 304
    if (i % 31 == 0) status = 404
    if (i % 211 == 0) status = 503
    level = status >= 500 ? "error" : "info"
    line = "{\"ts\":\"" ts(i) "\",\"level\":\"" level "\",\"event\":\"request\",\"request_id\":\"" \
        sprintf("%08x-%04x", i * 2654435761 % 4294967296, i % 65536) "\",\"method\":\"GET\",\"path\":\"" \
        path "\",\"query\":\"" query "\""
    if (route != "") line = line ",\"route\":\"" route "\""
    return line ",\"status\":" status ",\"duration_us\":" ((i * 7919) % 300000 + 50) \
        ",\"bytes\":" (i % 5000 + 200) "}"
}
BEGIN {
    for (i = 1; i <= lines; i++) {
        kind = i % 20
        if (kind <= 13) { print request(i) }
        else if (kind <= 16) {
            inner = request(i); gsub(/"/, "\\\"", inner)
            printf "{\"id\":\"%d\",\"message\":\"%s\\n\",\"timestamp\":%d,\"type\":\"stdout\",\"source\":\"lambda\",\"projectId\":\"prj_bench\",\"deploymentId\":\"dpl_bench\",\"host\":\"books.vercel.app\",\"path\":\"/api/v1\",\"statusCode\":200,\"proxy\":{\"method\":\"GET\",\"path\":\"/api/v1\",\"statusCode\":200,\"vercelCache\":\"MISS\"}}\n", i, inner, 1796083200000 + i * 9000
        }
        else if (kind == 17) {
            inner = request(i); gsub(/"/, "\\\"", inner)
            printf "{\"level\":\"info\",\"message\":\"[api-v1-books] %s\",\"timestampInMs\":%d,\"requestPath\":\"/api/v1/books\",\"requestMethod\":\"GET\",\"responseStatusCode\":200}\n", inner, 1796083200000 + i * 9000
        }
        else if (kind == 18) { print "START RequestId: " i " Version: $LATEST" }
        else { print "{\"ts\":\"" ts(i) "\",\"level\":\"info\",\"event\":\"scrape_finished\",\"books\":1000}" }
    }
}' >"$tmp/block.log"

block_bytes="$(stat -c %s "$tmp/block.log")"
target_bytes=$((SIZE_MB * 1024 * 1024))
reps=$(((target_bytes + block_bytes - 1) / block_bytes))
small_reps=$(((reps + 7) / 8))
for ((i = 0; i < small_reps; i++)); do cat "$tmp/block.log"; done >"$tmp/small.log"
for ((i = 0; i < reps; i++)); do cat "$tmp/block.log"; done >"$tmp/big.log"

# Runs the report on $1; prints size, wall time, throughput and peak RSS.
measure() {
    local log="$1" bytes seconds rss
    bytes="$(stat -c %s "$log")"
    /usr/bin/time -v "$BIN" usage-report "$log" --html "$tmp/report.html" \
        >"$tmp/summary.txt" 2>"$tmp/time.txt"
    seconds="$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, t, ":"); s = 0
        for (k = 1; k <= n; k++) s = s * 60 + t[k]
        print s }' "$tmp/time.txt")"
    rss="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.txt")"
    awk -v b="$bytes" -v s="$seconds" -v r="$rss" 'BEGIN {
        printf "%8.1f MiB in %6.2f s: %6.1f MiB/s, peak RSS %.1f MiB\n",
            b / 1048576, s, b / 1048576 / s, r / 1024 }'
}

echo "== usage-report"
measure "$tmp/small.log"
measure "$tmp/big.log"
echo "== summary of the last run"
sed -n '1,12p' "$tmp/summary.txt"
