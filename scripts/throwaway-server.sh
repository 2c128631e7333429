# shellcheck shell=bash
# Sourced by scripts/schemathesis/run.sh and scripts/clients/run.sh: starts
# a release `books serve` over a copy of the committed data, on a free
# loopback port, with a throwaway secret and admin account, and its scrape
# trigger pointed at a port where nothing listens (a triggered scrape fails
# at once and publishes nothing). Stopped, and its copy removed, on exit.
#
#   start_throwaway_server ACCOUNT
# sets BOOKS_URL, BOOKS_USER and BOOKS_PASSWORD (exported), and `work`, the
# directory holding the copy and serve.log. BOOKS_BIN: a release `books`
# already built (.ci/run's); else one is built.
start_throwaway_server() {
  local bin=${BOOKS_BIN:-}
  if [ -z "$bin" ]; then
    cargo build --release --locked --quiet --bin books
    bin="${CARGO_TARGET_DIR:-$PWD/target}/release/books"
  fi
  work=$(mktemp -d)
  server=""
  trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
  cp data/books.db data/model.json data/model.bin "$work/"

  BOOKS_USER=$1
  BOOKS_PASSWORD="$1-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
  local hash port
  hash=$(printf %s "$BOOKS_PASSWORD" | "$bin" hash-password)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  BOOKS_JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" \
  BOOKS_USERS="$BOOKS_USER:$hash:admin" \
    "$bin" serve --addr "127.0.0.1:$port" --db "$work/books.db" \
    --scrape-base-url http://127.0.0.1:9/ >"$work/serve.log" 2>&1 &
  server=$!
  export BOOKS_URL="http://127.0.0.1:$port" BOOKS_USER BOOKS_PASSWORD
  for _ in $(seq 200); do curl -sf "$BOOKS_URL/api/v1/health" >/dev/null && break; sleep 0.05; done
  curl -sf "$BOOKS_URL/api/v1/health" >/dev/null || {
    cat "$work/serve.log"
    echo "error: books serve did not answer at $BOOKS_URL (its log above)" >&2
    exit 1
  }
}
