#!/usr/bin/env bash
# Benchmarks sign-in and the bearer check on this machine, against the
# release `books serve` with a throwaway secret and one admin account:
#  1. sign-in latency (argon2id verification) over N sequential requests,
#     for the right password, a wrong one and an unknown name (the last two
#     must cost the same), and 8 concurrent sign-ins (at most 4 verify at once);
#  2. the bearer check's cost: wrk on the admin status route with a token
#     against the public health route, both tiny answers.
# Usage: scripts/bench-auth.sh [sign-ins per case, default 40]
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-40}"
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin books
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/books"

password="bench password $RANDOM$RANDOM"
BOOKS_JWT_SECRET="$(head -c 48 /dev/urandom | base64)"
BOOKS_USERS="admin:$(printf %s "$password" | "$bin" hash-password):admin"
export BOOKS_JWT_SECRET BOOKS_USERS
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --addr "127.0.0.1:$port" --scrape-base-url "http://127.0.0.1:9/" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/api/v1/health" >/dev/null && break; sleep 0.05; done

echo "books serve (release) on $(nproc) cores; argon2id m=19456 KiB, t=2, p=1"
token=$(BASE="$base" PW="$password" N="$n" python3 - <<'PY'
import json, os, statistics, sys, time, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor

base, n = os.environ["BASE"], int(os.environ["N"])
def sign_in(user, pw):
    body = json.dumps({"username": user, "password": pw}).encode()
    req = urllib.request.Request(base + "/api/v1/auth/login", data=body,
                                 headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req) as r:
            out = (r.status, r.read())
    except urllib.error.HTTPError as e:
        out = (e.code, e.read())
    return time.perf_counter() - t, out
cases = [("right password", "admin", os.environ["PW"]), ("wrong password", "admin", "nope"),
         ("unknown name", "nobody", "nope")]
times = {c[0]: [] for c in cases}
for _ in range(n):
    for label, user, pw in cases:  # interleaved: load drift hits all alike
        times[label].append(sign_in(user, pw)[0])
print(f"{'sign-in (sequential, n=%d)' % n:<32} {'p50':>8} {'p90':>8} {'max':>8}", file=sys.stderr)
for label, samples in times.items():
    s = sorted(samples)
    print(f"{label:<32} {s[len(s)//2]*1e3:7.1f}ms {s[int(len(s)*0.9)]*1e3:7.1f}ms {s[-1]*1e3:7.1f}ms", file=sys.stderr)
start = time.perf_counter()
with ThreadPoolExecutor(8) as pool:
    results = list(pool.map(lambda _: sign_in("admin", os.environ["PW"]), range(8 * 4)))
wall = time.perf_counter() - start
print(f"32 sign-ins, 8 at a time: {wall:.2f} s, {32 / wall:.1f}/s; all 200: "
      f"{all(r[1][0] == 200 for r in results)}", file=sys.stderr)
print(json.loads(sign_in("admin", os.environ["PW"])[1][1])["access_token"])
PY
)
printf '%-45s %12s %10s %10s\n' 'wrk -t2 -c32 -d5s' 'requests/s' p50 p99
for target in "/api/v1/health" "/api/v1/scraping/status|Authorization: Bearer $token"; do
  path=${target%%|*}
  args=()
  [ "$target" != "$path" ] && args=(-H "${target#*|}")
  out=$(wrk -t2 -c32 -d5s --latency "${args[@]}" "$base$path")
  printf '%-45s %12s %10s %10s\n' "$path" "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
  grep -q "Non-2xx" <<<"$out" && { echo "error: non-2xx answers on $path" >&2; exit 1; }
done
