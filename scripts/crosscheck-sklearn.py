#!/usr/bin/env python3
"""Refits the category model's candidates with scikit-learn on the same split,
labels, tokenizer and TF-IDF definition as `books train`, as an independent
check of the figures in data/model.json's card.

Usage: python3 -m venv .venv && .venv/bin/pip install scikit-learn
       .venv/bin/python scripts/crosscheck-sklearn.py [DATA_DIR]

Not run by CI (it needs scikit-learn). One known difference: scikit-learn's
`max_features` keeps the terms most frequent in the corpus, ours the terms in
the most documents, so the two 5,000-term vocabularies differ at the margin.
"""

import csv
import hashlib
import json
import re
import sys
from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import ComplementNB

data = sys.argv[1] if len(sys.argv) > 1 else "data"
model = json.load(open(f"{data}/model.json", encoding="utf-8"))
card = model["card"]
rules = model["vectorizer"]["tokenizer"]
stop = set(rules["stop_words"])


def tokens(text):
    kept = []
    for token in re.split(r"[^A-Za-z0-9]+", text):
        if len(token) < rules["min_token_len"] or (rules["drop_numeric"] and token.isdigit()):
            continue
        token = token.lower()
        if token not in stop:
            kept.append(token)
    return kept


def is_test(book_id):
    seed, share = card["split"]["seed"], card["split"]["test_size"]
    digest = hashlib.sha256(f"{seed}:{book_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


with open(f"{data}/books.csv", newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
excluded = set(card["labels"]["excluded_categories"])
train = [r for r in rows if not is_test(int(r["id"]))]
test = [r for r in rows if is_test(int(r["id"])) and r["category"] not in excluded]
counts = Counter(r["category"] for r in train if r["category"] not in excluded)
classes = sorted(c for c, n in counts.items() if n >= card["labels"]["min_train_books"])
fitted = [r for r in train if r["category"] in classes]


def text(row):
    return row["title"] + "\n" + row["description"]


vectorizer = TfidfVectorizer(
    tokenizer=tokens, lowercase=False, token_pattern=None, sublinear_tf=True,
    min_df=card["features"]["min_df"], max_features=card["features"]["max_terms"],
)
x_train = vectorizer.fit_transform([text(r) for r in fitted])
y_train = [r["category"] for r in fitted]
x_test = vectorizer.transform([text(r) for r in test])
y_test = [r["category"] for r in test]
print(f"{len(classes)} classes, {len(fitted)} train books, {len(y_test)} test books")


def report(name, estimator):
    estimator.fit(x_train, y_train)
    predicted = estimator.predict(x_test)
    ranked = np.argsort(-estimator.predict_proba(x_test), axis=1)[:, :3]
    top3 = np.mean([y_test[i] in estimator.classes_[ranked[i]] for i in range(len(y_test))])
    f1 = f1_score(y_test, predicted, average="macro", zero_division=0)
    print(f"{name:48s} accuracy {accuracy_score(y_test, predicted):.3f}  top-3 {top3:.3f}  macro-F1 {f1:.3f}")


for result in card["selection"]["candidates"]:
    candidate = result["candidate"]
    ours = (f"(ours: {result['test_accuracy']:.3f} / {result['test_top3_accuracy']:.3f}"
            f" / {result['test_macro_f1']:.3f})")
    if candidate["algorithm"] == "logistic_regression":
        c = 1 / (x_train.shape[0] * candidate["l2"])
        weights = "balanced" if candidate["balanced"] else None
        report(f"logistic regression L2 {candidate['l2']}", LogisticRegression(C=c, class_weight=weights, max_iter=5000))
    else:
        report(f"complement naive Bayes alpha {candidate['alpha']}", ComplementNB(alpha=candidate["alpha"]))
    print(f"{'':48s} {ours}")
