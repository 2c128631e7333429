#!/usr/bin/env bash
# Times a full `books scrape` of the offline mirror (../shared/fixtures/books.toscrape.com)
# served by nginx on a free loopback port, with /usr/bin/time -v (wall, user+sys CPU).
# nginx runs with a private config, pid and logs under a temp dir, and is stopped by PID.
#
#   scripts/bench-scrape.sh            # 3 timed runs (after one warm-up run)
#   RUNS=5 CONCURRENCY=16 scripts/bench-scrape.sh
set -euo pipefail
trap 'echo "bench-scrape.sh: failed at line $LINENO" >&2' ERR

cd "$(dirname "$0")/.."
MIRROR="${MIRROR:-$(cd .. && pwd)/shared/fixtures/books.toscrape.com}"
RUNS="${RUNS:-3}"
CONCURRENCY="${CONCURRENCY:-8}"

if [[ ! -f "$MIRROR/catalogue/page-1.html" ]]; then
    echo "mirror not found: $MIRROR" >&2
    exit 1
fi

need_apt=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx)
[[ -x /usr/bin/time ]] || need_apt+=(time)
if ((${#need_apt[@]})); then
    echo "installing: ${need_apt[*]}" >&2
    apt-get update -qq
    for pkg in "${need_apt[@]}"; do
        if [[ $pkg == nginx ]]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 ||
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
        else
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
        fi
    done
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

tmp="$(mktemp -d)"
nginx_pid=""
cleanup() {
    if [[ -n $nginx_pid ]]; then
        kill "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    types { text/html html; text/css css; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $MIRROR;
    }
}
CONF
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
for _ in $(seq 50); do
    [[ -s $tmp/nginx/nginx.pid ]] && break
    sleep 0.1
done
nginx_pid="$(cat "$tmp/nginx/nginx.pid")"
base="http://127.0.0.1:$port/"
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*version: //') pid $nginx_pid serving $MIRROR at $base"

cargo build --release --quiet --bin books
books="$PWD/target/release/books"

run() {
    local out="$tmp/out-$1"
    /usr/bin/time -v "$books" scrape --quiet --base-url "$base" --out-dir "$out" \
        --concurrency "$CONCURRENCY" 2>"$tmp/time-$1.txt" || {
        cat "$tmp/time-$1.txt" >&2
        exit 1
    }
}

echo "warm-up run (page cache, nginx)"
run warmup
echo "run  wall      user     sys      cpu%   max-rss   crawl    publish  | crawl summary"
for i in $(seq "$RUNS"); do
    run "$i"
    f="$tmp/time-$i.txt"
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$f")"
    user="$(sed -n 's/.*User time (seconds): //p' "$f")"
    sys="$(sed -n 's/.*System time (seconds): //p' "$f")"
    cpu="$(sed -n 's/.*Percent of CPU this job got: //p' "$f")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$f")"
    summary="$(sed -n 's/^scrape: //p' "$f")"
    # The crawl's own clock (the summary's "elapsed"), and the publish step's
    # (CSV, database, validation, renames), which `books scrape` prints.
    crawl="$(sed -n 's/.*elapsed \([0-9.]*s\).*/\1/p' <<<"$summary")"
    publish="$(sed -n 's/.*published in \([0-9.]*\) s.*/\1s/p' "$f")"
    printf '%-4s %-9s %-8s %-8s %-6s %-9s %-8s %-8s | %s\n' "$i" "$wall" "$user" "$sys" "$cpu" "${rss}k" "$crawl" "$publish" "$summary"
done
