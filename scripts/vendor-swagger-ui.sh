#!/usr/bin/env bash
# Copies the Swagger UI files that /docs needs from the pinned npm package
# swagger-ui-dist into public/assets/swagger-ui/, so the docs page loads
# nothing from a CDN. The copied files are committed; rerun this script only to
# change the version (update VERSION and INTEGRITY from `npm view
# swagger-ui-dist@X dist.integrity`), then run `cargo test --test openapi_docs`.
#
# Usage: scripts/vendor-swagger-ui.sh
set -euo pipefail

VERSION=5.35.0
INTEGRITY=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==

cd "$(dirname "$0")/.."
dest=public/assets/swagger-ui
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "fetching swagger-ui-dist@$VERSION with npm" >&2
tarball=$(cd "$work" && npm pack --silent "swagger-ui-dist@$VERSION")
actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
if [[ "$actual" != "$INTEGRITY" ]]; then
    echo "integrity mismatch for $tarball: got $actual, want $INTEGRITY" >&2
    exit 1
fi
tar -xzf "$work/$tarball" -C "$work"

mkdir -p "$dest"
rm -f "$dest"/*
for file in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
    # Drop source-map comments: the maps are not shipped, and a browser's
    # devtools would otherwise request them.
    sed -e '/^\/\/# sourceMappingURL=/d' -e 's#/\*\# sourceMappingURL=[^*]*\*/##' \
        "$work/package/$file" >"$dest/$file"
done
echo "$VERSION" >"$dest/VERSION"

# Nothing we serve may reach for another origin when the page loads.
if grep -Eo '(src|href)="https?://[^"]*"|url\((["'"'"']?)https?://[^)]*\)' "$dest/swagger-ui.css"; then
    echo "swagger-ui.css references an external URL" >&2
    exit 1
fi
ls -l "$dest" >&2
