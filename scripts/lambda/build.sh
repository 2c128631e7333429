#!/usr/bin/env bash
# Builds the AWS Lambda deployment zip and checks it and template.yaml, with
# no AWS account and no network beyond the package registries:
#   1. the pinned tools (scripts/lambda/setup.sh: cfn-lint, the arm64 Rust
#      target; scripts/zigbuild-setup.sh: cargo-zigbuild);
#   2. `cargo zigbuild --release --target aarch64-unknown-linux-gnu --bin
#      books-lambda` (x86_64-unknown-linux-gnu with BOOKS_LAMBDA_ARCH=x86_64;
#      template.yaml's Architecture must then say x86_64 too): the Vercel
#      builder's compiler and flags, and zig's `-target <arch>-linux-gnu` as
#      `cargo lambda build` passes it, so the same executable; and on x86_64
#      every dependency the Vercel functions compiled in the same target dir
#      is reused (cargo-lambda's own bundled cargo-zigbuild would compile
#      them all again: 448 s here);
#   3. the zip, target/lambda/books-lambda/bootstrap.zip (where
#      template.yaml's CodeUri points, and where `cargo lambda build
#      --output-format zip` writes it): `bootstrap`, executable, and the data
#      the function opens beside it as on Vercel (data/books.db,
#      data/model.json and its compact twin data/model.bin);
#   4. the zip checked: a Linux `bootstrap` for that architecture and the
#      data files byte for byte the committed ones;
#   5. `cfn-lint template.yaml`.
# Prints the sizes of the zip and of what it holds.
#
# Usage: scripts/lambda/build.sh
# Environment: BOOKS_LAMBDA_ARCH (arm64, the default, or x86_64);
# CARGO_TARGET_DIR (cargo's; the zip still goes to target/lambda).
set -euo pipefail

arch=${BOOKS_LAMBDA_ARCH:-arm64}
case $arch in
arm64) triple=aarch64-unknown-linux-gnu ;;
x86_64) triple=x86_64-unknown-linux-gnu ;;
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
PATH="$(scripts/lambda/setup.sh):$(scripts/zigbuild-setup.sh):$PATH"
export PATH

step "cargo zigbuild --release --target $triple --bin books-lambda"
cargo zigbuild --release --target "$triple" --locked --quiet --bin books-lambda
bootstrap=${CARGO_TARGET_DIR:-target}/$triple/release/books-lambda

zip=target/lambda/books-lambda/bootstrap.zip
step "writing $zip"
mkdir -p "$(dirname "$zip")"
python3 - "$bootstrap" "$zip" <<'PY'
import os, sys, zipfile
bootstrap, path = sys.argv[1], sys.argv[2]
# (name in the zip, file, mode): Lambda runs `bootstrap` from the zip's root.
members = [("bootstrap", bootstrap, 0o755)] + [
    (name, name, 0o644) for name in ("data/books.db", "data/model.json", "data/model.bin")
]
partial = path + ".partial"
with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
    for name, source, mode in members:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3  # Unix, so that the mode bits below count
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(source, "rb") as f:
            z.writestr(info, f.read())
os.replace(partial, path)
PY

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
