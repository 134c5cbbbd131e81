#!/usr/bin/env python3
"""End-to-end `lote run` throughput and memory on generated JSONL messages (issue 4), compared
in the same run with `lote predict` over the same records.

Generates --mb megabytes of JSONL messages (about 100 bytes each, texts from the bundled
sample, unique ids) under --work (default build/bench-data), then times, each --repeat times
(the table shows the median run):
  1. `lote run` with the classifier only (no extraction, no PII policy);
  2. `lote run` with classifier + tagger + patterns (a model bundling --model with a tagger
     trained from --tagger-train, default CoNLL-2002 Spanish when ../shared/datasets has it),
     PII masked as by default;
  3. the job of 1 as four stage commands (ingest, prep, infer, publish: the hand-over cost);
  4. `lote predict` over the same file with each model (no prep, dedup, catalog or manifest).
Prints records/s, MB/s, peak RSS (/usr/bin/time %M) and the per-stage seconds from the run's
manifest (summed over threads). Deletes what it generated. Needs about 5x --mb of free disk
(the catalog holds a compact copy of every row).

Usage: bench/pipeline_bench.py [--mb 100] [--repeat 3] [--model models/intents.lote]
                               [--tagger-train FILE] [--lote build/lote] [--work DIR]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONLL = os.path.join(ROOT, "..", "shared", "datasets", "conll2002_es", "esp.train")


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
        return " / ".join(f"{st[k]:.1f}" for k in ("ingest", "prep", "infer", "publish"))
    except (ValueError, KeyError, IndexError, OSError):
        return "?"


def median_run(repeat, once):
    """Runs once() `repeat` times; returns the (secs, rss, extra) of the median-time run."""
    runs = sorted((once() for _ in range(repeat)), key=lambda r: r[0])
    return runs[len(runs) // 2], [r[0] for r in runs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "intents.lote"))
    ap.add_argument("--tagger-train", default=CONLL,
                    help="CoNLL file to train the tagger of the full model (skipped if absent)")
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data"))
    a = ap.parse_args()
    work = os.path.join(a.work, f"pipeline-{a.mb}mb")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if shutil.disk_usage(work).free < a.mb * 2**20 * 5:
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

    models = {"classifier only": a.model}
    if os.path.exists(a.tagger_train):
        tagger = os.path.join(work, "tagger.lote")
        full = os.path.join(work, "full.lote")
        subprocess.run([a.lote, "train", "extract", "--train", a.tagger_train, "--format", "conll",
                        "--name", "bench-ner", "--out", tagger], check=True, capture_output=True)
        subprocess.run([a.lote, "bundle", "--out", full, a.model, tagger], check=True,
                       capture_output=True)
        models["classifier + tagger + patterns"] = full
    else:
        print(f"(no {a.tagger_train}: classifier + tagger + patterns skipped)")
    configs = {
        "classifier only": "infer:\n  extract: false\npii:\n  mode: none\n",
        "classifier + tagger + patterns": "pii:\n  mode: mask\n",
    }
    cfg_path = os.path.join(work, "cfg.yaml")
    out = os.path.join(work, "out")

    print(f"{n:,} records, {size / 2**20:.0f} MiB of JSONL, {os.cpu_count()} cores, "
          f"median of {a.repeat} runs")
    print("| run | seconds (all runs) | records/s | MB/s | peak RSS (MiB) | "
          "ingest / prep / infer / publish (s, summed over threads) |")
    print("|---|---|---|---|---|---|")

    def row(name, best, all_secs, stages=""):
        secs, rss = best[0], best[1]
        print(f"| {name} | {secs:.1f} ({', '.join(f'{s:.1f}' for s in all_secs)}) | "
              f"{n / secs:,.0f} | {size / 2**20 / secs:.1f} | {rss:.0f} | {stages} |")

    for name, model in models.items():
        open(cfg_path, "w").write(configs[name])

        def run_once():
            shutil.rmtree(out, ignore_errors=True)
            secs, rss, stdout = timed([a.lote, "run", "--input", data, "--output", out, "--model",
                                       model, "--config", cfg_path, "--log-format", "json"])
            return secs, rss, manifest_stages(stdout)  # read now: the next run deletes it
        best, all_secs = median_run(a.repeat, run_once)
        row(f"lote run, {name}", best, all_secs, best[2])

    # The classifier-only job again, one stage command at a time (hand-over through files).
    open(cfg_path, "w").write(configs["classifier only"])

    def stages_once():
        shutil.rmtree(out, ignore_errors=True)
        total, peak, parts = 0.0, 0.0, []
        for stage in ("ingest", "prep", "infer", "publish"):
            cmd = [a.lote, stage, "--output", out, "--config", cfg_path, "--log-format", "json"]
            if stage == "ingest":
                cmd += ["--input", data]
            if stage == "infer":
                cmd += ["--model", a.model]
            secs, rss, _ = timed(cmd)
            total += secs
            peak = max(peak, rss)
            parts.append(f"{secs:.1f}")
        return total, peak, " / ".join(parts) + " (wall per command)"
    best, all_secs = median_run(a.repeat, stages_once)
    row("lote ingest + prep + infer + publish, classifier only", best, all_secs, best[2])
    shutil.rmtree(out, ignore_errors=True)

    for name, model in models.items():
        def predict_once():
            return timed([a.lote, "predict", "--model", model, "--input", data, "--output",
                          os.path.join(work, "pred.jsonl")])
        best, all_secs = median_run(a.repeat, predict_once)
        row(f"lote predict, {name} (same records)", best, all_secs)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
