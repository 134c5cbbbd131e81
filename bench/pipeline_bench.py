#!/usr/bin/env python3
"""End-to-end `lote run` throughput and memory on generated JSONL messages (issue 4), compared
in the same run with `lote predict` over the same records.

Generates --mb megabytes of JSONL messages (about 100 bytes each, texts from the bundled
sample, unique ids) under build/bench-data, runs the pipeline with a classifier only (patterns
off) and with classifier + patterns, then `lote predict`, and prints records/s, MB/s, peak RSS
and the per-stage seconds from the run summary. Deletes what it generated.

Usage: bench/pipeline_bench.py [--mb 100] [--model models/intents.lote] [--lote build/lote]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    secs, rss = r.stderr.strip().splitlines()[-1].split()
    return float(secs), int(rss) / 1024.0, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "intents.lote"))
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    a = ap.parse_args()
    work = os.path.join(ROOT, "build", "bench-data", f"pipeline-{a.mb}mb")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if shutil.disk_usage(work).free < a.mb * 2**20 * 4:
        sys.exit("not enough free disk for this size")
    texts = [json.loads(l)["text"] for l in open(os.path.join(ROOT, "data", "sample", "train.jsonl"))]
    data = os.path.join(work, "msgs.jsonl")
    n = size = 0
    with open(data, "w") as f:
        while size < a.mb * 2**20:
            line = json.dumps({"id": f"m{n}", "text": texts[n % len(texts)]}, ensure_ascii=False) + "\n"
            f.write(line)
            size += len(line.encode())
            n += 1
    configs = {
        "classifier only": "infer:\n  extract: false\npii:\n  mode: none\n",
        "classifier + patterns, PII masked": "pii:\n  mode: mask\n",
    }
    print(f"{n:,} records, {size / 2**20:.0f} MiB of JSONL, {os.cpu_count()} cores")
    print("| run | seconds | records/s | MB/s | peak RSS (MiB) | ingest / prep / infer / publish (s, summed over threads) |")
    print("|---|---|---|---|---|---|")
    for name, cfg in configs.items():
        cfg_path = os.path.join(work, "cfg.yaml")
        open(cfg_path, "w").write(cfg)
        out = os.path.join(work, "out")
        shutil.rmtree(out, ignore_errors=True)
        secs, rss, stdout = timed([a.lote, "run", "--input", data, "--output", out, "--model",
                                   a.model, "--config", cfg_path])
        m = re.search(r"ingest ([\d.]+) s, prep ([\d.]+) s, infer ([\d.]+) s, publish ([\d.]+) s", stdout)
        stages = " / ".join(m.groups()) if m else "?"
        print(f"| lote run, {name} | {secs:.1f} | {n / secs:,.0f} | {size / 2**20 / secs:.1f} | {rss:.0f} | {stages} |")
    secs, rss, _ = timed([a.lote, "predict", "--model", a.model, "--input", data, "--output",
                          os.path.join(work, "pred.jsonl")])
    print(f"| lote predict (same records) | {secs:.1f} | {n / secs:,.0f} | {size / 2**20 / secs:.1f} | {rss:.0f} | |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
