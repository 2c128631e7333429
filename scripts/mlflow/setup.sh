#!/usr/bin/env bash
# Makes the MLflow environment in .tools/mlflow (git-ignored) from the pinned
# scripts/mlflow/requirements.txt: MLflow for logging and serving the model,
# Jupyter's nbconvert and a kernel for the example notebook, scikit-learn and
# pandas for both. Done once: a stamp holding the requirements' hash skips
# the install while they are unchanged (about 1 minute and 950 MB when not).
#
#   scripts/mlflow/setup.sh        # then: export PATH="$PWD/.tools/mlflow/bin:$PATH"
set -euo pipefail
cd "$(dirname "$0")/../.."

env_dir=.tools/mlflow
requirements=scripts/mlflow/requirements.txt
stamp="$env_dir/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ -x "$env_dir/bin/mlflow" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "== MLflow environment up to date ($env_dir)"
    exit 0
fi
echo "== installing the MLflow environment into $env_dir"
rm -rf "$env_dir"
python3 -m venv "$env_dir"
"$env_dir/bin/python" -m pip install --quiet --disable-pip-version-check \
    --only-binary ':all:' --no-deps -r "$requirements"
# --no-deps installs exactly the pinned set; check it is complete.
"$env_dir/bin/python" -m pip check
echo "$wanted" > "$stamp"
