#!/usr/bin/env bash
# Installs, pinned, what building and checking the AWS Lambda package needs,
# into .tools/lambda (git-ignored), and reuses it while the pins hold:
#   - cargo-lambda (PyPI; the wheel ships the binary): `cargo lambda build`,
#     its local emulator (`cargo lambda watch`) and `cargo lambda invoke`;
#   - ziglang (PyPI), which cargo-lambda cross-compiles with;
#   - cfn-lint (PyPI), for template.yaml;
#   - for arm64 (the default), the Rust standard library for
#     aarch64-unknown-linux-gnu (rustup). rustup fetches it from
#     static.rust-lang.org, which is not a package registry: where that
#     cannot be reached this fails, and x86_64 needs nothing more.
# Its own venv, not .tools/venv: scripts/check-vercel-build.sh pins its own
# ziglang there, and the two pins must not undo each other.
#
# Usage: scripts/lambda/setup.sh   (prints the venv's bin directory last)
# Environment: BOOKS_TOOLS_DIR (default .tools); BOOKS_LAMBDA_ARCH (arm64,
# the default, or x86_64).
set -euo pipefail

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1
CFN_LINT_VERSION=1.58.0

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools=${BOOKS_TOOLS_DIR:-$repo/.tools}
venv="$tools/lambda"

# (grep without -q reads all of pip's output: no SIGPIPE failing the pipeline)
installed() { "$venv/bin/python" -m pip show "$1" 2>/dev/null | grep -x "Version: $2" >/dev/null; }
if ! installed cargo-lambda "$CARGO_LAMBDA_VERSION" || ! installed ziglang "$ZIGLANG_VERSION" ||
    ! installed cfn-lint "$CFN_LINT_VERSION"; then
    echo "installing cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIGLANG_VERSION cfn-lint==$CFN_LINT_VERSION into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary ':all:' \
        "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION" "cfn-lint==$CFN_LINT_VERSION"
fi
case ${BOOKS_LAMBDA_ARCH:-arm64} in
arm64)
    target=aarch64-unknown-linux-gnu
    if ! rustup target list --installed | grep -x "$target" >/dev/null; then
        echo "adding the Rust target $target" >&2
        rustup target add "$target" >&2
    fi
    ;;
x86_64) ;;
*)
    echo "error: BOOKS_LAMBDA_ARCH is arm64 or x86_64, not '$BOOKS_LAMBDA_ARCH'" >&2
    exit 2
    ;;
esac
echo "$("$venv/bin/cargo-lambda" lambda --version), zig $("$venv/bin/python" -m ziglang version), $("$venv/bin/cfn-lint" --version)" >&2
echo "$venv/bin"
