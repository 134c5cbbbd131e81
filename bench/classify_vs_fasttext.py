#!/usr/bin/env python3
"""lote vs fastText on banking77, side by side in one run (issue 2's speed and memory targets).

Trains both on a stratified 90 % of banking77's train.csv, measures accuracy on the other 10 %
(the official test split is held back), then predicts the texts replicated to --lines lines on
one thread and on all threads. Prints medians of --runs runs and lote/fastText ratios.

fastText is Debian's `fasttext` package, tuned as the issue says: wordNgrams 2, char n-grams 2-5,
50 epochs. Its `predict` is single-threaded, so its all-threads column repeats the 1-thread run.

Usage: bench/classify_vs_fasttext.py [--lote build/lote] [--lines 300000] [--runs 3]
Needs: scripts/bootstrap.sh --bench (fasttext, time), bench/datasets/prepare.py's output.
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(cmd, stdout=None):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS MiB)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, stdout=stdout or subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    last = r.stderr.strip().splitlines()[-1].split()
    return float(last[0]), int(last[1]) / 1024.0


def ft_clean(text):
    # fastText's usual preprocessing: lower case, punctuation split off words.
    text = re.sub(r"([.!?,;:'\"/()\[\]])", r" \1 ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "datasets", "banking77"))
    ap.add_argument("--lines", type=int, default=300000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    train_csv = os.path.join(a.data, "train90.csv")
    dev_csv = os.path.join(a.data, "dev10.csv")
    if not os.path.exists(train_csv):
        subprocess.run([sys.executable, os.path.join(HERE, "datasets", "prepare.py")], check=True)
    if not os.path.exists(train_csv):
        print("banking77 not available: skipping")
        return 0

    work = tempfile.mkdtemp(prefix="lote-bench-")
    read = lambda p: list(csv.DictReader(open(p, encoding="utf-8", newline="")))
    train, dev = read(train_csv), read(dev_csv)
    with open(os.path.join(work, "ft_train.txt"), "w") as f:
        for r in train:
            f.write(f"__label__{r['category']} {ft_clean(r['text'])}\n")
    texts = [r["text"].replace("\n", " ").replace("\r", " ") for r in train + dev]
    big = os.path.join(work, "big.txt")
    with open(big, "w") as f:
        for i in range(a.lines):
            f.write(texts[i % len(texts)] + "\n")
    big_ft = os.path.join(work, "big_ft.txt")
    with open(big_ft, "w") as f:
        for i in range(a.lines):
            f.write(ft_clean(texts[i % len(texts)]) + "\n")
    dev_ft = os.path.join(work, "dev_ft.txt")
    with open(dev_ft, "w") as f:
        for r in dev:
            f.write(ft_clean(r["text"]) + "\n")

    res = {"lote": {}, "fastText": {}}
    # Training.
    model = os.path.join(work, "lote.model")
    t = [timed([a.lote, "train", "classify", "--train", train_csv, "--label-field", "category",
                "--out", model])[0] for _ in range(a.runs)]
    res["lote"]["train_s"] = statistics.median(t)
    ft_model = os.path.join(work, "ft")
    t = [timed(["fasttext", "supervised", "-input", os.path.join(work, "ft_train.txt"), "-output",
                ft_model, "-wordNgrams", "2", "-minn", "2", "-maxn", "5", "-epoch", "50",
                "-thread", str(a.threads), "-verbose", "0"])[0] for _ in range(a.runs)]
    res["fastText"]["train_s"] = statistics.median(t)
    res["lote"]["model_mb"] = os.path.getsize(model) / 2**20
    res["fastText"]["model_mb"] = os.path.getsize(ft_model + ".bin") / 2**20

    # Dev accuracy.
    out = subprocess.run([a.lote, "eval", "--model", model, "--data", dev_csv, "--label-field",
                          "category", "--json"], capture_output=True, text=True, check=True)
    import json
    res["lote"]["dev_acc"] = json.loads(out.stdout)["accuracy"]
    out = subprocess.run(["fasttext", "predict", ft_model + ".bin", dev_ft], capture_output=True,
                         text=True, check=True)
    pred = [l.replace("__label__", "").strip() for l in out.stdout.splitlines()]
    res["fastText"]["dev_acc"] = sum(p == r["category"] for p, r in zip(pred, dev)) / len(dev)

    # Prediction throughput and peak RSS.
    for threads, key in ((1, "1t"), (a.threads, "nt")):
        runs = [timed([a.lote, "predict", "--model", model, "--input", big, "--threads",
                       str(threads), "--output", os.path.join(work, "pred.jsonl")])
                for _ in range(a.runs)]
        res["lote"][f"dps_{key}"] = a.lines / statistics.median([r[0] for r in runs])
        res["lote"][f"rss_{key}"] = max(r[1] for r in runs)
    runs = [timed(["fasttext", "predict", ft_model + ".bin", big_ft],
                  stdout=open(os.path.join(work, "ft_pred.txt"), "w")) for _ in range(a.runs)]
    res["fastText"]["dps_1t"] = res["fastText"]["dps_nt"] = (
        a.lines / statistics.median([r[0] for r in runs]))
    res["fastText"]["rss_1t"] = res["fastText"]["rss_nt"] = max(r[1] for r in runs)

    rows = [("training (s)", "train_s", "{:.1f}"), ("predict docs/s, 1 thread", "dps_1t", "{:,.0f}"),
            (f"predict docs/s, {a.threads} threads", "dps_nt", "{:,.0f}"),
            ("peak RSS predicting (MiB)", "rss_nt", "{:.0f}"), ("model size (MiB)", "model_mb", "{:.1f}"),
            ("dev accuracy (10 % of train)", "dev_acc", "{:.4f}")]
    print(f"banking77, {a.lines:,} lines to predict, median of {a.runs} runs, {os.cpu_count()} cores")
    print(f"| metric | lote | fastText | lote/fastText |\n|---|---|---|---|")
    for name, k, fmt in rows:
        l, f = res["lote"][k], res["fastText"][k]
        print(f"| {name} | {fmt.format(l)} | {fmt.format(f)} | {l / f:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
