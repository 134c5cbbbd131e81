#!/usr/bin/env python3
"""End-to-end `lote run` throughput and memory on generated JSONL messages (issue 4), compared
in the same run with `lote predict` over the same records.

Generates --mb megabytes of JSONL messages (about 100 bytes each, texts from the bundled
sample, unique ids) under --work (default build/bench-data), runs the pipeline with a classifier
only (patterns off) and with classifier + patterns, then the same classifier-only job as four
stage commands (ingest, prep, infer, publish: the hand-over cost), then `lote predict`, and
prints records/s, MB/s, peak RSS (/usr/bin/time %M) and the per-stage seconds from the run's
manifest. Deletes what it generated. Needs about 4x --mb of free disk.

Usage: bench/pipeline_bench.py [--mb 100] [--model models/intents.lote] [--lote build/lote]
                               [--work DIR]
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
    return float(secs), int(rss) / 1024.0, r.stdout


def manifest_stages(summary_json):
    """Per-stage seconds of a run, from its manifest (named in the JSON run summary)."""
    try:
        manifest = json.loads(summary_json.strip().splitlines()[-1])["manifest"]
        st = json.load(open(manifest))["stages_seconds"]
        return " / ".join(f"{st[k]:.2f}" for k in ("ingest", "prep", "infer", "publish"))
    except (ValueError, KeyError, IndexError, OSError):
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "intents.lote"))
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data"))
    a = ap.parse_args()
    work = os.path.join(a.work, f"pipeline-{a.mb}mb")
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
                                   a.model, "--config", cfg_path, "--log-format", "json"])
        print(f"| lote run, {name} | {secs:.1f} | {n / secs:,.0f} | {size / 2**20 / secs:.1f} "
              f"| {rss:.0f} | {manifest_stages(stdout)} |")
    # The classifier-only job again, one stage command at a time (hand-over through files).
    open(cfg_path, "w").write(configs["classifier only"])
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    total, peak, parts = 0.0, 0.0, []
    for stage in ("ingest", "prep", "infer", "publish"):
        cmd = [a.lote, stage, "--output", out, "--config", cfg_path, "--log-format", "json"]
        if stage == "ingest":
            cmd += ["--input", data]
        if stage == "infer":
            cmd += ["--model", a.model]
        secs, rss, stdout = timed(cmd)
        total += secs
        peak = max(peak, rss)
        parts.append(f"{secs:.1f}")
    print(f"| lote ingest + prep + infer + publish, classifier only | {total:.1f} | "
          f"{n / total:,.0f} | {size / 2**20 / total:.1f} | {peak:.0f} | "
          f"{' / '.join(parts)} (wall per command) |")
    secs, rss, _ = timed([a.lote, "predict", "--model", a.model, "--input", data, "--output",
                          os.path.join(work, "pred.jsonl")])
    print(f"| lote predict (same records) | {secs:.1f} | {n / secs:,.0f} | {size / 2**20 / secs:.1f} | {rss:.0f} | |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
