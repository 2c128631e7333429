#!/usr/bin/env bash
# Installs, pinned, the cross-compiler the Vercel Rust builder uses outside
# Vercel's build image (cargo-zigbuild and ziglang, PyPI wheels) into
# .tools/venv (git-ignored), and reuses it while the pins hold. Prints the
# venv's bin directory last.
#
# One installation for every release build here (the Vercel functions, the
# `books` CLI in .ci/run, the Lambda zip): cargo-zigbuild writes its linker
# wrappers under a path derived from its own executable's, and the linker is
# part of every crate's build fingerprint, so builds through another
# cargo-zigbuild (cargo-lambda bundles one) compile every dependency again.
#
# Usage: scripts/zigbuild-setup.sh
# Environment: BOOKS_TOOLS_DIR (default .tools).
set -euo pipefail

CARGO_ZIGBUILD_VERSION=0.24.1
ZIGLANG_VERSION=0.17.1

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${BOOKS_TOOLS_DIR:-$repo/.tools}/venv
# (grep without -q reads all of pip's output: no SIGPIPE failing the pipeline)
installed() { "$venv/bin/python" -m pip show "$1" 2>/dev/null | grep -x "Version: $2" >/dev/null; }
if ! installed cargo-zigbuild "$CARGO_ZIGBUILD_VERSION" || ! installed ziglang "$ZIGLANG_VERSION"; then
    echo "installing cargo-zigbuild==$CARGO_ZIGBUILD_VERSION ziglang==$ZIGLANG_VERSION into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary ':all:' \
        "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" "ziglang==$ZIGLANG_VERSION" >&2
fi
echo "$("$venv/bin/cargo-zigbuild" --version), zig $("$venv/bin/python" -m ziglang version)" >&2
echo "$venv/bin"
