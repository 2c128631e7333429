#!/usr/bin/env bash
# Installs, pinned, what scripts/clients/run.sh needs to generate clients
# from the API's OpenAPI document and run the examples with them, and
# reuses it while the pins hold:
#   - .tools/clients/python (git-ignored): a venv with openapi-python-client,
#     ruff (which the generator formats with) and what the generated client
#     imports (httpx, attrs), all pinned in scripts/clients/requirements.txt;
#   - examples/typescript/node_modules (git-ignored): openapi-typescript,
#     openapi-fetch, typescript and Node's types, at the exact versions of the
#     committed examples/typescript/package.json and package-lock.json
#     (`npm ci`).
# Each is skipped while a stamp holding the hash of its pins matches.
#
#   scripts/clients/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

# --- Python: the generator and the generated client's dependencies -------------
env_dir=.tools/clients/python
requirements=scripts/clients/requirements.txt
stamp="$env_dir/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ -x "$env_dir/bin/openapi-python-client" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "== Python client generator up to date ($env_dir)"
else
    echo "== installing the Python client generator into $env_dir"
    rm -rf "$env_dir"
    mkdir -p "$(dirname "$env_dir")"
    python3 -m venv "$env_dir"
    "$env_dir/bin/python" -m pip install --quiet --disable-pip-version-check \
        --only-binary ':all:' --no-deps -r "$requirements"
    # --no-deps installs exactly the pinned set; check that it is complete.
    "$env_dir/bin/python" -m pip check >/dev/null
    echo "$wanted" >"$stamp"
fi

# --- TypeScript: openapi-typescript, openapi-fetch, tsc -----------------------
node_dir=examples/typescript
node_stamp="$node_dir/node_modules/.package-lock.sha256"
wanted=$(cat "$node_dir/package.json" "$node_dir/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$node_stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "== TypeScript client tools up to date ($node_dir/node_modules)"
else
    echo "== installing the TypeScript client tools into $node_dir/node_modules (npm ci)"
    npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error
    echo "$wanted" >"$node_stamp"
fi

# One line of what is installed, for the logs.
version_of() { node -p "require(process.argv[1]).version" "$PWD/$node_dir/node_modules/$1/package.json"; }
python_generator=$("$env_dir/bin/python" -m pip show openapi-python-client | sed -n 's/^Version: //p')
echo "openapi-python-client $python_generator, $("$env_dir/bin/ruff" --version)," \
    "openapi-typescript $(version_of openapi-typescript), openapi-fetch $(version_of openapi-fetch)," \
    "typescript $(version_of typescript), node $(node --version)"
