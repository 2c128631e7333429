#!/usr/bin/env bash
# Builds the exact Vercel deploy output locally, with no Vercel account and no
# network beyond the package registries, then checks it with
# scripts/verify-vercel-output.sh.
#
#   1. Installs, if missing, into .tools/ (git-ignored): the Vercel CLI
#      (npm, pinned) and cargo-zigbuild + ziglang (scripts/zigbuild-setup.sh;
#      outside Vercel's build image the Rust builder cross-compiles with
#      `cargo zigbuild`).
#   2. Copies the repository's files (tracked, plus untracked ones git does not
#      ignore: what a fresh clone of the commit would hold) into
#      target/vercel-check/tree, so a developer's own .vercel/ link is never
#      touched, and writes .vercel/project.json = {"settings":{}} there so the
#      CLI does not try to pull settings.
#   3. Builds every function in one cargo invocation with the builder's own
#      command (scripts/build-functions.sh), then runs `vercel build --yes
#      --standalone` there, whose per-function builds find them fresh; both
#      with their own cargo target dir (target/vercel-check/cargo: no fight
#      over target/ locks, warm rebuilds).
#   4. Verifies .vercel/output (every function, its database, the routes, the
#      static files, and each executable answering with real data).
#
# Usage: scripts/check-vercel-build.sh
# Environment: BOOKS_TOOLS_ONLY=1 (install the tools, nothing else),
# BOOKS_TOOLS_DIR (default .tools), BOOKS_VERCEL_CHECK_DIR
# (default target/vercel-check). The output stays in
# $BOOKS_VERCEL_CHECK_DIR/tree/.vercel/output for inspection.
set -euo pipefail

VERCEL_CLI_VERSION=60.1.3

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${BOOKS_TOOLS_DIR:-$repo/.tools}
work=${BOOKS_VERCEL_CHECK_DIR:-$repo/target/vercel-check}
started=$SECONDS

step() {
    echo "== $* ($((SECONDS - started))s)"
}

# --- 1. tools ---------------------------------------------------------------
# The cross-compiler first; the Vercel CLI (needed only once every function
# is built) installs meanwhile.
step "tools in $tools"
mkdir -p "$tools"
vercel="$tools/npm/node_modules/.bin/vercel"
install_vercel() {
    if [ "$("$vercel" --version 2>/dev/null | tail -n 1)" != "$VERCEL_CLI_VERSION" ]; then
        echo "installing vercel@$VERCEL_CLI_VERSION"
        npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error \
            "vercel@$VERCEL_CLI_VERSION" >/dev/null
    fi
}
install_vercel &
vercel_install=$!
PATH="$(BOOKS_TOOLS_DIR=$tools "$repo/scripts/zigbuild-setup.sh"):$PATH"
export PATH
wait_for_vercel() {
    wait "$vercel_install" || { echo "error: installing vercel@$VERCEL_CLI_VERSION failed" >&2; exit 1; }
    echo "vercel $("$vercel" --version 2>/dev/null | tail -n 1)"
}
# BOOKS_TOOLS_ONLY=1: install the tools and stop (.ci/run installs every
# tool first, in the background).
[ -z "${BOOKS_TOOLS_ONLY:-}" ] || { wait_for_vercel; exit 0; }

# --- 2. the tree to build ----------------------------------------------------
step "copying the repository into $work/tree"
tree="$work/tree"
rm -rf "$tree"
mkdir -p "$tree/.vercel" "$work/cargo"
# Files a fresh clone would have, as they are in the working tree now. tar
# keeps modification times, so cargo rebuilds only what changed.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$tree"
[ -f "$tree/data/books.db" ] || { echo "error: data/books.db is not in the repository" >&2; exit 1; }
echo '{"settings":{}}' >"$tree/.vercel/project.json"

# --- 3. vercel build ---------------------------------------------------------
step "every function in one cargo invocation (scripts/build-functions.sh)"
(cd "$tree" && CARGO_TARGET_DIR="$work/cargo" scripts/build-functions.sh)

step "vercel build --yes --standalone (log: $work/build.log)"
wait_for_vercel
if ! (cd "$tree" &&
    env VERCEL_TELEMETRY_DISABLED=1 CARGO_TARGET_DIR="$work/cargo" \
        "$vercel" build --yes --standalone) >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log" >&2
    echo "error: vercel build failed (full log: $work/build.log)" >&2
    exit 1
fi
tail -n 3 "$work/build.log"

# --- 4. verify ---------------------------------------------------------------
step "verifying $tree/.vercel/output"
"$repo/scripts/verify-vercel-output.sh" "$tree/.vercel/output" "$repo"

step "packaged functions"
(cd "$tree/.vercel/output/functions" &&
    find . -name '*.func' -type d | LC_ALL=C sort | while read -r func; do
        printf '%8s  %s (executable %s)\n' "$(du -sh "$func" | cut -f1)" "${func#./}" \
            "$(du -h "$func/executable" | cut -f1)"
    done)
step "done: the Vercel package is complete and every function answers"
