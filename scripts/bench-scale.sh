#!/usr/bin/env bash
# Measures the design at scale on synthetic catalogues (`books synth`, drawn
# from data/books.csv) of N books, for each N given (default 10k, 100k, 1M):
#  1. synth time and CSV size;
#  2. `books build-db --timings`: time per phase, database size;
#  3. cold start of a Vercel function binary (api-v1-books-id), process
#     start to the first 200, with data/books.db in its working directory;
#  4. the similar books alone (examples/neighbours_scale): their time, and
#     the share of the exact top 5 they keep over an evenly spread sample
#     of NEIGHBOUR_SAMPLE books (and the summed score's ratio to the exact);
#  5. p50/p99 of each main read endpoint in-process (examples/scale_latency:
#     the app's tower service, no socket) and over HTTP (`books serve` under
#     wrk -t2 -c32, as scripts/bench-api.sh). Both with the response cache
#     off (BOOKS_RESPONSE_CACHE_MB=0), so every request reaches SQLite.
# Writes docs/bench/scale-build.csv, docs/bench/scale-neighbours.csv and
# docs/bench/scale-latency.csv, then
# draws docs/scale.svg (scripts/scale-chart.py).
#
# Usage: scripts/bench-scale.sh [N...]
# Environment:
#   WRK_SECONDS      wrk duration per endpoint (default 5)
#   SIMILAR_MAX_N    largest N whose build computes the similar books
#                    (default: every N); larger builds use --without-similar
#                    and /similar is not measured for them
#   NEIGHBOUR_SAMPLE books whose exact lists the neighbours are compared
#                    with (default 100; about 0.2 s each at 1M)
#   SCALE_WORK       where the catalogues are built (default
#                    $CARGO_TARGET_DIR/scale); each N's files are deleted
#                    after its measurements unless KEEP=1
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then sizes=("$@"); else sizes=(10000 100000 1000000); fi
wrk_seconds="${WRK_SECONDS:-5}"
similar_max="${SIMILAR_MAX_N:-1000000000}"
neighbour_sample="${NEIGHBOUR_SAMPLE:-100}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
work_root="${SCALE_WORK:-$target/scale}"
seed=1
out_dir=docs/bench
build_csv="$out_dir/scale-build.csv"
latency_csv="$out_dir/scale-latency.csv"
neighbours_csv="$out_dir/scale-neighbours.csv"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --quiet --bin books --bin api-v1-books-id --example scale_latency --example neighbours_scale
bin="$target/release"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk's latency ("812.00us", "1.20ms", "2.01s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

mkdir -p "$out_dir" "$work_root"
run="$(date -u +%Y-%m-%dT%H:%MZ) $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src examples || echo +dirty) $(nproc) cores"
echo "n,run,synth_s,csv_bytes,db_bytes,similar,read_csv_s,sort_hash_s,insert_s,fts_s,trigram_s,similar_s,analyze_s,vacuum_s,build_total_s,cold_start_median_ms,cold_start_p90_ms" >"$build_csv"
echo "n,endpoint,path,mode,requests,p50_ms,p99_ms,requests_per_s" >"$latency_csv"
echo "n,run,index_s,neighbours_s,sample,top5_kept,top5_score_ratio" >"$neighbours_csv"

server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work_root"; fi
}
trap cleanup EXIT

