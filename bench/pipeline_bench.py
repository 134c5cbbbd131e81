#!/usr/bin/env python3
"""What `lote run` adds over `lote predict`, measured side by side in one run (issue 12).

Generates --records JSONL messages (texts from the bundled sample, unique ids) under --work
(default build/bench-data), then runs, alternately, --repeat times each:
  predict  `lote predict` with the classifier (reads, classifies, writes JSONL);
  run      `lote run` with the same classifier (no extraction, no PII policy): ingest, prep
           (cleaning, language), infer, dedup, results parts, catalog, manifest, monitoring;
  run-nomon  the same with `monitoring: {enabled: false}`: what monitoring costs (issue 18's
           target: at most 5 %).
  run-shadow (with --shadow) the same as run plus `--shadow` with a second classifier (the
           sample's train split only, C 0.5): what shadow scoring costs (issue 20).
Alternating the two keeps a machine's drift out of the ratio. Prints, for each: the median wall
seconds, records/s, CPU seconds (user + sys), peak RSS; the ratio run / predict of the medians
and the median of the per-pair ratios; then where the run's time goes, from its manifest's
stage timers (seconds summed over threads; a thread that waits for a core is still timed, so the
shares, not the absolute numbers, are what to read). With --with-tagger the same for a model
bundling a CoNLL-2002 tagger (entities, PII masked). Deletes what it generated.

Usage: bench/pipeline_bench.py [--records 200000] [--repeat 5] [--model models/intents.lote]
                               [--threads 0] [--lote build/lote] [--work DIR] [--with-tagger]
                               [--shadow]
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
CONLL_DEV = os.path.join(ROOT, "..", "shared", "datasets", "conll2002_es", "esp.testa")
STAGES = ("ingest", "prep", "infer", "publish", "catalog")


def timed(cmd):
    """(wall s, cpu s, peak RSS MiB, stdout) of one command."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    wall, user, sys_, rss = r.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(sys_), int(rss) / 1024.0, r.stdout


def manifest_stages(summary_json):
    summary = json.loads(summary_json.strip().splitlines()[-1])
    with open(summary["manifest"]) as f:
        return json.load(f)["stages_seconds"]


def ensure_model(a, work):
    if os.path.exists(a.model):
        return a.model
    model = os.path.join(work, "intents.lote")
    subprocess.run([a.lote, "train", "classify", "--train",
                    os.path.join(ROOT, "data", "sample", "train.jsonl"), "--dev",
                    os.path.join(ROOT, "data", "sample", "dev.jsonl"), "--name", "intents",
                    "--out", model], check=True, capture_output=True)
    return model


