#!/usr/bin/env python3
"""Converts the shared datasets into the files lote's benchmarks train and evaluate on.

The held-back evaluation trains the same way: clinc150 and mtod_es as JSONL {"text", "label"}
(clinc150: train + oos_train labelled "oos", dev = val + oos_val), banking77 from its CSV. For
tuning without touching any test split, banking77's train.csv is also split into a stratified
train/dev (90/10, fixed seed).

Usage: bench/datasets/prepare.py [--datasets DIR] [--out DIR]
Writes OUT/{banking77,clinc150,mtod_es}/...; prints what it wrote. Standard library only.
"""
import argparse
import csv
import json
import os
import random
import sys


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    print(f"wrote {path} ({len(rows)} rows)")


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "category"])
        w.writerows(rows)
    print(f"wrote {path} ({len(rows)} rows)")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.environ.get(
        "LOTE_DATASETS", os.path.join(here, "..", "..", "..", "shared", "datasets")))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "build", "datasets"))
    a = ap.parse_args()
    if not os.path.isdir(a.datasets):
        print(f"datasets not found at {a.datasets}: nothing to prepare", file=sys.stderr)
        return 0

    b77 = os.path.join(a.datasets, "banking77", "train.csv")
    if os.path.exists(b77):
        out = os.path.join(a.out, "banking77")
        os.makedirs(out, exist_ok=True)
        with open(b77, encoding="utf-8", newline="") as f:
            rows = [(r["text"], r["category"]) for r in csv.DictReader(f)]
        by = {}
        for t, l in rows:
            by.setdefault(l, []).append((t, l))
        rng = random.Random(13)
        tr, dv = [], []
        for l in sorted(by):
            v = by[l][:]
            rng.shuffle(v)
            k = max(1, len(v) // 10)
            dv += v[:k]
            tr += v[k:]
        write_csv(os.path.join(out, "train90.csv"), tr)
        write_csv(os.path.join(out, "dev10.csv"), dv)

    clinc = os.path.join(a.datasets, "clinc150", "data_full.trainval.json")
    if os.path.exists(clinc):
        out = os.path.join(a.out, "clinc150")
        os.makedirs(out, exist_ok=True)
        d = json.load(open(clinc, encoding="utf-8"))
        write_jsonl(os.path.join(out, "train.jsonl"),
                    [tuple(x) for x in d["train"]] + [(t, "oos") for t, _ in d["oos_train"]])
        write_jsonl(os.path.join(out, "dev.jsonl"),
                    [tuple(x) for x in d["val"]] + [(t, "oos") for t, _ in d["oos_val"]])

    mtod = os.path.join(a.datasets, "mtod_es")
    if os.path.isdir(mtod):
        out = os.path.join(a.out, "mtod_es")
        os.makedirs(out, exist_ok=True)
        for split, name in (("train", "train"), ("eval", "dev")):
            rows = []
            with open(os.path.join(mtod, f"{split}-es.tsv"), encoding="utf-8") as f:
                for line in f:
                    cols = line.rstrip("\n").split("\t")
                    if len(cols) >= 3:
                        rows.append((cols[2].strip(), cols[0]))
            write_jsonl(os.path.join(out, f"{name}.jsonl"), rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
