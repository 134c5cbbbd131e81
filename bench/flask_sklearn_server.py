#!/usr/bin/env python3
"""The peer of bench/serve_bench.py: what teams deploy today on SageMaker's scikit-learn
container, a TF-IDF + LinearSVC pipeline behind Flask, speaking the same inference-container
contract as `lote serve` (GET /ping, POST /invocations with application/jsonlines in and out).

The model is bench/sklearn_baseline.py's: TF-IDF of word 1-2-grams and char_wb 2-5-grams
(sublinear), LinearSVC (C=1). Trains on --train (JSONL with text and label) at start-up, then serves on 127.0.0.1:--port with
Flask's threaded server. Each output line: {"record_id", "label", "score"} (score: the winning
decision-function value). Needs Debian's python3-sklearn and python3-flask
(scripts/bootstrap.sh --bench); run it with /usr/bin/python3.

Usage: /usr/bin/python3 bench/flask_sklearn_server.py --train data/sample/train.jsonl --port 8081
"""
import argparse
import json
import logging

from flask import Flask, Response, request
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    texts, labels = [], []
    with open(a.train, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    model = make_pipeline(features, LinearSVC())
    model.fit(texts, labels)
    classes = model.classes_

    app = Flask(__name__)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    @app.get("/ping")
    def ping():
        return Response("{}", mimetype="application/json")

    @app.post("/invocations")
    def invocations():
        ids, batch, out = [], [], []
        for n, line in enumerate(request.get_data().splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            ids.append(row.get("id", n))
            batch.append(row["text"])
        if batch:
            scores = model.decision_function(batch)
            for rid, s in zip(ids, scores):
                best = int(s.argmax())
                out.append(json.dumps({"record_id": rid, "label": classes[best],
                                       "score": float(s[best])}))
        body = "\n".join(out) + ("\n" if out else "")
        return Response(body, mimetype="application/jsonlines")

    app.run(host="127.0.0.1", port=a.port, threaded=True)


if __name__ == "__main__":
    main()
