#!/usr/bin/env python3
"""The loop closes (issue 20): monitoring notices intents the champion never saw, late labels
arrive, the retraining flow trains, tests and promotes a candidate, and the next batches are
scored by it with their measured accuracy recovered. Then a candidate trained on corrupted labels
is rejected, and a bad promotion made by hand is rolled back for every later run.

From banking77's train.csv only (its official test split is held back), with a fixed seed: a
tenth of the intents (8 of 77) are NEW and never trained on. Per known intent: 50 % TRAIN, 15 %
DEV (the champion's calibration split), 15 % GOLDEN, 20 % POOL; per new intent: 15 % GOLDEN, 85 %
POOL. The champion (`lote train classify --train TRAIN --dev DEV`) is registered as version 1 of
`b77` and made `champion`. Then, batch by batch, on one pipeline output:

  1. the pipeline with `models:/b77@champion` on a batch of --batch records drawn from POOL, the
     share of new intents stepping up (0, 5, 10, 20, 30 % ...);
  2. the measured accuracy from the truth (a new-intent record the model cannot name counts as
     wrong), beside the run's label-free estimate and its drift verdict;
  3. `lote feedback` with the true labels of a --label-share sample of the batch;
  4. each batch goes through deploy/statemachines/pipeline.asl.json (`lote flow run`): when the
     run's alarm fires (the verdict reached drift: `monitoring.alarms` in the config) it runs
     deploy/statemachines/retrain.asl.json as a nested execution, on the labels that arrived
     before (so a batch's own labels serve the next retraining).

Prints one markdown row per batch and what each retraining decided. docs/benchmarks.md keeps the
latest run.

Usage: bench/retrain_sim.py [--lote build/lote] [--datasets ../shared/datasets]
                            [--work build/bench-data/retrain] [--batch 2000] [--seed 7] [--quick]
"""
import argparse
import collections
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_banking(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(r["text"], r["category"]) for r in csv.DictReader(f)]


def split(rows, rng, new_intents):
    by_label = collections.defaultdict(list)
    for text, label in rows:
        by_label[label].append((text, label))
    train, dev, golden, pool, new_pool = [], [], [], [], []
    for label in sorted(by_label):
        items = by_label[label]
        rng.shuffle(items)
        n = len(items)
        if label in new_intents:
            g = int(n * 0.15)
            golden += items[:g]
            new_pool += items[g:]
            continue
        a, b, c = int(n * 0.5), int(n * 0.65), int(n * 0.8)
        train += items[:a]
        dev += items[a:b]
        golden += items[b:c]
        pool += items[c:]
    return train, dev, golden, pool, new_pool


