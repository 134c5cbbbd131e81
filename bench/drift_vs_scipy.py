#!/usr/bin/python3
"""lote's drift tests against the same tests in scipy, on the same batches (issue 18, "Speed").

Evidently is not on this machine; the peer is what a Python team would write per batch with
Debian's python3-scipy (1.10.1) and numpy (1.24), from raw values. Run it with /usr/bin/python3,
which has both (no pandas or scikit-learn there: the observation files are read by splitting
lines, then turned into numpy arrays).

Data: real predictions. banking77's train.csv (../shared/datasets) is split by label with a fixed
seed into TRAIN (50 %), DEV (20 %) and POOL (30 %). `lote train classify --train TRAIN --dev DEV
--no-refit` makes a model whose reference profile is DEV as the final model scores it; `lote
ingest/prep/infer` then score DEV and POOL, and each record's stage fields (label, score, lang,
"sig": code points, words, unknown words, char n-grams, unknown ones, abstained) become one line of
an observation file (TSV, header in bench/drift_bench.cc). DEV's lines are the reference (its
profile is checked against the one stored in the model file); each batch of N records is drawn
with replacement from POOL's lines (rows the model never trained on), so larger batches repeat
real records.

Both sides read the same files and build the reference once, outside the timings:
  lote   build/lote-drift-bench: parse (file -> Observations), add (Profile::Add per record),
         compare (CompareProfiles, default DriftOptions: chi-square / KS up to 1,000 records,
         Jensen-Shannon / Wasserstein above; 400-replicate parametric bootstrap per signal for the
         thresholds, Bonferroni, three bands);
  scipy  parse (file -> numpy arrays: labels, languages, scores, lengths, unknown rates), tests
         (np.unique counts; scipy.stats.chi2_contingency on the 2 x K label / lang tables and
         scipy.stats.ks_2samp on the raw arrays up to 1,000 records; above,
         scipy.spatial.distance.jensenshannon on the frequencies and
         scipy.stats.wasserstein_distance / the reference's std: no thresholds beyond scipy's own
         p-values, so no verdict for the two distances), and, as the fair row, tests + a
         400-replicate bootstrap per signal (pooled raw values resampled with replacement at both
         sizes, the statistic recomputed, a gamma fitted to it as lote does, thresholds at
         0.05 / m and 0.01 / m). The bootstrap runs up to --bootstrap-max records; above that its
         time is extrapolated linearly from the largest size measured (marked ~; sorting makes the
         real cost grow a little faster).
Each side runs in its own process per batch size (peak RSS by /usr/bin/time); every timing is the
median of --runs runs inside that process. Deletes what it generated unless --keep.

Usage: /usr/bin/python3 bench/drift_vs_scipy.py [--lote build/lote-drift-bench] [--cli build/lote]
           [--sizes 1000,10000,100000,1000000] [--runs 5] [--bootstrap-max 100000]
           [--datasets ../shared/datasets] [--work build/bench-data/drift-vs-scipy] [--seed 7]
           [--keep]
Needs: cmake -DLOTE_BUILD_BENCH=ON build && cmake --build build --target lote_drift_bench;
       python3-scipy, zstd and /usr/bin/time (scripts/bootstrap.sh --bench installs time and
       python3-sklearn, which brings python3-scipy).
"""
import argparse
import collections
import csv
import glob
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = ("label\tscore\tabstained\tlang\tchars\twords\tunknown_words\tchar_ngrams"
          "\tunknown_char_ngrams")
NUMERIC = ("top_score", "text_length", "unknown_word_rate", "unknown_char_ngram_rate")
# lote's one-sided signals (drift.h): more unknown vocabulary, lower scores. ks_2samp(ref, batch):
# "greater" tests ref's CDF above the batch's (batch shifted up), "less" the other way.
KS_ALTERNATIVE = {"top_score": "less", "text_length": "two-sided",
                  "unknown_word_rate": "greater", "unknown_char_ngram_rate": "greater"}
SMALL_BATCH = 1000  # DriftOptions::small_batch
REPLICATES = 400    # DriftOptions::replicates
ALPHA_WARN, ALPHA_DRIFT = 0.05, 0.01


# ---------------------------------------------------------------- the scipy side (a subprocess)

