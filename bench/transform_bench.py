#!/usr/bin/env python3
"""The infer step two ways, side by side in one run (docs/adr/0015): `lote infer` on the prep
stage's files, and the deployed pipeline's Batch Transform: prep's parts sent whole to `lote
serve` (tests/tools/batch_transform.py --manifest, SplitType None, 2 requests in flight) and the
answers imported by `lote publish --transform-output`.

Generates --records JSONL messages (texts from the bundled sample, unique ids), runs `lote prep
--input` once per repetition into a fresh output for each way, then times, alternately, --repeat
times each:
  infer      `lote infer --threads 2` (reads prep's parts, writes infer's files);
  transform  the transform job against a running `lote serve --threads 2` (model loaded before the
             clock starts); then `lote publish --transform-output` (the import and the publish),
             next to infer's plain `lote publish`.
Prints the medians (wall s, records/s) and the ratio transform / infer. The server's start-up
(SageMaker's, not lote's, concern) is left out; the Python client's own cost is in.

Usage: bench/transform_bench.py [--records 200000] [--repeat 5] [--model models/intents.lote]
                                [--lote build/lote] [--work DIR]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BT = os.path.join(ROOT, "tests", "tools", "batch_transform.py")
CONFIG = "infer:\n  extract: false\npii:\n  mode: none\n"


def run(cmd):
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return time.monotonic() - t0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "intents.lote"))
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data"))
    a = ap.parse_args()
    work = os.path.join(a.work, "transform")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "in"))
    texts = [json.loads(line)["text"]
             for line in open(os.path.join(ROOT, "data", "sample", "train.jsonl"))]
    with open(os.path.join(work, "in", "msgs.jsonl"), "w") as f:
        for n in range(a.records):
            f.write(json.dumps({"id": f"m{n}", "text": texts[n % len(texts)]},
                               ensure_ascii=False) + "\n")
    config = os.path.join(work, "pipeline.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)
    port = free_port()
    serve = subprocess.Popen([a.lote, "serve", "--model", a.model, "--port", str(port),
                              "--threads", "2", "--config", config, "--pii-mode", "none",
                              "--max-payload-mb", "100"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/ping").status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        times = {"infer": [], "transform": [], "publish": [], "publish+import": []}
        parts = 0
        for i in range(a.repeat):
            for way in ("infer", "transform") if i % 2 == 0 else ("transform", "infer"):
                out = os.path.join(work, f"out-{way}-{i}")
                job = os.path.join(out, "_stages", "transform", "job")
                manifest = os.path.join(job, "manifest.json")
                prep = [a.lote, "prep", "--input", os.path.join(work, "in"), "--output", out,
                        "--config", config]
                if way == "transform":
                    prep += ["--transform-manifest", manifest]
                run(prep)
                if way == "infer":
                    times["infer"].append(run([a.lote, "infer", "--output", out, "--model",
                                               a.model, "--threads", "2", "--config", config]))
                    times["publish"].append(run([a.lote, "publish", "--output", out,
                                                 "--config", config]))
                else:
                    parts = len(json.load(open(manifest))) - 1
                    times["transform"].append(run([
                        sys.executable, BT, "--endpoint", f"http://127.0.0.1:{port}",
                        "--manifest", manifest, "--output", job, "--split-type", "None",
                        "--assemble-with", "None", "--batch-strategy", "SINGLE_RECORD",
                        "--max-concurrent-transforms", "2", "--max-payload-mb", "100",
                        "--content-type", "application/x-lote-prep+zstd",
                        "--accept", "application/x-lote-infer+zstd"]))
                    times["publish+import"].append(run([
                        a.lote, "publish", "--output", out, "--config", config,
                        "--transform-output", job]))
                shutil.rmtree(out)
    finally:
        serve.terminate()
        serve.wait()
    shutil.rmtree(work, ignore_errors=True)
    print(f"records: {a.records:,}; prep parts per run: {parts}; model {a.model}; "
          f"2 threads each; medians of {a.repeat}")
    print("| step | way | median s (all runs) | records/s |")
    print("|---|---|---|---|")
    for name in ("infer", "transform", "publish", "publish+import"):
        m = statistics.median(times[name])
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"| {'infer' if name in ('infer', 'transform') else 'publish'} | {name} | "
              f"{m:.2f} ({runs}) | {a.records / m:,.0f} |")
    ratio = statistics.median(times["transform"]) / statistics.median(times["infer"])
    print(f"transform / infer: {ratio:.2f}x; (transform + publish with import) / "
          f"(infer + publish): "
          f"{(statistics.median(times['transform']) + statistics.median(times['publish+import'])) / (statistics.median(times['infer']) + statistics.median(times['publish'])):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
