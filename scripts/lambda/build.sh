#!/usr/bin/env bash
# Builds the AWS Lambda deployment zip and checks it and template.yaml, with
# no AWS account and no network beyond the package registries:
#   1. the pinned tools (scripts/lambda/setup.sh);
#   2. `cargo lambda build --release --arm64` of books-lambda (or --x86-64,
#      with BOOKS_LAMBDA_ARCH=x86_64; template.yaml's Architecture must then
#      say x86_64 too), zipped with the
#      data the function opens (data/books.db, data/model.json and its
#      compact twin data/model.bin, found beside
#      `bootstrap` as on Vercel), into target/lambda/books-lambda/bootstrap.zip
#      (where template.yaml's CodeUri points);
#   3. the zip: a Linux `bootstrap` for that architecture and the two data
#      files, byte for byte the committed ones;
#   4. `cfn-lint template.yaml`.
# Prints the sizes of the zip and of what it holds.
#
# Usage: scripts/lambda/build.sh
# Environment: BOOKS_LAMBDA_ARCH (arm64, the default, or x86_64);
# CARGO_TARGET_DIR (cargo's; the zip still goes to target/lambda).
set -euo pipefail

arch=${BOOKS_LAMBDA_ARCH:-arm64}
case $arch in
arm64) arch_flag=--arm64 ;;
x86_64) arch_flag=--x86-64 ;;
*)
    echo "error: BOOKS_LAMBDA_ARCH is arm64 or x86_64, not '$arch'" >&2
    exit 2
    ;;
esac
export BOOKS_LAMBDA_ARCH=$arch

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
started=$SECONDS
step() {
    echo "== $* ($((SECONDS - started))s)"
}

step "tools"
bin=$(scripts/lambda/setup.sh)
export PATH="$bin:$PATH"

step "cargo lambda build --release $arch_flag --bin books-lambda"
# --disable-optimizations keeps the project's own measured release profile
# (Cargo.toml) instead of cargo-lambda's defaults laid over it.
cargo lambda build --release "$arch_flag" --locked --disable-optimizations \
    --bin books-lambda \
    --lambda-dir target/lambda --output-format zip \
    --include data/books.db --include data/model.json --include data/model.bin
zip=target/lambda/books-lambda/bootstrap.zip

step "checking $zip"
python3 - "$zip" "$arch" <<'PY'
import os, sys, zipfile
path, arch = sys.argv[1], sys.argv[2]
# ELF e_machine: 0xB7 AArch64, 0x3E x86-64.
machine = {"arm64": b"\xb7\x00", "x86_64": b"\x3e\x00"}[arch]
with zipfile.ZipFile(path) as z:
    names = sorted(z.namelist())
    expected = ["bootstrap", "data/books.db", "data/model.bin", "data/model.json"]
    missing = [n for n in expected if n not in names]
    if missing:
        sys.exit(f"error: {path} lacks {missing} (it has {names})")
    for name in ("data/books.db", "data/model.json", "data/model.bin"):
        if z.read(name) != open(name, "rb").read():
            sys.exit(f"error: {name} in {path} differs from the repository's")
    bootstrap = z.getinfo("bootstrap")
    head = z.read("bootstrap")[:20]
    # ELF, 64-bit, little-endian, for the architecture asked for.
    if head[:4] != b"\x7fELF" or head[4] != 2 or head[18:20] != machine:
        sys.exit(f"error: bootstrap is not an {arch} Linux executable")
    if not (bootstrap.external_attr >> 16) & 0o111:
        sys.exit("error: bootstrap is not executable in the zip")
    mib = lambda n: f"{n / 1048576:.1f} MiB ({n} bytes)"
    print(f"{path} ({arch}): {', '.join(names)}")
    print(f"zip:       {mib(os.path.getsize(path))}")
    for name in expected:
        info = z.getinfo(name)
        print(f"{name + ':':<16} {mib(info.file_size)}, {mib(info.compress_size)} compressed")
PY

step "cfn-lint template.yaml"
cfn-lint template.yaml

step "done: $zip"