def scipy_parse(path):
    """Observation file -> the arrays the tests take."""
    import numpy as np
    with open(path, encoding="utf-8") as f:
        if f.readline().rstrip("\n") != HEADER:
            sys.exit(f"{path}: not an observation file")
        cols = list(zip(*(line.rstrip("\n").split("\t") for line in f)))
    label = np.array(cols[0])
    labelled = label != ""
    lang = np.array(cols[3])
    score = np.array(cols[1], dtype=np.float64)
    abstained = np.array(cols[2], dtype=np.int8)
    chars = np.array(cols[4], dtype=np.float64)
    words, unk_words = (np.array(cols[i], dtype=np.float64) for i in (5, 6))
    ngrams, unk_ngrams = (np.array(cols[i], dtype=np.float64) for i in (7, 8))
    has_w, has_n = words > 0, ngrams > 0
    return {
        "records": len(label),
        "categorical": {
            "label": label[labelled],
            "lang": lang[lang != ""],
            "abstained": np.where(abstained[labelled] != 0, "yes", "no"),
        },
        "numeric": {
            "top_score": score[labelled],
            "text_length": chars,
            "unknown_word_rate": unk_words[has_w] / words[has_w],
            "unknown_char_ngram_rate": unk_ngrams[has_n] / ngrams[has_n],
        },
    }


def aligned(ref_cats, ref_counts, batch_values):
    """Counts of the reference and of the batch over the union of their categories."""
    import numpy as np
    cats, counts = np.unique(batch_values, return_counts=True)
    union = np.union1d(ref_cats, cats)
    r = np.zeros(len(union))
    b = np.zeros(len(union))
    r[np.searchsorted(union, ref_cats)] = ref_counts
    b[np.searchsorted(union, cats)] = counts
    return r, b


def categorical_statistic(r, b, small):
    import numpy as np
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency
    if small:
        keep = (r + b) > 0
        chi2, p, _, _ = chi2_contingency(np.vstack([r[keep], b[keep]]), correction=False)
        return chi2, p
    return jensenshannon(r / r.sum(), b / b.sum()), None


def numeric_statistic(name, ref, batch, ref_std, small, method="auto"):
    from scipy.stats import ks_2samp, wasserstein_distance
    if small:
        res = ks_2samp(ref, batch, alternative=KS_ALTERNATIVE[name], method=method)
        return res.statistic, res.pvalue
    return wasserstein_distance(ref, batch) / max(ref_std, 1e-3), None


def scipy_tests(ref, batch, used, ks_method="auto"):
    """The tests on one batch, from raw arrays: {signal: (statistic, scipy p-value or None)}."""
    small = batch["records"] <= SMALL_BATCH
    out = {}
    for name in used["categorical"]:
        cats, counts = ref["counts"][name]
        r, b = aligned(cats, counts, batch["categorical"][name])
        out[name] = categorical_statistic(r, b, small)
    for name in used["numeric"]:
        out[name] = numeric_statistic(name, ref["numeric"][name], batch["numeric"][name],
                                      ref["std"][name], small, ks_method)
    return out


def scipy_bootstrap(ref, batch, used, observed, rng):
    """A 400-replicate bootstrap per signal: pooled raw values resampled at both sizes; a gamma
    fitted to the statistic (squared for distances, as lote) gives p and the two thresholds."""
    import numpy as np
    from scipy.stats import gamma
    small = batch["records"] <= SMALL_BATCH
    m = len(used["categorical"]) + len(used["numeric"])
    bands = {}
    for name in used["categorical"] + used["numeric"]:
        categorical = name in used["categorical"]
        if categorical:
            cats, codes_ref = ref["codes"][name]
            union = np.union1d(cats, np.unique(batch["categorical"][name]))
            pooled = np.concatenate([np.searchsorted(union, cats)[codes_ref],
                                     np.searchsorted(union, batch["categorical"][name])])
            na = len(codes_ref)
        else:
            pooled = np.concatenate([ref["numeric"][name], batch["numeric"][name]])
            na = len(ref["numeric"][name])
        nb = len(pooled) - na
        stats = np.empty(REPLICATES)
        for i in range(REPLICATES):
            a = rng.choice(pooled, na)
            b = rng.choice(pooled, nb)
            if categorical:
                k = len(union)
                t, _ = categorical_statistic(np.bincount(a, minlength=k).astype(float),
                                             np.bincount(b, minlength=k).astype(float), small)
            else:
                t, _ = numeric_statistic(name, a, b, ref["std"][name], small, method="asymp")
            stats[i] = t
        squared = not (small and categorical)
        t_obs = observed[name][0] ** 2 if squared else observed[name][0]
        s = stats ** 2 if squared else stats
        mean, var = s.mean(), s.var(ddof=1)
        k, theta = mean * mean / var, var / mean
        p = gamma.sf(t_obs, k, scale=theta)
        warn = gamma.isf(ALPHA_WARN / m, k, scale=theta)
        drift = gamma.isf(ALPHA_DRIFT / m, k, scale=theta)
        band = "drift" if p < ALPHA_DRIFT / m else "warn" if p < ALPHA_WARN / m else "ok"
        bands[name] = (p, warn ** 0.5 if squared else warn, drift ** 0.5 if squared else drift,
                       band)
    return bands


