#!/usr/bin/env bash
# Smoke test of a deployment: /api/v1/health must report the deployed book
# count, /api/v1/books/{id} must return the first book of DATA_DIR/books.csv
# with its title (the data just deployed), and /api/v1/books/{id}/similar its
# similar books (which also proves Vercel routes it apart from {id}).
#
# Usage: scripts/smoke-test.sh BASE_URL [DATA_DIR]   (DATA_DIR defaults to data)
# If VERCEL_AUTOMATION_BYPASS_SECRET is set, it is sent as the
# x-vercel-protection-bypass header (for deployments behind Deployment
# Protection).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BASE_URL [DATA_DIR]" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
base=$1
case "$base" in
    http://* | https://*) ;;
    *) base="https://$base" ;;
esac
args=(--base-url "$base" --data-dir "${2:-data}" --wait 30)
if [ -n "${VERCEL_AUTOMATION_BYPASS_SECRET:-}" ]; then
    args+=(--header "x-vercel-protection-bypass: $VERCEL_AUTOMATION_BYPASS_SECRET")
fi
exec python3 "$here/api-checks.py" "${args[@]}" api/v1/health.rs 'api/v1/books/[id].rs' \
    'api/v1/books/[id]/similar.rs'
