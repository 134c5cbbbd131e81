#!/usr/bin/env python3
"""Drift simulation (issue 18): does lote's per-run monitoring say "drift" when, and only when,
a batch is unlike what the model was trained for, and does its label-free accuracy estimate
track the measured accuracy?

Builds, from banking77's train.csv only (its official test split is held back), a stratified
split with a fixed seed: TRAIN (50 %) and DEV (20 %) train the model (`lote train classify
--train --dev`: the reference profile is taken on DEV by the calibration-phase model), POOL
(30 %) is never trained on. Seven intents are left out of all three (NEW). Then it runs `lote run`
on batches and reads each run's monitoring.json:

  in-distribution  records drawn from POOL (the training label mix), 1,000 to 100,000 records
                   (with replacement past the pool's size), --repeats times each;
  label prior      half of the records from three intents;
  new intents      30 % from the left-out intents;
  language         30 % Spanish (mtod_es train-es, another domain too);
  domain           30 % clinc150 (other domains' assistant queries);
  mix X %          X % clinc150 texts mixed into POOL records, X = 0, 5, 10, 20, 30, 50.

For each scenario: share of repeats with verdict drift / warn, the signals that fired, and the
estimated accuracy against the measured one (a record from another domain or a left-out intent
counts as wrong: the model has no right label for it): mean absolute error and how often the
interval covered the measured value; how many batches named terms in top_terms, and the first
batch's top terms. Prints a markdown
table (docs/monitoring.md keeps the latest).

Usage: bench/drift_sim.py [--repeats 20] [--lote build/lote] [--datasets ../shared/datasets]
                          [--work build/bench-data/drift] [--seed 7] [--quick]
"""
import argparse
import collections
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_banking(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(r["text"], r["category"]) for r in csv.DictReader(f)]


