#!/usr/bin/env python3
"""scikit-learn reference on the same banking77 90/10 split as bench/classify_quality.sh.

TF-IDF word 1-2 + char_wb 2-5 (sublinear), LinearSVC (C=1) and LogisticRegression (C=10), the
configuration the issue quotes for the held-back test split. Needs Debian's python3-sklearn
(scripts/bootstrap.sh --bench) and bench/datasets/prepare.py's output.

Usage: /usr/bin/python3 bench/sklearn_baseline.py [build/datasets/banking77]
"""
import csv
import os
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC


def read(path):
    rows = list(csv.DictReader(open(path, encoding="utf-8", newline="")))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "datasets", "banking77")
    xtr, ytr = read(os.path.join(data, "train90.csv"))
    xte, yte = read(os.path.join(data, "dev10.csv"))
    vec = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                     TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    a, b = vec.fit_transform(xtr), vec.transform(xte)
    for name, model in (("LinearSVC", LinearSVC()),
                        ("LogisticRegression", LogisticRegression(C=10, max_iter=2000))):
        pred = model.fit(a, ytr).predict(b)
        print(f"banking77 (dev 10 %) scikit-learn {name}: accuracy="
              f"{sum(p == y for p, y in zip(pred, yte)) / len(yte):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