def write_labelled(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")


class Sim:
    def __init__(self, a):
        self.a = a
        self.work = a.work
        self.labelled_texts = set()
        self.env = dict(os.environ, LOTE_REGISTRY=os.path.join(a.work, "registry"),
                        LOTE_USER="retrain-sim")

    def lote(self, *args, check=True):
        r = subprocess.run([self.a.lote, *args], capture_output=True, text=True, env=self.env)
        if check and r.returncode != 0:
            sys.exit(f"lote {' '.join(args[:2])} failed ({r.returncode}): {r.stderr[-3000:]}")
        return r

    def champion(self):
        show = json.loads(self.lote("registry", "show", "b77", "--json").stdout)
        return show["aliases"].get("champion"), show

    def run_batch(self, k, records):
        """Scores `records` [(text, gold)] as batch k; returns the row of numbers."""
        lake = os.path.join(self.work, "lake", f"b{k:02d}")
        os.makedirs(lake)
        gold, texts = {}, {}
        with open(os.path.join(lake, "batch.jsonl"), "w", encoding="utf-8") as f:
            for i, (text, label) in enumerate(records):
                rid = f"b{k:02d}-{i}"
                gold[rid] = label
                texts[rid] = text
                f.write(json.dumps({"id": rid, "text": text}, ensure_ascii=False) + "\n")
        # The pipeline's own definition: Prep, Infer, Publish, then, when the run's alarm fires,
        # the retraining flow as a nested execution (on the labels that arrived before it).
        sm = os.path.join(ROOT, "deploy", "statemachines")
        inp = {"input": lake, "output": os.path.join(self.work, "out"), "retrain": self.retrain_input()}
        del inp["retrain"]["output"]
        t0 = time.monotonic()
        r = self.lote("flow", "run", "--definition", os.path.join(sm, "pipeline.asl.json"),
                      "--substitutions", os.path.join(sm, "local.substitutions.json"),
                      "--state-machine-file", "retrain=" + os.path.join(sm, "retrain.asl.json"),
                      "--model", "lote-model=models:/b77@champion", "--config",
                      os.path.join(self.work, "cfg.yaml"), "--name", f"pipeline-{k:02d}",
                      "--history", os.path.join(self.work, "history.db"), "--input",
                      json.dumps(inp), "--quiet")
        self.seconds = time.monotonic() - t0
        flow_out = json.loads(r.stdout)
        summary = {"monitoring": flow_out["publish"]["run"]["monitoring"],
                   "retraining": flow_out.get("retraining")}
        q = self.lote("query", "--output", os.path.join(self.work, "out"), "--format", "csv",
                      f"SELECT record_id, label FROM results WHERE record_id LIKE 'b{k:02d}-%'")
        rows = list(csv.reader(q.stdout.splitlines()))[1:]
        right = sum(gold[rid] == label for rid, label in rows)
        on_new = [(rid, label) for rid, label in rows if gold[rid] in self.new_intents]
        right_new = sum(gold[rid] == label for rid, label in on_new)
        # The pool is small (batches draw with replacement): records whose text was labelled in
        # an earlier batch may have been trained on. Accuracy on the others is the clean one.
        unseen = [(rid, label) for rid, label in rows if texts[rid] not in self.labelled_texts]
        right_unseen = sum(gold[rid] == label for rid, label in unseen)
        self.texts = texts
        return (summary, right / max(len(rows), 1),
                (right_new / len(on_new)) if on_new else None,
                (right_unseen / len(unseen), len(unseen)) if unseen else None, gold)

    def feedback(self, k, gold, rng, corrupt=False):
        ids = sorted(gold)
        sample = rng.sample(ids, int(len(ids) * self.a.label_share))
        labels = sorted(set(gold.values()) | self.known)
        path = os.path.join(self.work, f"labels-{k:02d}.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["record_id", "label"])
            for rid in sample:
                self.labelled_texts.add(self.texts[rid])
                label = gold[rid]
                if corrupt:  # a labelling job gone wrong: any label but the right one
                    label = rng.choice([l for l in labels if l != gold[rid]])
                w.writerow([rid, label])
        self.lote("feedback", "--output", os.path.join(self.work, "out"), "--labels", path)
        return len(sample)

    def retrain_input(self):
        return {"registry": os.path.join(self.work, "registry"), "model": "b77",
                "output": os.path.join(self.work, "out"),
                "base": os.path.join(self.work, "base.jsonl"),
                "golden": os.path.join(self.work, "golden.jsonl"),
                "work": os.path.join(self.work, "flow-work")}

    def retrain(self, name):
        inp = self.retrain_input()
        t0 = time.monotonic()
        r = self.lote("flow", "run", "--definition",
                      os.path.join(ROOT, "deploy", "statemachines", "retrain.asl.json"),
                      "--substitutions",
                      os.path.join(ROOT, "deploy", "statemachines", "local.substitutions.json"),
                      "--name", name, "--history", os.path.join(self.work, "history.db"),
                      "--input", json.dumps(inp), "--quiet", check=False)
        seconds = time.monotonic() - t0
        if r.returncode not in (0, 6):
            sys.exit(f"retrain flow failed to run: {r.stderr[-3000:]}")
        out = json.loads(r.stdout)
        if r.returncode == 6:
            return f"flow failed: {out.get('error')}", seconds
        return describe(out), seconds


def describe(out):
        """One line for a retrain.asl.json execution's output."""
        d = out.get("promotion", {}).get("decision")
        data = out["trainingData"]["data"]
        if d is None:
            return "no new labels"
        verdict = "PROMOTED" if d["promoted"] else f"rejected: {d['reason']}"
        return (f"retrained on {data['baseRows']} + {data['feedbackRows']} labelled rows: "
                f"version {out['candidate']['version']} {verdict} (golden accuracy "
                f"{d['champion_accuracy']:.3f} -> {d['candidate_accuracy']:.3f}, b={d['mcnemar']['b']}"
                f" c={d['mcnemar']['c']}, p={d['mcnemar']['p_value']:.2g})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--datasets", default=os.environ.get(
        "LOTE_DATASETS", os.path.join(ROOT, "..", "shared", "datasets")))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data", "retrain"))
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--label-share", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smaller batches (a smoke run)")
    a = ap.parse_args()
    if a.quick:
        a.batch = 600
    banking = os.path.join(a.datasets, "banking77", "train.csv")
    if not os.path.exists(banking):
        sys.exit(f"missing {banking}")
    rng = random.Random(a.seed)
    rows = load_banking(banking)
    labels = sorted({label for _, label in rows})
    new_intents = set(rng.sample(labels, len(labels) // 10))
    train, dev, golden, pool, new_pool = split(rows, rng, new_intents)

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    sim = Sim(a)
    sim.new_intents = new_intents
    sim.known = set(labels) - new_intents
    write_labelled(os.path.join(a.work, "train.jsonl"), train)
    write_labelled(os.path.join(a.work, "dev.jsonl"), dev)
    write_labelled(os.path.join(a.work, "golden.jsonl"), golden)
    # What the champion learned from (refit on TRAIN + DEV): the first retraining's base.
    write_labelled(os.path.join(a.work, "base.jsonl"), train + dev)
    with open(os.path.join(a.work, "cfg.yaml"), "w") as f:
        f.write("pii:\n  mode: none\nmonitoring:\n  alarms:\n    - name: drift\n"
                "      signal: verdict\n      band: drift\n")
    model = os.path.join(a.work, "champion.lote")
    sim.lote("train", "classify", "--train", os.path.join(a.work, "train.jsonl"), "--dev",
             os.path.join(a.work, "dev.jsonl"), "--name", "b77", "--out", model)
    sim.lote("registry", "register", "--name", "b77", "--model", model)
    sim.lote("registry", "alias", "set", "b77", "champion", "1", "--reason", "initial model")
    print(f"banking77 train.csv: train {len(train)}, dev {len(dev)}, golden {len(golden)}, "
          f"pool {len(pool)} + {len(new_pool)} of the {len(new_intents)} new intents; batches of "
          f"{a.batch}, labels for {a.label_share:.0%} of each; seed {a.seed}\n")

    shares = [0.0, 0.05, 0.10, 0.20, 0.30, 0.30, 0.30]
    print("| batch | new intents | scored by | verdict (signals at drift) | estimated accuracy "
          "| measured | measured, texts never labelled (records) | on new intents | then |")
    print("|---|---|---|---|---|---|---|---|---|")
    k = 0
    decisions = []

    def batch_row(share, action_for, corrupt=False):
        nonlocal k
        n_new = int(round(a.batch * share))
        records = [rng.choice(pool) for _ in range(a.batch - n_new)]
        records += [rng.choice(new_pool) for _ in range(n_new)]
        rng.shuffle(records)
        version, _ = sim.champion()
        summary, measured, on_new, unseen, gold = sim.run_batch(k, records)
        mon = summary["monitoring"]
        est = mon.get("estimated_accuracy") or {}
        drifted = [s["name"] for s in mon.get("signals", []) if s.get("band") == "drift"]
        n_labels = sim.feedback(k, gold, rng, corrupt=corrupt)
        action = action_for(summary, n_labels)
        est_text = (f"{est['value']:.3f} [{est['low']:.3f}, {est['high']:.3f}]"
                    if "value" in est else "-")
        print(f"| {k} | {share:.0%} | v{version} | {mon.get('verdict')}"
              f"{' (' + ', '.join(drifted[:4]) + ')' if drifted else ''} | {est_text} | "
              f"{measured:.3f} | {'-' if unseen is None else f'{unseen[0]:.3f} ({unseen[1]})'} | "
              f"{'-' if on_new is None else f'{on_new:.3f}'} | {action} |",
              flush=True)
        k += 1

    def alarm_text(summary):
        r = summary.get("retraining")
        if not r:
            return ""
        if r.get("failed"):
            text = f"retraining failed: {r.get('error')}"
        else:
            text = describe(r["output"])
        decisions.append(text)
        return f"alarm: {text}; pipeline execution {sim.seconds:.0f} s in all; then "

    def on_alarm(summary, n_labels):
        return f"{alarm_text(summary)}{n_labels} labels"

    for share in shares:
        batch_row(share, on_alarm)

    # A labelling job gone wrong: the candidate trained on its labels must not be promoted.
    def corrupt_then_retrain(summary, n_labels):
        prefix = alarm_text(summary)
        text, seconds = sim.retrain(f"retrain-corrupt-{k:02d}")
        decisions.append(text)
        return (f"{prefix}{n_labels} CORRUPTED labels; retrained by hand: {text} in "
                f"{seconds:.0f} s")

    batch_row(0.30, corrupt_then_retrain, corrupt=True)
    good, show = sim.champion()
    rejected = [v["version"] for v in show["versions"] if v["status"] == "rejected"]
    # A bad promotion by hand (the corrupted candidate), then its rollback: the runs follow.
    if rejected:
        bad = rejected[-1]
        sim.lote("registry", "alias", "set", "b77", "champion", str(bad), "--reason",
                 "simulated bad promotion")
        batch_row(0.30, lambda s, n: f"{alarm_text(s)}{n} labels; champion was set to v{bad} by "
                  "hand before the run")
        sim.lote("registry", "rollback", "b77", "champion", "--reason", "accuracy fell")
        batch_row(0.30, lambda s, n: f"{alarm_text(s)}{n} labels; run after `lote registry "
                  "rollback`")
        back, _ = sim.champion()
        print(f"\nrollback restored champion v{back} (was v{good} before the bad promotion)")
    print("\nretraining decisions:")
    for d in decisions:
        print(f"- {d}")


if __name__ == "__main__":
    main()