def scipy_worker(a):
    import numpy as np
    ref = scipy_parse(a.reference)
    ref["counts"], ref["codes"], ref["std"] = {}, {}, {}
    for name, values in ref["categorical"].items():
        cats, codes, counts = np.unique(values, return_inverse=True, return_counts=True)
        ref["counts"][name] = (cats, counts)
        ref["codes"][name] = (cats, codes)
    for name, values in ref["numeric"].items():
        ref["std"][name] = float(values.std())
    # As lote: "abstained" only for models with an out-of-scope label, a signal only with data.
    used = {"categorical": [n for n in ("label", "lang", "abstained")
                            if len(ref["categorical"][n]) and
                            (n != "abstained" or (ref["categorical"][n] == "yes").any())],
            "numeric": [n for n in NUMERIC if len(ref["numeric"][n])]}
    parse_ms, tests_ms, boot_ms, asymp_ms = [], [], [], []
    observed = bands = None
    records = 0
    rng = np.random.default_rng(1)
    for run in range(a.runs):
        t0 = time.perf_counter()
        batch = scipy_parse(a.batch)
        t1 = time.perf_counter()
        records = batch["records"]
        observed = scipy_tests(ref, batch, used)
        t2 = time.perf_counter()
        parse_ms.append((t1 - t0) * 1e3)
        tests_ms.append((t2 - t1) * 1e3)
        if records <= SMALL_BATCH:
            # ks_2samp's default computes exact p-values up to 10,000 records a side; the
            # asymptotic ones (method='asymp') are timed too.
            t = time.perf_counter()
            scipy_tests(ref, batch, used, ks_method="asymp")
            asymp_ms.append((time.perf_counter() - t) * 1e3)
        t2 = time.perf_counter()
        if run < a.bootstrap_runs:
            bands = scipy_bootstrap(ref, batch, used, observed, rng)
            boot_ms.append((time.perf_counter() - t2) * 1e3)
        del batch
    print(json.dumps({
        "records": records,
        "parse_ms": statistics.median(parse_ms), "tests_ms": statistics.median(tests_ms),
        "bootstrap_ms": statistics.median(boot_ms) if boot_ms else None,
        "tests_ks_asymp_ms": statistics.median(asymp_ms) if asymp_ms else None,
        "runs": {"parse_ms": parse_ms, "tests_ms": tests_ms, "bootstrap_ms": boot_ms,
                 "tests_ks_asymp_ms": asymp_ms},
        "signals": {n: {"statistic": float(s), "scipy_p": None if p is None else float(p),
                        **({"p": float(bands[n][0]), "warn_threshold": float(bands[n][1]),
                            "threshold": float(bands[n][2]), "band": bands[n][3]}
                           if bands else {})}
                    for n, (s, p) in observed.items()},
    }))


# ---------------------------------------------------------------- data: real predictions

def split_banking(path, seed):
    with open(path, newline="", encoding="utf-8") as f:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(f)]
    rng = random.Random(seed)
    by_label = collections.defaultdict(list)
    for text, label in rows:
        by_label[label].append(text)
    train, dev, pool = [], [], []
    for label in sorted(by_label):
        items = by_label[label]
        rng.shuffle(items)
        a, b = int(len(items) * 0.5), int(len(items) * 0.7)
        train += [(t, label) for t in items[:a]]
        dev += [(t, label) for t in items[a:b]]
        pool += [(t, label) for t in items[b:]]
    return train, dev, pool