for n in "${sizes[@]}"; do
  # ~1.7 KB of CSV and ~4.2 KB of database per book, and VACUUM's copy and
  # journal on top: skip an N the disk cannot hold, keeping 4 GB for others.
  need_kb=$((n * 14 + 4 * 1024 * 1024))
  avail_kb=$(df --output=avail -k "$work_root" | tail -1)
  if [ "$avail_kb" -lt "$need_kb" ]; then
    echo "skipping N=$n: needs about $((need_kb / 1024 / 1024)) GB free, $((avail_kb / 1024 / 1024)) GB are" >&2
    continue
  fi
  work="$work_root/$n"
  rm -rf "$work" && mkdir -p "$work/data"
  csv="$work/books.csv"
  db="$work/data/books.db"
  echo "== N=$n: df $(df -h --output=avail "$work_root" | tail -1 | tr -d ' ') free" >&2

  synth_log=$("$bin/books" synth --books "$n" --seed "$seed" --out "$csv" 2>&1)
  echo "$synth_log" >&2
  synth_s=$(sed -E 's/.* in ([0-9.]+) s$/\1/' <<<"$synth_log")

  similar=computed
  flags=()
  if [ "$n" -gt "$similar_max" ]; then similar=skipped; flags=(--without-similar); fi
  build_log=$("$bin/books" build-db --csv "$csv" --db "$db" --timings \
    --scraped-at 2026-12-01T00:00:00Z --source https://books.toscrape.com/ --reported-total "$n" \
    "${flags[@]}" 2>&1)
  echo "$build_log" >&2
  timings=$(grep '^timings:' <<<"$build_log")
  phase() { sed -E "s/.*$1 ([0-9.]+) s.*/\1/" <<<"$timings"; }
  if [ "$similar" = computed ]; then similar_s=$(phase 'similar books'); else similar_s=""; fi
  build_row="$n,$run,$synth_s,$(stat -c %s "$csv"),$(stat -c %s "$db"),$similar,$(phase 'read csv'),$(phase 'sort and hash'),$(phase 'insert'),$(phase 'fts index'),$(phase 'trigram index'),$similar_s,$(phase 'analyze and commit'),$(phase 'vacuum'),$(phase 'total')"
  if [ "$similar" = computed ]; then
    quality=$("$bin/examples/neighbours_scale" "$csv" "$neighbour_sample")
    echo "neighbours: $quality" >&2
    field() { sed -E "s/.*$1=([0-9.]+).*/\1/" <<<"$quality"; }
    echo "$n,$run,$(field index_s),$(field neighbours_s),$(field sample),$(field top5_kept),$(field top5_score_ratio)" >>"$neighbours_csv"
  fi
  rm -f "$csv"

  # Cold start, as scripts/bench-api.sh measures it. The file is in the
  # page cache (just built): this is process start, open and first query,
  # not fetching a bundle from storage.
  id=$((n / 2))
  cold=$(python3 - "$bin/api-v1-books-id" "$work" "$id" <<'PY'
import http.client, os, socket, statistics, subprocess, sys, time
exe, work, book = sys.argv[1], sys.argv[2], sys.argv[3]
samples = []
for _ in range(20):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    env = {k: v for k, v in os.environ.items() if k not in ("BOOKS_DB", "BOOKS_MODEL", "VERCEL_IPC_PATH")}
    env["VERCEL_DEV_PORT"] = str(port)
    start = time.perf_counter()
    proc = subprocess.Popen([exe], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", f"/api/v1/books/{book}?id={book}")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    break
                sys.exit(f"the function answered {status}")
            except OSError:
                time.sleep(0.0002)
            if time.perf_counter() - start > 30:
                sys.exit("the function did not answer within 30 s")
        samples.append((time.perf_counter() - start) * 1000)
    finally:
        proc.kill(); proc.wait()
samples.sort()
print(f"{statistics.median(samples):.2f},{samples[int(len(samples) * 0.9) - 1]:.2f}")
PY
)
  echo "$build_row,$cold" >>"$build_csv"
  echo "cold start median,p90 (ms): $cold" >&2

  # name|path: the main read endpoints; a deep page is the last one.
  endpoints=(
    "book|/api/v1/books/$id"
    "list page 3|/api/v1/books?page=3"
    "list last page|/api/v1/books?page=$((n / 20))"
    "title search|/api/v1/books/search?title=light"
    "full-text search|/api/v1/books/search?q=love"
    "top rated|/api/v1/books/top-rated"
    "price range|/api/v1/books/price-range?min_price=20&max_price=30"
    "categories|/api/v1/categories"
    "stats overview|/api/v1/stats/overview"
  )
  if [ "$similar" = computed ]; then endpoints+=("similar|/api/v1/books/$id/similar"); fi

  paths=()
  for e in "${endpoints[@]}"; do paths+=("${e#*|}"); done
  in_process=$(BOOKS_RESPONSE_CACHE_MB=0 "$bin/examples/scale_latency" "$db" "${paths[@]}")
  echo "$in_process" >&2
  for e in "${endpoints[@]}"; do
    name="${e%%|*}" path="${e#*|}"
    line=$(awk -F, -v p="$path" '$1 == p' <<<"$in_process")
    IFS=, read -r _ requests p50 p99 <<<"$line"
    printf '%s,%s,"%s",in-process,%s,%.3f,%.3f,\n' "$n" "$name" "$path" "$requests" \
      "$(awk -v v="$p50" 'BEGIN{print v/1000}')" "$(awk -v v="$p99" 'BEGIN{print v/1000}')" >>"$latency_csv"
  done

  for e in "${endpoints[@]}"; do
    name="${e%%|*}" path="${e#*|}"
    # A fresh server per endpoint: at 1M the slow searches still queued
    # when wrk stops would otherwise be measured as the next endpoint's.
    port=$(free_port)
    BOOKS_RESPONSE_CACHE_MB=0 "$bin/books" serve --addr "127.0.0.1:$port" --db "$db" >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.05; done
    out=$(wrk -t2 -c32 -d"${wrk_seconds}s" --timeout 30s --latency "http://127.0.0.1:$port$path")
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
      echo "error: $path: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2
      exit 1
    fi
    kill "$server" && wait "$server" 2>/dev/null || true
    server=""
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    if [ "${requests:-0}" -eq 0 ]; then
      echo "http $path: no request completed in ${wrk_seconds}s; not recorded" >&2
      continue
    fi
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
    printf '%s,%s,"%s",http,%s,%s,%s,%s\n' "$n" "$name" "$path" "$requests" "$p50" "$p99" "$rps" >>"$latency_csv"
    printf 'http %-55s %10s req/s  p50 %8s ms  p99 %8s ms\n' "$path" "$rps" "$p50" "$p99" >&2
  done
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
done

python3 scripts/scale-chart.py "$build_csv" "$latency_csv" docs/scale.svg
echo "wrote $build_csv, $neighbours_csv, $latency_csv and docs/scale.svg" >&2