def compare(a, work, data, n, size, name, model, config, shadow=None):
    cfg = os.path.join(work, "cfg.yaml")
    with open(cfg, "w") as f:
        f.write(config)
    cfg_nomon = os.path.join(work, "cfg-nomon.yaml")
    with open(cfg_nomon, "w") as f:
        f.write(config + "monitoring:\n  enabled: false\n")
    out = os.path.join(work, "out")
    threads = ["--threads", str(a.threads)] if a.threads > 0 else []
    runs = {"predict": [], "run": [], "run-nomon": []}
    if shadow:
        runs["run-shadow"] = []
    stages = []
    for _ in range(a.repeat):
        runs["predict"].append(timed([a.lote, "predict", "--model", model, "--input", data,
                                      "--output", os.path.join(work, "pred.jsonl"),
                                      "--pii-mode", "none"] + threads)[:3])
        shutil.rmtree(out, ignore_errors=True)
        wall, cpu, rss, stdout = timed([a.lote, "run", "--input", data, "--output", out, "--model",
                                        model, "--config", cfg, "--log-format", "json"] + threads)
        runs["run"].append((wall, cpu, rss))
        stages.append(manifest_stages(stdout))
        shutil.rmtree(out, ignore_errors=True)
        runs["run-nomon"].append(timed([a.lote, "run", "--input", data, "--output", out,
                                        "--model", model, "--config", cfg_nomon] + threads)[:3])
        if shadow:
            shutil.rmtree(out, ignore_errors=True)
            runs["run-shadow"].append(timed([a.lote, "run", "--input", data, "--output", out,
                                             "--model", model, "--config", cfg, "--shadow",
                                             shadow] + threads)[:3])
    shutil.rmtree(out, ignore_errors=True)

    print(f"\n### {name}: {n:,} records, {size / 2**20:.1f} MiB of JSONL, "
          f"{os.cpu_count()} cores, median of {a.repeat} alternating runs\n")
    print("| command | wall s (all runs) | records/s | CPU s | peak RSS MiB |")
    print("|---|---|---|---|---|")
    med = {}
    for cmd in runs:
        walls = [r[0] for r in runs[cmd]]
        med[cmd] = statistics.median(walls)
        cpu = statistics.median(r[1] for r in runs[cmd])
        rss = max(r[2] for r in runs[cmd])
        print(f"| lote {cmd} | {med[cmd]:.2f} ({', '.join(f'{w:.2f}' for w in walls)}) | "
              f"{n / med[cmd]:,.0f} | {cpu:.2f} | {rss:.0f} |")
    pairs = [r[0] / p[0] for p, r in zip(runs["predict"], runs["run"])]
    cpu_pairs = [r[1] / p[1] for p, r in zip(runs["predict"], runs["run"])]
    mon_pairs = [r[0] / m[0] for m, r in zip(runs["run-nomon"], runs["run"])]
    mon_cpu = [r[1] / m[1] for m, r in zip(runs["run-nomon"], runs["run"])]
    print(f"\nrun / predict: wall {med['run'] / med['predict']:.2f}x (median of pair ratios "
          f"{statistics.median(pairs):.2f}x), CPU {statistics.median(cpu_pairs):.2f}x")
    print(f"monitoring on / off: wall {med['run'] / med['run-nomon']:.3f}x (median of pair "
          f"ratios {statistics.median(mon_pairs):.3f}x), CPU {statistics.median(mon_cpu):.3f}x\n")
    if shadow:
        sh = [r[0] / m[0] for m, r in zip(runs["run"], runs["run-shadow"])]
        sh_cpu = [r[1] / m[1] for m, r in zip(runs["run"], runs["run-shadow"])]
        print(f"shadow on / off: wall {statistics.median(r[0] for r in runs['run-shadow']) / med['run']:.3f}x "
              f"(median of pair ratios {statistics.median(sh):.3f}x), CPU "
              f"{statistics.median(sh_cpu):.3f}x\n")
    totals = {s: statistics.median(st.get(s, 0.0) for st in stages) for s in STAGES}
    all_s = sum(totals.values()) or 1.0
    print("| stage of lote run | thread-seconds (median) | share |")
    print("|---|---|---|")
    for s in STAGES:
        print(f"| {s} | {totals[s]:.2f} | {100 * totals[s] / all_s:.0f} % |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "intents.lote"))
    ap.add_argument("--threads", type=int, default=0, help="0: lote's default")
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data"))
    ap.add_argument("--shadow", action="store_true",
                    help="also run with --shadow (a second classifier) beside the plain run")
    ap.add_argument("--with-tagger", action="store_true",
                    help="also compare with a classifier + CoNLL-2002 tagger bundle")
    a = ap.parse_args()
    if a.records < 100000:
        sys.exit("--records: at least 100,000 (issue 12 measures on 100,000 or more)")
    work = os.path.join(a.work, "pipeline")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    texts = [json.loads(line)["text"]
             for line in open(os.path.join(ROOT, "data", "sample", "train.jsonl"))]
    data = os.path.join(work, "msgs.jsonl")
    size = 0
    with open(data, "w") as f:
        for n in range(a.records):
            line = json.dumps({"id": f"m{n}", "text": texts[n % len(texts)]},
                              ensure_ascii=False) + "\n"
            f.write(line)
            size += len(line.encode())
    model = ensure_model(a, work)
    shadow = None
    if a.shadow:
        shadow = os.path.join(work, "shadow.lote")
        subprocess.run([a.lote, "train", "classify", "--train",
                        os.path.join(ROOT, "data", "sample", "train.jsonl"), "--c", "0.5",
                        "--name", "shadow", "--out", shadow], check=True, capture_output=True)
    compare(a, work, data, a.records, size, "classifier only", model,
            "infer:\n  extract: false\npii:\n  mode: none\n", shadow)
    if a.with_tagger:
        if not os.path.exists(CONLL):
            sys.exit(f"--with-tagger needs {CONLL}")
        tagger = os.path.join(work, "tagger.lote")
        full = os.path.join(work, "full.lote")
        # With --dev the tagger carries its monitoring reference, so runs compare the tagger's
        # per-sentence entity rates too (what that costs is in the monitoring on / off ratio).
        subprocess.run([a.lote, "train", "extract", "--train", CONLL, "--dev", CONLL_DEV,
                        "--format", "conll", "--name", "bench-ner", "--out", tagger], check=True,
                       capture_output=True)
        subprocess.run([a.lote, "bundle", "--out", full, model, tagger], check=True,
                       capture_output=True)
        compare(a, work, data, a.records, size, "classifier + tagger + patterns", full,
                "pii:\n  mode: none\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