def score_texts(a, work, name, texts, model):
    """Observation lines (TSV, without header) of `texts` as `lote infer` scores them."""
    lake = os.path.join(work, f"lake-{name}")
    out = os.path.join(work, f"out-{name}")
    os.makedirs(lake)
    with open(os.path.join(lake, "texts.jsonl"), "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": f"{name}{i}", "text": text}, ensure_ascii=False) + "\n")
    cfg = os.path.join(work, "cfg.yaml")
    for stage, extra in (("ingest", ["--input", lake]), ("prep", []),
                         ("infer", ["--model", model])):
        subprocess.run([a.cli, stage, "--output", out, "--config", cfg] + extra, check=True,
                       capture_output=True)
    lines = []
    for part in sorted(glob.glob(os.path.join(out, "_stages", "infer", "*-[0-9]*.jsonl.zst"))):
        text = subprocess.run(["zstd", "-dc", part], check=True, capture_output=True,
                              text=True).stdout
        for rec in map(json.loads, text.splitlines()):
            if "sig" not in rec:
                continue  # a quarantined record: monitoring does not see it either
            chars, words, unk_w, ngrams, unk_n, abstained = rec["sig"]
            lines.append("\t".join(map(str, (
                rec.get("label", ""), rec.get("score", 0.0), abstained, rec.get("lang", ""),
                chars, words, unk_w, ngrams, unk_n)))
                + "\n")
    shutil.rmtree(lake)
    shutil.rmtree(out)
    return lines


