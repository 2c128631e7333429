#!/usr/bin/env bash
# Checks a Vercel Build Output tree (what `vercel build` writes to
# .vercel/output) against the repository it was built from:
#
#   - every file under api/ has its .func folder, with an `executable`, a
#     .vc-config.json naming the Rust runtime, and data/books.db identical to
#     the repository's (a missing includeFiles match does not fail a Vercel
#     build by itself, so this is where it is caught);
#   - every function with a dynamic segment ([id], [id]/similar) is where
#     config.json's first matching route sends a concrete path
#     (/api/v1/books/5, /api/v1/books/5/similar), after the filesystem phase
#     so that static siblings (search, top-rated) win;
#   - no source file, Cargo.*, database or repository folder is published as a
#     static file (without public/, Vercel publishes the whole repository),
#     and every file of public/ is;
#   - each packaged executable, started from inside its .func folder on a free
#     loopback port (VERCEL_DEV_PORT, no VERCEL_IPC_PATH), answers its route
#     with the repository's data (scripts/api-checks.py).
#
# Usage: scripts/verify-vercel-output.sh [--static-only] OUTPUT_DIR REPO_DIR
#   --static-only   skip starting the executables (the layout checks only)
#
# Prints every problem found and exits 1 if there is any. Every process it
# starts is stopped before it exits.
set -euo pipefail

usage() {
    echo "usage: $0 [--static-only] OUTPUT_DIR REPO_DIR" >&2
    exit 2
}

static_only=0
if [ "${1:-}" = "--static-only" ]; then
    static_only=1
    shift
