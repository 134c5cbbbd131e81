#!/usr/bin/env python3
"""Entity extraction throughput (tagger + pattern extractors), peak RSS, training time and
quality (issue 3), with the scikit-learn peer (bench/ner_sklearn_peer.py) in the same run.

1. Trains lote's tagger on conll2002_es esp.train with dev esp.testa (the held-back evaluation's
   protocol: epochs chosen on dev, then refit on both) and times it.
2. Trains lote on esp.train alone and the peer on esp.train, and scores both on esp.testa
   (unseen by these two models): entity F1 with conlleval's chunking.
3. Rebuilds the sentences of esp.testa as plain text (tokens joined by spaces, one sentence per
   line), replicates them to at least --tokens tokens, and runs `lote extract` (model of step 1,
   tagger + patterns) on each --threads count, and the peer's tagger (one process; no pattern
   extractors), --repeat times each; prints the median run's tokens/s and its peak RSS
   (/usr/bin/time -f %M). With --sentences-per-record N > 1 lote's records are JSONL texts of
   N consecutive sentences, long enough (N >= 20) for the second pass to run (the peer is then
   skipped: it reads sentences).

The replicated file is written under the build folder and deleted at the end.
conll2002_es is research-only: used here for benchmarks, never for a shipped model.

Usage: bench/extract_throughput.py [--lote build/lote] [--tokens 2000000] [--repeat 3]
       [--datasets ../shared/datasets] [--threads 1,2] [--sentences-per-record 1] [--no-peer]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from ner_sklearn_peer import read_conll  # noqa: E402  (the peer reads CoNLL the same way)


def timed(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    secs, rss = r.stderr.strip().splitlines()[-1].split()
    return float(secs), int(rss) / 1024.0, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--datasets", default=os.path.join(os.path.dirname(ROOT), "shared", "datasets"))
    ap.add_argument("--tokens", type=int, default=2_000_000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sentences-per-record", type=int, default=1)
    ap.add_argument("--no-peer", action="store_true", help="skip the scikit-learn peer")
    a = ap.parse_args()
    conll = os.path.join(a.datasets, "conll2002_es")
    train, testa = os.path.join(conll, "esp.train"), os.path.join(conll, "esp.testa")
    work = os.path.join(os.path.dirname(os.path.abspath(a.lote)), "bench-extract")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    peer_script = os.path.join(ROOT, "bench", "ner_sklearn_peer.py")
    peer = not a.no_peer and a.sentences_per_record <= 1
    if peer and subprocess.run(["/usr/bin/python3", "-c", "import sklearn"],
                               capture_output=True).returncode != 0:
        print("(python3-sklearn missing: scripts/bootstrap.sh --bench; peer skipped)")
        peer = False
    # Timings on a shared machine mean little without its load: print it with the numbers.
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    try:
        model = os.path.join(work, "conll_es.lote")
        secs, rss, err = timed([a.lote, "train", "extract", "--train", train, "--dev", testa,
                                "--format", "conll", "--name", "conll_es", "--out", model])
        print(f"train  lote, esp.train + dev esp.testa: {secs:.1f} s, peak RSS {rss:.0f} MiB")
        for line in err.splitlines():
            if line.startswith(("trained", "dev:")):
                print("       " + line)

        rows = []  # (system, train s, train RSS, F1 on esp.testa)
        only = os.path.join(work, "conll_es_train.lote")
        secs, rss, _ = timed([a.lote, "train", "extract", "--train", train, "--format", "conll",
                              "--name", "conll_es", "--out", only])
        r = subprocess.run([a.lote, "eval", "--model", only, "--data", testa, "--format", "conll",
                            "--json"],
                           capture_output=True, text=True, check=True)
        rows.append(("lote", secs, rss, json.loads(r.stdout)["f1"]))
        if peer:
            pkl = os.path.join(work, "peer.pkl")
            secs, rss, _ = timed(["/usr/bin/python3", peer_script, "train", train, pkl])
            r = subprocess.run(["/usr/bin/python3", peer_script, "eval", pkl, testa],
                               capture_output=True, text=True, check=True)
            rows.append(("scikit-learn LinearSVC, token windows", secs, rss,
                         json.loads(r.stdout)["f1"]))
        print("\nquality: train on esp.train only, entity F1 on esp.testa (conlleval chunking)")
        print("| system | training (s) | training peak RSS (MiB) | F1 esp.testa |")
        print("|---|---|---|---|")
        for name, secs, rss, f1 in rows:
            print(f"| {name} | {secs:.1f} | {rss:.0f} | {f1:.4f} |")

        sents = [[w for w, _ in s] for s in read_conll(testa)]
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
        print(f"\ninput  esp.testa x{copies}: {len(sents) * copies} sentences, "
              f"{max(k, 1)} per record, {tokens} tokens, "
              f"{os.path.getsize(data) / 2**20:.1f} MiB; median of {a.repeat} runs")

        def median_run(cmd):
            runs = sorted((timed(cmd)[:2] for _ in range(a.repeat)), key=lambda r: r[0])
            return runs[len(runs) // 2], [r[0] for r in runs]

        print("| system | threads | seconds (all runs) | tokens/s | peak RSS (MiB) |")
        print("|---|---|---|---|---|")
        results = {}
        for t in [int(x) for x in a.threads.split(",")]:
            (secs, rss), all_secs = median_run(
                ["sh", "-c", f"ulimit -f 4194304; exec {a.lote} extract --model {model} "
                 f"--input {data} --format {fmt} --threads {t} --reference-date 2024-06-01 "
                 f">/dev/null"])
            results[t] = tokens / secs
            print(f"| lote extract (tagger + patterns) | {t} | {secs:.2f} "
                  f"({', '.join(f'{x:.2f}' for x in all_secs)}) | {tokens / secs:,.0f} | "
                  f"{rss:.0f} |")
        if peer:
            (secs, rss), all_secs = median_run(
                ["sh", "-c", f"exec /usr/bin/python3 {peer_script} tag {pkl} {data} >/dev/null"])
            print(f"| scikit-learn peer (tagger only) | 1 | {secs:.2f} "
                  f"({', '.join(f'{x:.2f}' for x in all_secs)}) | {tokens / secs:,.0f} | "
                  f"{rss:.0f} |")
            if 1 in results:
                print(f"lote / peer, 1 thread: {results[1] / (tokens / secs):.1f}x")
        print(f"load average {os.getloadavg()[0]:.1f} at end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
