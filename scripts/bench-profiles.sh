#!/usr/bin/env bash
# Compares release profiles for the function binaries: for each profile, a
# cold `cargo build --release --bins` (every function and the CLI, in its own
# target dir: the link work `vercel build` repeats per function), the size of
# one function executable and of the CLI, then optionally
# scripts/bench-api.sh's throughput on that build.
#
# Usage: scripts/bench-profiles.sh [--bench SECONDS] [PROFILE...]
# Profiles: see the `case` below; default all. Builds go to
# target/profiles/NAME (delete it for another cold build).
set -euo pipefail
cd "$(dirname "$0")/.."

bench=""
if [ "${1:-}" = "--bench" ]; then
    bench="$2"
    shift 2
fi
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(thin-debug thin-strip off-strip off-s thin-s fat-strip fat-s)

settings() {
    # lto codegen-units debug strip opt-level
    case "$1" in
        thin-debug) echo "thin 4 line-tables-only none 3" ;;
        thin-strip) echo "thin 4 false symbols 3" ;;
        off-strip) echo "false 16 false symbols 3" ;;
        off-s) echo "false 16 false symbols s" ;;
        thin-s) echo "thin 4 false symbols s" ;;
        fat-strip) echo "fat 1 false symbols 3" ;;
        fat-s) echo "fat 1 false symbols s" ;;
        *) echo "unknown profile $1" >&2; return 1 ;;
    esac
}

printf '%-11s %-34s %12s %14s %12s\n' profile 'lto cgu debug strip opt' 'cold build' 'function exe' 'books exe'
for name in "${profiles[@]}"; do
    read -r lto cgu debug strip opt <<<"$(settings "$name")"
    export CARGO_TARGET_DIR="$PWD/target/profiles/$name"
    export CARGO_PROFILE_RELEASE_LTO="$lto" CARGO_PROFILE_RELEASE_CODEGEN_UNITS="$cgu" \
        CARGO_PROFILE_RELEASE_DEBUG="$debug" CARGO_PROFILE_RELEASE_STRIP="$strip" \
        CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt"
    start=$SECONDS
    cargo build --release --locked --quiet --bins
    took=$((SECONDS - start))
    size() { stat -c %s "$CARGO_TARGET_DIR/release/$1" | awk '{printf "%.1f MB", $1 / 1e6}'; }
    printf '%-11s %-34s %11ss %14s %12s\n' "$name" "$lto $cgu $debug $strip $opt" "$took" \
        "$(size api-v1-books-id)" "$(size books)"
    if [ -n "$bench" ]; then
        scripts/bench-api.sh "$bench" | sed 's/^/    /'
    fi
done
