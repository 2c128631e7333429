#!/usr/bin/env python3
"""Scores books with a logged model, through MLflow's pyfunc loader: what a
batch job does with the registered model, and how tests/it/mlflow.rs holds
the Python model to the Rust one.

    .tools/mlflow/bin/python scripts/mlflow/score.py MODEL_URI < books.json > predictions.json

Input: a `dataframe_split` object (`{"columns": ["title", "description"],
"data": [[...], ...]}`), the format the model endpoint takes. Output: the
model's records, one per book, in order, as a JSON array. The tracking store
is MLFLOW_TRACKING_URI, as for log_model.py.
"""

import json
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    import mlflow.pyfunc
    import pandas

    split = json.load(sys.stdin)
    books = pandas.DataFrame(split["data"], columns=split["columns"])
    predictions = mlflow.pyfunc.load_model(sys.argv[1]).predict(books)
    json.dump(predictions, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