fi
[ $# -eq 2 ] || usage
[ -d "$1" ] || { echo "error: no output directory $1" >&2; exit 2; }
[ -d "$2" ] || { echo "error: no repository directory $2" >&2; exit 2; }
out=$(cd "$1" && pwd)
repo=$(cd "$2" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
db="$repo/data/books.db"

problems=0
fail() {
    echo "FAIL $*" >&2
    problems=$((problems + 1))
}
ok() {
    echo "ok   $*"
}

pids=()
logs=$(mktemp -d)
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$db" ] || fail "the repository has no data/books.db ($db)"

mapfile -t api_files < <(cd "$repo" && find api -type f -name '*.rs' | LC_ALL=C sort)
[ "${#api_files[@]}" -gt 0 ] || fail "no function files under $repo/api"

# --- 1. one .func per api file, complete and self-contained ----------------
runnable=()
for file in "${api_files[@]}"; do
    func="$out/functions/${file%.rs}.func"
    good=1
    if [ ! -d "$func" ]; then
        fail "$file: no function folder ${func#"$out"/}"
        continue
    fi
    if [ ! -f "$func/executable" ] || [ ! -x "$func/executable" ]; then
        fail "$file: no executable file in ${func#"$out"/}"
        good=0
    fi
    if ! python3 - "$func/.vc-config.json" <<'PY'; then
import json, sys
path = sys.argv[1]
try:
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
except (OSError, ValueError) as err:
    sys.exit(f"unreadable .vc-config.json: {err}")
want = {"runtime": "executable", "handler": "executable", "runtimeLanguage": "rust"}
wrong = {k: config.get(k) for k, v in want.items() if config.get(k) != v}
if wrong:
    sys.exit(f".vc-config.json is not the Rust runtime's: {wrong} (want {want})")
PY
        fail "$file: .vc-config.json does not name the Rust runtime"
        good=0
    fi
    if [ -L "$func/data/books.db" ]; then
        fail "$file: data/books.db is a symlink, not bundled (build with --standalone)"
        good=0
    elif [ ! -f "$func/data/books.db" ]; then
        fail "$file: data/books.db missing from ${func#"$out"/} (check vercel.json includeFiles)"
        good=0
    elif [ -f "$db" ] && ! cmp -s "$func/data/books.db" "$db"; then
        fail "$file: data/books.db in ${func#"$out"/} differs from the repository's"
        good=0
    fi
    # The model ships only with the functions vercel.json gives it to (the
    # route table decides which: tests/it/drift.rs); where it ships, it is
    # the repository's.
    for model in model.json model.bin; do
        if [ -f "$func/data/$model" ] && ! cmp -s "$func/data/$model" "$repo/data/$model"; then
            fail "$file: data/$model in ${func#"$out"/} differs from the repository's"
            good=0
        fi
    done
    # The compact twin ships with the model file, for a quick start.
    if [ -f "$func/data/model.json" ] && [ ! -f "$func/data/model.bin" ]; then
        fail "$file: ${func#"$out"/} bundles data/model.json without data/model.bin"
        good=0
    fi
    if [ "$good" = 1 ]; then
        ok "$file: ${func#"$out"/} has executable, Rust .vc-config.json, data/books.db"
        [ ! -f "$func/data/model.json" ] || ok "$file: ${func#"$out"/} bundles data/model.json and data/model.bin"
        runnable+=("$file")
    fi
done

# --- 2. dynamic segments are routed ------------------------------------------
# A concrete path for each function with a dynamic segment (each [param] set
# to 5: /api/v1/books/5, /api/v1/books/5/similar) must reach that very
# function: the first route of config.json matching it (routes read in
# order, as Vercel does for a path no file serves) rewrites it there, after
# the filesystem phase (so static siblings such as search win) and with each
# segment passed as a query parameter. So /api/v1/books/5/similar cannot be
# swallowed by [id]'s route, nor /api/v1/books/5 by [id]/similar's.
if ! python3 - "$out/config.json" "${api_files[@]}" <<'PY'; then
import json, re, sys
path, files = sys.argv[1], sys.argv[2:]
try:
    with open(path, encoding="utf-8") as f:
        routes = json.load(f).get("routes") or []
except (OSError, ValueError) as err:
    sys.exit(f"FAIL config.json unreadable: {err}")
filesystem = next((i for i, r in enumerate(routes) if r.get("handle") == "filesystem"), None)

def pattern(src):
    # JavaScript's named groups, (?<name>...), in Python's spelling.
    return re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", src)

def first_match(concrete):
    """The route that decides where `concrete` goes: the first one matching
    it that does not merely continue (set headers and go on)."""
    for i, route in enumerate(routes):
        if "src" in route and not route.get("continue"):
            if re.fullmatch(pattern(route["src"]), concrete):
                return i, route
    return None, None

failed = False
for file in files:
    function = "/" + file[: -len(".rs")]
    params = re.findall(r"\[([^\]/]+)\]", function)
    if not params:
        continue
    concrete = re.sub(r"\[[^\]/]+\]", "5", function)
    i, route = first_match(concrete)
    dest = str((route or {}).get("dest", ""))
    if route is None or dest.split("?")[0] != function:
        where = f" (its first route, {route}, does)" if route else ""
        print(f"FAIL {file}: no route in config.json sends {concrete} to {function}{where}",
              file=sys.stderr)
        failed = True
        continue
    missing = [p for p in params if f"{p}=" not in dest]
    if missing:
        print(f"FAIL {file}: route {route} does not pass {missing} as query parameters", file=sys.stderr)
        failed = True
    elif filesystem is None or i < filesystem:
        print(f"FAIL {file}: route {route} comes before the filesystem phase", file=sys.stderr)
        failed = True
    else:
        print(f"ok   {file}: config.json routes {concrete} -> {dest} (its first matching route)")
sys.exit(1 if failed else 0)
PY
    fail "config.json: dynamic routes missing or wrong"
fi

# --- 3. nothing private published as a static file ---------------------------
if [ -d "$out/static" ]; then
    mapfile -t leaked < <(cd "$out/static" && find . \
        \( -name '*.rs' -o -name 'Cargo.*' -o -name '*.db' -o -name '*.db-*' \
           -o -name '*.sqlite*' -o -name 'rust-toolchain*' -o -name '.vercelignore' \
           -o -path './src' -o -path './api' -o -path './target' -o -path './.git' \
           -o -path './.github' -o -path './tests' \) -print | LC_ALL=C sort)
    if [ "${#leaked[@]}" -gt 0 ]; then
        fail "static files publish repository files (is public/ missing?): ${leaked[*]:0:10}"
    else
        ok "static: no source, Cargo.*, database or repository folder published"
    fi
fi

# public/ is what is published: every file of it, as it is.
if [ -d "$repo/public" ]; then
    unpublished=0
    while IFS= read -r -d '' file; do
        file=${file#./}
        if ! cmp -s "$repo/public/$file" "$out/static/$file"; then
            fail "static: public/$file is not published as is"
            unpublished=1
        fi
    done < <(cd "$repo/public" && find . -type f ! -name .gitkeep -print0)
    [ "$unpublished" = 1 ] || ok "static: every file of public/ published as is"
fi

# --- 4. each executable answers its route with the repository's data ---------
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

if [ "$static_only" = 0 ]; then
    for file in "${runnable[@]}"; do
        func="$out/functions/${file%.rs}.func"
        port=$(free_port)
        log="$logs/$(echo "$file" | tr '/[]' '___').log"
        (cd "$func" && exec env -u VERCEL_IPC_PATH -u BOOKS_DB -u BOOKS_JWT_SECRET -u BOOKS_USERS -u BOOKS_GITHUB_REPO -u BOOKS_GITHUB_TOKEN VERCEL_DEV_PORT="$port" ./executable) \
            >"$log" 2>&1 &
        pid=$!
        pids+=("$pid")
        if ! python3 "$here/api-checks.py" --base-url "http://127.0.0.1:$port" \
            --data-dir "$repo/data" --wait 20 --pid "$pid" "$file"; then
            fail "$file: the packaged executable did not answer its route with the data; its output:"
            sed 's/^/    /' "$log" | tail -20 >&2
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
fi

if [ "$problems" -gt 0 ]; then
    echo "verify-vercel-output: $problems problem(s) in $out" >&2
    exit 1
fi
echo "verify-vercel-output: all ${#api_files[@]} functions packaged and checked in $out"
