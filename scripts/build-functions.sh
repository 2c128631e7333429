#!/usr/bin/env bash
# Builds every Vercel function binary in ONE cargo invocation, with exactly
# the command the Vercel Rust builder (@vercel/rust) runs for each function
# outside Vercel's build image: `cargo zigbuild --target
# x86_64-unknown-linux-gnu --bin NAME --release` (RUSTFLAGS as given, the
# default features). `vercel build` then runs that command once per function,
# and each finds its binary fresh instead of building it: the shared
# dependencies compile once and the binaries link side by side, on every core,
# rather than one after another.
#
# Run it in the directory `vercel build` runs in, with the same
# CARGO_TARGET_DIR, and cargo-zigbuild on PATH.
#
# Usage: scripts/build-functions.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The functions are the [[bin]] entries named api-… (tests/it/drift.rs keeps
# them in step with api/ and the route table).
bins=()
while read -r name; do
    bins+=(--bin "$name")
done < <(sed -n 's/^name = "\(api-[^"]*\)"$/\1/p' Cargo.toml)
[ ${#bins[@]} -gt 0 ] || { echo "error: no api-* [[bin]] in Cargo.toml" >&2; exit 1; }

started=$SECONDS
cargo zigbuild --target x86_64-unknown-linux-gnu --release --quiet "${bins[@]}"
echo "built $((${#bins[@]} / 2)) functions in one cargo invocation ($((SECONDS - started))s)"
