"""The category model of data/model.json, in Python, as an MLflow pyfunc.

`TextClassifier` restates the arithmetic of the Rust code (src/ml/text.rs,
src/ml/linear.rs) from the rules the model file carries: ASCII-lowercase,
split on anything but [A-Za-z0-9], drop short and numeric tokens, count the
vocabulary terms, sublinear TF times IDF, L2-normalise, one linear score per
class, softmax. A test (tests/it/mlflow.rs) holds it to the Rust model on
every book of the catalogue, to 1e-9.

`BookCategoryModel` wraps it for MLflow: input a DataFrame with `title` and
`description` (strings), output one record per row, in order:
`{"category", "probability", "probabilities": {class: p}, "model_version"}`.
With the parameter `output="model"` it answers one record instead, the
model's identity and card, which is how the books API reads the served
model's card (the scoring server has no metadata route of its own).

Only numpy, pandas and mlflow are needed; no scikit-learn.
"""

import hashlib
import json
import math
import re
import warnings

import numpy as np

MODEL_FORMAT = "books-text-classifier/1"
# Tokens are the maximal runs of ASCII letters and digits: the pieces that
# Rust's split on every other character leaves, but for the empty ones,
# which a minimum token length of 1 or more drops anyway.
_TOKEN = re.compile(r"[A-Za-z0-9]+")


class ModelFileError(ValueError):
    """The model file is not one this code can serve."""


def _version_of(raw: bytes, version: str) -> str:
    """The version the file's bytes give: the first 16 hex digits of the
    SHA-256 of the bytes with the version's value emptied."""
    needle = ('"version":' + json.dumps(version)).encode()
    at = raw.find(needle)
    if at < 0:
        raise ModelFileError("no top-level version field in compact form")
    unversioned = raw[:at] + b'"version":""' + raw[at + len(needle):]
    return hashlib.sha256(unversioned).hexdigest()[:16]


class TextClassifier:
    """A loaded, checked model file."""

    def __init__(self, raw: bytes):
        model = json.loads(raw)
        if model.get("format") != MODEL_FORMAT:
            raise ModelFileError(f"format {model.get('format')!r}, expected {MODEL_FORMAT!r}")
        computed = _version_of(raw, model["version"])
        if computed != model["version"]:
            raise ModelFileError(
                f"content does not match version {model['version']} (computed {computed})"
            )
        vectorizer, classifier = model["vectorizer"], model["classifier"]
        self.name = model["name"]
        self.version = model["version"]
        self.format = model["format"]
        self.card = model["card"]
        rules = vectorizer["tokenizer"]
        self.min_token_len = rules["min_token_len"]
        self.drop_numeric = rules["drop_numeric"]
        self.vocabulary = vectorizer["vocabulary"]
        self.index = {term: i for i, term in enumerate(self.vocabulary)}
        self.idf = np.asarray(vectorizer["idf"], dtype=np.float64)
        self.classes = classifier["classes"]
        self.intercepts = np.asarray(classifier["intercepts"], dtype=np.float64)
        self.coefficients = np.asarray(classifier["coefficients"], dtype=np.float64)
        # Term-major, so a document's terms are whole rows (cache-friendly).
        self._by_term = np.ascontiguousarray(self.coefficients.T)
        terms, k = len(self.vocabulary), len(self.classes)
        if self.idf.shape != (terms,) or self.coefficients.shape != (k, terms):
            raise ModelFileError("the vectorizer and classifier shapes disagree")
        if self.intercepts.shape != (k,) or k < 2:
            raise ModelFileError("a classifier needs an intercept per class, and 2 classes")
        if self.min_token_len < 1:
            raise ModelFileError("min_token_len must be at least 1")

    @classmethod
    def load(cls, path):
        with open(path, "rb") as f:
            return cls(f.read())

    def transform(self, text: str):
        """The L2-normalised TF-IDF vector of `text`: (term indices, weights)."""
        counts = {}
        index, min_len, drop_numeric = self.index, self.min_token_len, self.drop_numeric
        for token in _TOKEN.findall(text):
            # ASCII only, so `isdigit` is "all digits" and `lower` ASCII-lowercases.
            if len(token) < min_len or (drop_numeric and token.isdigit()):
                continue
            term = index.get(token.lower())
            if term is not None:
                counts[term] = counts.get(term, 0) + 1
        indices = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        tf = np.array([1.0 + math.log(counts[i]) for i in indices], dtype=np.float64)
        weights = tf * self.idf[indices]
        norm = math.sqrt(float(np.dot(weights, weights)))
        if norm > 0.0:
            weights = weights / norm
        return indices, weights

    def probabilities(self, title: str, description: str):
        """Every class's probability, in class order."""
        return self._probabilities([f"{title}\n{description}"])[0]

    def _probabilities(self, texts):
        """The probabilities of each text: one row per text, in class order."""
        scores = np.empty((len(texts), len(self.classes)), dtype=np.float64)
        for row, text in enumerate(texts):
            indices, weights = self.transform(text)
            scores[row] = weights @ self._by_term[indices]
        scores += self.intercepts
        scores -= scores.max(axis=1, keepdims=True)  # a stable softmax
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def predict(self, books) -> list:
        """One record per `(title, description)`, in order."""
        p = self._probabilities([f"{title}\n{description}" for title, description in books])
        classes, version = self.classes, self.version
        records = []
        # The first of equals is the best: ties go by class order, as in Rust.
        for best, row in zip(p.argmax(axis=1).tolist(), p.tolist()):
            records.append(
                {
                    "category": classes[best],
                    "probability": row[best],
                    "probabilities": dict(zip(classes, row)),
                    "model_version": version,
                }
            )
        return records

    def describe(self) -> dict:
        """What `/api/v1/ml/model` shows, from this file."""
        return {
            "name": self.name,
            "version": self.version,
            "format": self.format,
            "classes": list(self.classes),
            "vocabulary_terms": len(self.vocabulary),
            "card": self.card,
        }


def _text(value) -> str:
    """A cell as text: a missing value (None, NaN) is the empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


try:
    import mlflow.models
    import mlflow.pyfunc

    # Type hints on `predict` would make MLflow expect `{"inputs": ...}`
    # instead of the DataFrame formats the API sends; its advice is noise here.
    warnings.filterwarnings("ignore", message=".*type hints to the `predict` method")

    class BookCategoryModel(mlflow.pyfunc.PythonModel):
        """The pyfunc: the model file is its artifact `model_file`."""

        def load_context(self, context):
            self.model = TextClassifier.load(context.artifacts["model_file"])

        def predict(self, context, model_input, params=None):
            if (params or {}).get("output", "predictions") == "model":
                return [{"model": self.model.describe()}]
            titles = model_input["title"] if "title" in model_input else []
            if "description" in model_input:
                descriptions = model_input["description"]
            else:
                descriptions = [""] * len(titles)
            return self.model.predict(
                (_text(t), _text(d)) for t, d in zip(titles, descriptions)
            )

    # Logged as code (MLflow's "models from code"), not as a pickled object.
    mlflow.models.set_model(BookCategoryModel())
except ImportError:  # numpy alone is enough for TextClassifier
    pass