def prepare(a, work):
    banking = os.path.join(a.datasets, "banking77", "train.csv")
    if not os.path.exists(banking):
        sys.exit(f"missing {banking}")
    train, dev, pool = split_banking(banking, a.seed)
    with open(os.path.join(work, "train.jsonl"), "w", encoding="utf-8") as f:
        for text, label in train:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    with open(os.path.join(work, "dev.jsonl"), "w", encoding="utf-8") as f:
        for text, label in dev:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    with open(os.path.join(work, "cfg.yaml"), "w") as f:
        f.write("infer:\n  extract: false\npii:\n  mode: none\n")
    model = os.path.join(work, "banking.lote")
    subprocess.run([a.cli, "train", "classify", "--train", os.path.join(work, "train.jsonl"),
                    "--dev", os.path.join(work, "dev.jsonl"), "--name", "banking", "--no-refit",
                    "--out", model], check=True, capture_output=True)
    ref_lines = score_texts(a, work, "dev", [t for t, _ in dev], model)
    pool_lines = score_texts(a, work, "pool", [t for t, _ in pool], model)
    reference = os.path.join(work, "reference.tsv")
    with open(reference, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        f.writelines(ref_lines)
    # The reference observations should be the rows the model's stored profile counted.
    stored = json.loads(subprocess.run([a.cli, "profile", model, "--json"], check=True,
                                       capture_output=True, text=True).stdout)
    ours = collections.Counter(line.split("\t", 1)[0] for line in ref_lines)
    same = dict(ours) == stored["categorical"]["label"] and len(ref_lines) == stored["records"]
    print(f"data: banking77 train.csv split with seed {a.seed}: train {len(train)}, dev "
          f"{len(dev)} (reference), pool {len(pool)}; model trained with --no-refit; reference "
          f"= {len(ref_lines)} dev records as `lote infer` scores them (label counts "
          f"{'equal' if same else 'DIFFER from'} the model's stored profile); batches = pool "
          f"records ({len(pool_lines)} real predictions) drawn with replacement (seed {a.seed})")
    return reference, pool_lines


def write_batch(path, pool_lines, n, rng):
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        k = len(pool_lines)
        for start in range(0, n, 100000):
            f.writelines(pool_lines[rng.randrange(k)] for _ in range(min(100000, n - start)))


# ---------------------------------------------------------------- side by side

def timed(cmd):
    """(stdout, peak RSS MiB) of one command under /usr/bin/time."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return r.stdout, int(r.stderr.strip().splitlines()[-1]) / 1024.0


def spread(runs):
    return f"{min(runs):.3g}-{max(runs):.3g}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote-drift-bench"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bootstrap-max", type=int, default=100000,
                    help="largest batch the scipy bootstrap row is measured on (above: ~ linear)")
    ap.add_argument("--datasets", default=os.environ.get(
        "LOTE_DATASETS", os.path.join(ROOT, "..", "shared", "datasets")))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data", "drift-vs-scipy"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the observation files")
    # Internal: the scipy side of one batch size, in its own process.
    ap.add_argument("--scipy-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reference", help=argparse.SUPPRESS)
    ap.add_argument("--batch", help=argparse.SUPPRESS)
    ap.add_argument("--bootstrap-runs", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.scipy_worker:
        return scipy_worker(a)
    if a.runs < 5:
        sys.exit("--runs: at least 5 (the table reports medians)")
    for binary in (a.lote, a.cli):
        if not os.access(binary, os.X_OK):
            sys.exit(f"missing {binary} (cmake -DLOTE_BUILD_BENCH=ON build && cmake --build build "
                     "--target lote_drift_bench)")
    import numpy
    import scipy
    sizes = [int(s) for s in a.sizes.split(",")]
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    reference, pool_lines = prepare(a, a.work)
    rng = random.Random(a.seed)
    print(f"scipy {scipy.__version__}, numpy {numpy.__version__}, Python "
          f"{sys.version.split()[0]}; {os.cpu_count()} cores; medians of {a.runs} runs per "
          f"process, one process per side and size\n", flush=True)

    rows = []
    for n in sizes:
        batch = os.path.join(a.work, f"batch-{n}.tsv")
        write_batch(batch, pool_lines, n, rng)
        out, lote_rss = timed([a.lote, "--reference", reference, "--batch", batch,
                               "--repeats", str(a.runs)])
        lote = next(json.loads(l) for l in out.splitlines() if '"what":"batch"' in l)
        boot_runs = a.runs if n <= a.bootstrap_max else 0
        out, py_rss = timed([sys.executable, os.path.abspath(__file__), "--scipy-worker",
                             "--reference", reference, "--batch", batch, "--runs", str(a.runs),
                             "--bootstrap-runs", str(boot_runs)])
        py = json.loads(out.strip().splitlines()[-1])
        rows.append((n, lote, lote_rss, py, py_rss))
        print(f"{n:,}: lote parse {lote['parse_ms']:.2f} add {lote['add_ms']:.2f} compare "
              f"{lote['compare_ms']:.2f} ms (add+compare runs "
              f"{spread(lote['runs']['add_compare_ms'])}), verdict {lote['verdict']}, "
              f"{lote_rss:.0f} MiB; scipy parse {py['parse_ms']:.1f} tests {py['tests_ms']:.1f} "
              f"ms (runs {spread(py['runs']['tests_ms'])})"
              + (f" [with ks_2samp method='asymp': {py['tests_ks_asymp_ms']:.1f} ms]"
                 if py["tests_ks_asymp_ms"] else "")
              + (f", tests + bootstrap {py['tests_ms'] + py['bootstrap_ms']:.0f} ms (bootstrap "
                 f"runs {spread(py['runs']['bootstrap_ms'])})" if py["bootstrap_ms"] else "")
              + f", {py_rss:.0f} MiB", flush=True)
        if not a.keep:
            os.remove(batch)

    measured = [(n, py["bootstrap_ms"]) for n, _, _, py, _ in rows if py["bootstrap_ms"]]
    print("\n| records | lote add + compare ms | lote parse ms | scipy tests ms | scipy parse ms "
          "| scipy tests / lote | scipy tests + 400-replicate bootstrap ms | that / lote | "
          "peak RSS lote / scipy MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, lote, lote_rss, py, py_rss in rows:
        ours = lote["add_compare_ms"]
        if py["bootstrap_ms"]:
            boot, mark = py["tests_ms"] + py["bootstrap_ms"], ""
        elif measured:
            n0, b0 = measured[-1]
            boot, mark = py["tests_ms"] + b0 * n / n0, "~"
        else:
            boot, mark = None, ""
        boot_cells = (f"{mark}{boot:,.0f} | {mark}{boot / ours:,.0f}x" if boot is not None
                      else "- | -")
        print(f"| {n:,} | {ours:,.2f} (add {lote['add_ms']:,.2f}, compare "
              f"{lote['compare_ms']:,.2f}) | {lote['parse_ms']:,.1f} | {py['tests_ms']:,.1f} | "
              f"{py['parse_ms']:,.0f} | {py['tests_ms'] / ours:,.1f}x | {boot_cells} | "
              f"{lote_rss:,.0f} / {py_rss:,.0f} |")

    # The same tests? Statistics side by side for each size (lote's on fixed bins, scipy's on
    # raw values; lote's numeric tests one-sided where drift.h says, scipy's Wasserstein not).
    print("\n| records | signal | test | lote statistic | scipy statistic | lote band | "
          "scipy + bootstrap band |")
    print("|---|---|---|---|---|---|---|")
    for n, lote, _, py, _ in rows:
        for s in lote["signals"]:
            q = py["signals"].get(s["name"], {})
            print(f"| {n:,} | {s['name']} | {s['test']} | {s['statistic']:.4g} | "
                  f"{q.get('statistic', float('nan')):.4g} | {s['band']} | {q.get('band', '-')} |")
    if not a.keep:
        shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