def load_clinc(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return [t for t, _ in d["train"]]


def load_mtod(path):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 3 and cols[2].strip():
                texts.append(cols[2].strip())
    return texts


def split(rows, rng, new_intents):
    by_label = collections.defaultdict(list)
    for text, label in rows:
        by_label[label].append((text, label))
    train, dev, pool, new = [], [], [], []
    for label in sorted(by_label):
        items = by_label[label]
        rng.shuffle(items)
        if label in new_intents:
            new += items
            continue
        a, b = int(len(items) * 0.5), int(len(items) * 0.7)
        train += items[:a]
        dev += items[a:b]
        pool += items[b:]
    return train, dev, pool, new


def write_labelled(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")


def run_batch(a, work, model, records):
    """Runs lote on `records` [(text, gold or None)]; returns (monitoring report, measured acc)."""
    lake = os.path.join(work, "lake")
    out = os.path.join(work, "out")
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(lake)
    # Records without a label among the model's (other domains, new intents) count as wrong:
    # the model has no right answer for them.
    gold = {}
    with open(os.path.join(lake, "batch.jsonl"), "w", encoding="utf-8") as f:
        for i, (text, label) in enumerate(records):
            rid = f"r{i}"
            gold[rid] = label
            f.write(json.dumps({"id": rid, "text": text}, ensure_ascii=False) + "\n")
    r = subprocess.run([a.lote, "run", "--input", lake, "--output", out, "--model", model,
                        "--config", os.path.join(work, "cfg.yaml"), "--log-format", "json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"lote run failed: {r.stderr[-2000:]}")
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    report = summary["monitoring"]
    q = subprocess.run([a.lote, "query", "--output", out, "--format", "csv",
                        "SELECT record_id, label FROM results"],
                       capture_output=True, text=True, check=True)
    rows = list(csv.reader(q.stdout.splitlines()))[1:]
    measured = sum(gold.get(rid) == label for rid, label in rows) / max(len(rows), 1)
    return report, measured


def draw(rng, items, n):
    if n <= len(items):
        return rng.sample(items, n)
    return [rng.choice(items) for _ in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--datasets", default=os.environ.get(
        "LOTE_DATASETS", os.path.join(ROOT, "..", "shared", "datasets")))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data", "drift"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repeats (a smoke run)")
    a = ap.parse_args()
    banking = os.path.join(a.datasets, "banking77", "train.csv")
    clinc = os.path.join(a.datasets, "clinc150", "data_full.trainval.json")
    mtod = os.path.join(a.datasets, "mtod_es", "train-es.tsv")
    for p in (banking, clinc, mtod):
        if not os.path.exists(p):
            sys.exit(f"missing {p}")
    rng = random.Random(a.seed)
    rows = load_banking(banking)
    labels = sorted({label for _, label in rows})
    new_intents = set(rng.sample(labels, 7))
    train, dev, pool, new = split(rows, rng, new_intents)
    other_domain = load_clinc(clinc)
    spanish = load_mtod(mtod)

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    write_labelled(os.path.join(a.work, "train.jsonl"), train)
    write_labelled(os.path.join(a.work, "dev.jsonl"), dev)
    with open(os.path.join(a.work, "cfg.yaml"), "w") as f:
        f.write("pii:\n  mode: none\n")  # entities on: the entity signals are tested too
    model = os.path.join(a.work, "banking.lote")
    subprocess.run([a.lote, "train", "classify", "--train", os.path.join(a.work, "train.jsonl"),
                    "--dev", os.path.join(a.work, "dev.jsonl"), "--name", "banking", "--out",
                    model], check=True, capture_output=True)
    print(f"banking77 train.csv: train {len(train)}, dev (reference) {len(dev)}, pool {len(pool)},"
          f" left-out intents {len(new_intents)} ({len(new)} rows); clinc150 {len(other_domain)},"
          f" mtod_es {len(spanish)}; seed {a.seed}")
    profile = json.loads(subprocess.run([a.lote, "profile", model, "--json"], capture_output=True,
                                        text=True, check=True).stdout)
    cal = profile["calibration"]
    print(f"reference profile: {profile['records']} rows ({profile['source']}): accuracy "
          f"{cal['accuracy']:.3f}, mean score {cal['mean_score']:.3f}, ECE {cal['ece']:.3f}\n")

    pool_l = [(t, l) for t, l in pool]
    top3 = [l for l, _ in collections.Counter(l for _, l in pool).most_common()[-3:]]
    top3_rows = [(t, l) for t, l in pool if l in top3]

    def mixed(share, extra, labelled_extra=False):
        def make(n):
            k = int(round(n * share))
            base = draw(rng, pool_l, n - k)
            add = draw(rng, extra, k)
            add = add if labelled_extra else [(t, None) for t in add]
            out = base + add
            rng.shuffle(out)
            return out
        return make

    sizes = [1000, 10000] if a.quick else [1000, 10000, 100000]
    reps = max(2, a.repeats // 4) if a.quick else a.repeats
    scenarios = []
    for n in sizes:
        scenarios.append((f"in-distribution", n, reps if n < 100000 else max(3, reps // 4),
                          mixed(0.0, [])))
    scenarios += [
        ("label prior (3 rarest intents = 50 %)", 10000, max(3, reps // 4),
         mixed(0.5, top3_rows, labelled_extra=True)),
        ("new intents (30 %)", 10000, max(3, reps // 4), mixed(0.3, [t for t, _ in new])),
        ("Spanish, other domain (30 %)", 10000, max(3, reps // 4), mixed(0.3, spanish)),
        ("clinc150 domains (30 %)", 10000, max(3, reps // 4), mixed(0.3, other_domain)),
    ]
    for share in (0.05, 0.10, 0.20, 0.30, 0.50):
        scenarios.append((f"mix {int(share * 100)} % clinc150", 10000, max(3, reps // 2),
                          mixed(share, other_domain)))

    print("| scenario | records | repeats | drift | warn | signals at drift or warn | "
          "est. accuracy | measured | mean abs error | interval covers | batches naming terms | "
          "top terms (first batch) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, repeats, make in scenarios:
        verdicts = collections.Counter()
        fired = collections.Counter()
        errors, covered, estimates, measured_all = [], 0, [], []
        naming, first_terms = 0, None
        for _ in range(repeats):
            report, measured = run_batch(a, a.work, model, make(n))
            verdicts[report["verdict"]] += 1
            terms = report.get("top_terms", [])
            naming += bool(terms)
            if first_terms is None:
                first_terms = ", ".join(t["term"] for t in terms[:4]) or "-"
            for s in report["signals"]:
                if s["band"] != "ok":
                    fired[s["name"]] += 1
            est = report["estimated_accuracy"]
            estimates.append(est["value"])
            if measured is not None:
                measured_all.append(measured)
                errors.append(abs(est["value"] - measured))
                covered += est["low"] <= measured <= est["high"]
        sig = ", ".join(f"{k} {v}" for k, v in fired.most_common()) or "-"
        err = f"{statistics.mean(errors):.3f}" if errors else "n/a"
        cov = f"{covered}/{len(errors)}" if errors else "n/a"
        meas = f"{statistics.mean(measured_all):.3f}" if measured_all else "n/a"
        print(f"| {name} | {n:,} | {repeats} | {verdicts['drift']}/{repeats} | "
              f"{verdicts['warn']}/{repeats} | {sig} | {statistics.mean(estimates):.3f} | {meas} | "
              f"{err} | {cov} | {naming}/{repeats} | {first_terms} |", flush=True)
    shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
