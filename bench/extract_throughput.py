#!/usr/bin/env python3
"""Entity extraction throughput (tagger + pattern extractors), peak RSS and training time (issue 3).

Trains the tagger on conll2002_es esp.train (dev esp.testa) and times it, then rebuilds the
sentences of esp.testa as plain text (tokens joined by spaces, one sentence per line), replicates
them to at least --tokens tokens, and runs `lote extract` on 1 and 2 threads (stdout to
/dev/null). With --sentences-per-record N > 1 the records are JSONL texts of N consecutive
sentences (one per line), long enough (N >= 20) for a two-pass model's second pass to run. Prints tokens/s and peak RSS (/usr/bin/time -f %M) per run. The replicated file is
written under the build folder and deleted at the end.

conll2002_es is research-only: used here for benchmarks, never for a shipped model.

Usage: bench/extract_throughput.py [--lote build-x3/lote] [--tokens 2000000]
       [--datasets ../shared/datasets] [--threads 1,2] [--sentences-per-record 1]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    secs, rss = r.stderr.strip().splitlines()[-1].split()
    return float(secs), int(rss) / 1024.0, r.stderr


def read_sentences(path):
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.split()
            if not cols:
                if cur:
                    sents.append(cur)
                cur = []
            elif cols[0] != "-DOCSTART-":
                cur.append(cols[0])
    if cur:
        sents.append(cur)
    return sents


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build-x3", "lote"))
    ap.add_argument("--datasets", default=os.path.join(os.path.dirname(ROOT), "shared", "datasets"))
    ap.add_argument("--tokens", type=int, default=2_000_000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--sentences-per-record", type=int, default=1)
    a = ap.parse_args()
    conll = os.path.join(a.datasets, "conll2002_es")
    work = os.path.join(os.path.dirname(a.lote), "bench-extract")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # Timings on a shared machine mean little without its load: print it with the numbers.
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    try:
        model = os.path.join(work, "conll_es.lote")
        secs, rss, err = timed([a.lote, "train", "extract", "--train",
                                os.path.join(conll, "esp.train"), "--dev",
                                os.path.join(conll, "esp.testa"), "--format", "conll",
                                "--name", "conll_es", "--out", model])
        print(f"train  esp.train (+dev esp.testa): {secs:.1f} s, peak RSS {rss:.0f} MiB")
        for line in err.splitlines():
            if line.startswith(("trained", "dev:")):
                print("       " + line)

        sents = read_sentences(os.path.join(conll, "esp.testa"))
        per_copy = sum(len(s) for s in sents)
        copies = -(-a.tokens // per_copy)
        k = a.sentences_per_record
        if k <= 1:
            fmt, ext = "txt", "txt"
            text = "".join(" ".join(s) + "\n" for s in sents)
        else:
            fmt, ext = "jsonl", "jsonl"
            text = "".join(
                json.dumps({"text": "\n".join(" ".join(s) for s in sents[i:i + k])},
                           ensure_ascii=False) + "\n" for i in range(0, len(sents), k))
        data = os.path.join(work, "testa_x%d.%s" % (copies, ext))
        with open(data, "w", encoding="utf-8") as f:
            for _ in range(copies):
                f.write(text)
        tokens = per_copy * copies
        print(f"input  esp.testa x{copies}: {len(sents) * copies} sentences, "
              f"{max(k, 1)} per record, {tokens} tokens, "
              f"{os.path.getsize(data) / 2**20:.1f} MiB")
        for t in [int(x) for x in a.threads.split(",")]:
            secs, rss, _ = timed(["sh", "-c", f"ulimit -f 4194304; exec {a.lote} extract "
                                  f"--model {model} --input {data} --format {fmt} --threads {t} "
                                  f"--reference-date 2024-06-01 >/dev/null"])
            print(f"extract threads={t}: {secs:.2f} s, {tokens / secs:,.0f} tokens/s, "
                  f"peak RSS {rss:.0f} MiB")
        print(f"load average {os.getloadavg()[0]:.1f} at end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
