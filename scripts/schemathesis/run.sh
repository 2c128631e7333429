#!/usr/bin/env bash
# Runs schemathesis (pinned, into .tools/schemathesis) against `books serve`
# (release build) over a copy of the committed data, from the OpenAPI
# document the server itself serves: every check, positive and negative
# data, every phase including the stateful one, for every operation; the
# rules OpenAPI cannot state are forgiven by one custom check
# (scripts/schemathesis/hooks.py, listed in schemathesis.toml). Seeded and
# bounded. Authentication is configured with a throwaway secret and admin,
# whose token every request carries; the scrape trigger scrapes a port where
# nothing listens, so a triggered scrape fails at once and publishes nothing.
#
#   scripts/schemathesis/run.sh [max examples per operation, default 60]
set -euo pipefail
cd "$(dirname "$0")/../.."

version=4.32.0
examples="${1:-60}"
seed="${ST_SEED:-20261202}"
env_dir=.tools/schemathesis
if [ "$("$env_dir/bin/st" --version 2>/dev/null)" != "st, version $version" ]; then
  echo "== installing schemathesis $version into $env_dir"
  rm -rf "$env_dir"
  python3 -m venv "$env_dir"
  "$env_dir/bin/python" -m pip install --quiet --disable-pip-version-check \
    --only-binary ':all:' "schemathesis==$version"
fi

# BOOKS_TOOLS_ONLY=1: install schemathesis and stop.
[ -z "${BOOKS_TOOLS_ONLY:-}" ] || exit 0

# shellcheck source=scripts/throwaway-server.sh
. scripts/throwaway-server.sh
start_throwaway_server st
token=$(curl -sf "$BOOKS_URL/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"$BOOKS_USER\",\"password\":\"$BOOKS_PASSWORD\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "== schemathesis $version: seed $seed, at most $examples examples per operation"
status=0
SCHEMATHESIS_HOOKS=scripts/schemathesis/hooks.py \
  "$env_dir/bin/st" --config-file scripts/schemathesis/schemathesis.toml run \
  "$BOOKS_URL/api/v1/openapi.json" \
  --max-examples "$examples" --seed "$seed" --workers 1 \
  --header "Authorization: Bearer $token" \
  --report junit --report-dir target/schemathesis --no-color || status=$?
if grep -q '"status":5[0-9][0-9]' "$work/serve.log"; then
  echo "the server logged a 5xx:" >&2
  grep '"status":5[0-9][0-9]' "$work/serve.log" | head -5 >&2
  status=1
fi
exit "$status"
