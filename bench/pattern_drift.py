#!/usr/bin/env python3
"""What a change to the pattern extractors changes, message by message.

Builds one JSONL file of texts from the bundled sample (train/dev/test), the pattern case file,
the first 400 MEDDOCAN reports (sorted paths) and the sentences of conll2002_es esp.testa,
runs `lote redact --mode type` with two lote binaries over it, and prints every message whose
redacted text differs, then the count. docs/patterns.md's "5,277 texts" checks were made this
way (an older build as --old, the new one as --new).

Usage: bench/pattern_drift.py --old OLD_LOTE [--new build/lote] [--datasets ../shared/datasets]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def texts(datasets):
    for split in ("train", "dev", "test"):
        with open(os.path.join(ROOT, "data", "sample", split + ".jsonl"), encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)["text"]
    with open(os.path.join(ROOT, "tests", "data", "patterns", "cases.jsonl"), encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)["text"]
    for path in sorted(glob.glob(os.path.join(datasets, "meddocan_es", "*", "*.txt")))[:400]:
        with open(path, encoding="utf-8") as f:
            yield f.read()
    sentence = []
    with open(os.path.join(datasets, "conll2002_es", "esp.testa"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                sentence.append(line.split()[0])
            elif sentence:
                yield " ".join(sentence)
                sentence = []
    if sentence:
        yield " ".join(sentence)


def redact(lote, path):
    out = subprocess.run([lote, "redact", "--mode", "type", "--input", path, "--output", "-"],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mix.jsonl")
        n = 0
        with open(path, "w", encoding="utf-8") as f:
            for t in texts(a.datasets):
                f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
                n += 1
        old, new = redact(a.old, path), redact(a.new, path)
    changed = 0
    for o, w in zip(old, new):
        if o.get("text") != w.get("text") or o.get("error") != w.get("error"):
            changed += 1
            print("-", (o.get("text") or o.get("error", ""))[:200].replace("\n", " "))
            print("+", (w.get("text") or w.get("error", ""))[:200].replace("\n", " "))
    print(f"{changed} of {n} texts changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
