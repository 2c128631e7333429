#!/usr/bin/env python3
"""Logs the category model (data/model.json) to MLflow as a pyfunc.

    .tools/mlflow/bin/python scripts/mlflow/log_model.py [--model data/model.json]
        [--register NAME] [--experiment books]

The tracking store is MLFLOW_TRACKING_URI, or else a local `mlruns/`
directory (an SQLite database and the artifacts beside it: MLflow 3 refuses
a plain file store unless told to allow it, and its registry needs a
database anyway). Logs the signature, an input example, pinned requirements,
the model file as an artifact and its version as metadata; with --register,
also a registered model version. Prints one JSON line: the run, the model
URI to serve, and the registered version if any.
"""

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from books_model import TextClassifier  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="data/model.json", help="the model file to log")
    parser.add_argument("--register", metavar="NAME", help="also register a model version")
    parser.add_argument("--experiment", default="books", help="the MLflow experiment")
    args = parser.parse_args()

    if not os.environ.get("MLFLOW_TRACKING_URI"):
        store = Path("mlruns").resolve()
        store.mkdir(exist_ok=True)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store / 'mlflow.db'}"
        artifacts = (store / "artifacts").as_uri()
    else:
        artifacts = None

    import mlflow
    import numpy
    import pandas
    from mlflow.models import infer_signature
    from mlflow.types.schema import ColSpec, Schema

    model = TextClassifier.load(args.model)  # refuses a corrupt file before logging it
    if mlflow.get_experiment_by_name(args.experiment) is None:
        mlflow.create_experiment(args.experiment, artifact_location=artifacts)
    mlflow.set_experiment(args.experiment)

    example = pandas.DataFrame(
        {
            "title": ["The Haunting of Hill House"],
            "description": ["A ghost story: four seekers arrive at a notoriously unfriendly pile."],
        }
    )
    signature = infer_signature(
        example,
        model.predict([(example.title[0], example.description[0])]),
        params={"output": "predictions"},
    )
    # A description may be left out (it is then empty), as in the API.
    signature.inputs = Schema(
        [ColSpec("string", "title"), ColSpec("string", "description", required=False)]
    )
    card = model.card
    with mlflow.start_run(run_name=f"{model.name}-{model.version}") as run:
        mlflow.log_params(
            {
                "model_version": model.version,
                "algorithm": card["algorithm"]["algorithm"],
                "vocabulary_terms": len(model.vocabulary),
                "classes": len(model.classes),
            }
        )
        held_out = card["evaluation"]["model"]
        mlflow.log_metrics({k: v for k, v in held_out.items() if isinstance(v, (int, float))})
        info = mlflow.pyfunc.log_model(
            name=model.name,
            python_model=HERE / "books_model.py",
            artifacts={"model_file": str(Path(args.model).resolve())},
            signature=signature,
            input_example=example,
            pip_requirements=[
                f"mlflow=={mlflow.__version__}",
                f"numpy=={numpy.__version__}",
                f"pandas=={pandas.__version__}",
            ],
            metadata={"books_model_version": model.version, "books_model_format": model.format},
            registered_model_name=args.register,
        )
    result = {
        "run_id": run.info.run_id,
        "model_uri": info.model_uri,
        "model_version": model.version,
        "tracking_uri": mlflow.get_tracking_uri(),
    }
    if args.register:
        result["registered"] = {"name": args.register, "version": info.registered_model_version}
        result["serve_uri"] = f"models:/{args.register}/{info.registered_model_version}"
    else:
        result["serve_uri"] = info.model_uri
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
