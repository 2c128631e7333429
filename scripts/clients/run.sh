#!/usr/bin/env bash
# Generates clients from the OpenAPI document that `books serve` serves, and
# calls every operation with them against that server:
#   - Python: openapi-python-client, as generated (no hand edits), into
#     target/clients/python/books_api_client: every module must import, every
#     model must be a schema of components/schemas (no names the generator
#     made up for an inline schema), then examples/python runs on it;
#   - TypeScript: openapi-typescript's types in
#     target/clients/typescript/schema.d.ts, with openapi-fetch:
#     examples/typescript is type-checked (tsc --strict), compiled into
#     target/clients/typescript/js and run with node.
# Nothing generated is committed. The server runs over a copy of the
# committed data, with a throwaway secret and admin account (passed to the
# examples as BOOKS_URL, BOOKS_USER and BOOKS_PASSWORD), and its scrape
# trigger scrapes a port where nothing listens, so a triggered scrape fails
# at once and publishes nothing (as scripts/schemathesis/run.sh does).
# The tools: scripts/clients/setup.sh (pinned; run first, a no-op when done).
#
#   scripts/clients/run.sh
# Environment: BOOKS_BIN, a release `books` already built (.ci/run's); else
# one is built.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

scripts/clients/setup.sh
python_env=$PWD/.tools/clients/python
node_modules=$PWD/examples/typescript/node_modules
out=target/clients

# --- the server ------------------------------------------------------------------
# shellcheck source=scripts/throwaway-server.sh
. scripts/throwaway-server.sh
start_throwaway_server clients

rm -rf "$out"
mkdir -p "$out/typescript"
curl -sSf "$BOOKS_URL/api/v1/openapi.json" -o "$out/openapi.json"
echo "== the OpenAPI document: $out/openapi.json (from $BOOKS_URL)"

# --- Python ------------------------------------------------------------------------
# ruff on PATH: the generator formats its output with it, and warns without.
echo "== openapi-python-client generate"
PATH="$python_env/bin:$PATH" "$python_env/bin/openapi-python-client" generate \
  --path "$out/openapi.json" --output-path "$out/python/books_api_client" --meta none \
  >"$work/generate.log" 2>&1 || { cat "$work/generate.log"; echo "error: the Python generator failed" >&2; exit 1; }
# It says "Generating <path>" and nothing else when all went well: any other
# line is a warning (a skipped operation or schema, a failed ruff run).
# (Colours stripped; grep without -q reads all: no SIGPIPE under pipefail.)
plain() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
if plain "$work/generate.log" | grep -v '^Generating ' | grep '[^[:space:]]' >/dev/null; then
  cat "$work/generate.log"
  echo "error: openapi-python-client warned (above): the document must generate cleanly" >&2
  exit 1
fi
"$python_env/bin/python" scripts/clients/check_python_client.py "$out/python/books_api_client" "$out/openapi.json"

echo "== examples/python/call_every_operation.py"
python_started=$SECONDS
PYTHONPATH="$PWD/$out/python" "$python_env/bin/python" examples/python/call_every_operation.py |
  tee "$work/python.log"
python_took=$((SECONDS - python_started))

# --- TypeScript --------------------------------------------------------------------
echo "== openapi-typescript"
"$node_modules/.bin/openapi-typescript" "$out/openapi.json" -o "$out/typescript/schema.d.ts" \
  >"$work/typescript.log" 2>&1 || { cat "$work/typescript.log"; echo "error: openapi-typescript failed" >&2; exit 1; }
# Its two lines are the banner and the path written; anything else is a
# warning.
if plain "$work/typescript.log" | grep -v -e '^✨ openapi-typescript' -e '^🚀 ' | grep '[^[:space:]]' >/dev/null; then
  cat "$work/typescript.log"
  echo "error: openapi-typescript warned (above): the document must generate cleanly" >&2
  exit 1
fi
# One tsc run type-checks (strict, the generated declarations included) and
# compiles: it emits nothing unless the example type-checks (noEmitOnError).
echo "== tsc --strict (examples/typescript over $out/typescript/schema.d.ts)"
"$node_modules/.bin/tsc" -p examples/typescript --strict --noEmitOnError --outDir "$out/typescript/js"
# The compiled example is an ES module (as examples/typescript/package.json
# says for the source) that imports openapi-fetch from
# examples/typescript/node_modules.
echo '{"type": "module"}' >"$out/typescript/js/package.json"
ln -s "$node_modules" "$out/typescript/js/node_modules"
echo "== examples/typescript/src/call_every_operation.ts (compiled, with node)"
typescript_started=$SECONDS
node "$out/typescript/js/call_every_operation.js" | tee "$work/typescript-run.log"
typescript_took=$((SECONDS - typescript_started))

# No answer was a 5xx (the scrape's own failure, nothing listening on port
# 9, shows only in its status).
if grep -q '"status":5[0-9][0-9]' "$work/serve.log"; then
  echo "error: the server logged a 5xx:" >&2
  grep '"status":5[0-9][0-9]' "$work/serve.log" | head -5 >&2
  exit 1
fi

# (.ci/run shows its log's lines that start with "==".)
echo "== generated clients against books serve: $((SECONDS - started))s in all"
echo "== python: $(tail -n 1 "$work/python.log") (${python_took}s)"
echo "== typescript: $(tail -n 1 "$work/typescript-run.log") (${typescript_took}s)"
