#!/usr/bin/env python3
"""The model registry's numbers in docs/registry.md, reproduced.

1. Promotion: the sample's intent model (train + dev, as the quick start trains it) against a
   champion trained on the same rows with 3 labels in 5 replaced by another row's label, scored
   by `lote promote` on the sample's test split. Prints the command's output.
2. What reading a model's event log costs on S3: moto_server on a free loopback port (stopped by
   pid), one registered version plus --events - 1 tag events, then `lote registry show` and
   `lote registry resolve` (which also reads the model file), median wall seconds of --repeat runs,
   with the checkpoints the writers left, then with them deleted (awscli), every event read.

Usage: bench/registry_bench.py [--lote build/lote] [--events 200] [--repeat 5]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "data", "sample")


def run(cmd, env=None, quiet=True):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r.stdout


def promotion(lote, work):
    good = os.path.join(work, "intents.lote")
    run([lote, "train", "classify", "--train", os.path.join(SAMPLE, "train.jsonl"), "--dev",
         os.path.join(SAMPLE, "dev.jsonl"), "--name", "intents", "--out", good])
    rows = [json.loads(line) for line in open(os.path.join(SAMPLE, "train.jsonl"), encoding="utf-8")]
    scrambled = os.path.join(work, "scrambled.jsonl")
    with open(scrambled, "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            label = rows[(i * 7 + 3) % len(rows)]["label"] if i % 5 < 3 else r["label"]
            f.write(json.dumps({"text": r["text"], "label": label}, ensure_ascii=False) + "\n")
    bad = os.path.join(work, "scrambled.lote")
    run([lote, "train", "classify", "--train", scrambled, "--name", "scrambled", "--out", bad])
    env = dict(os.environ, LOTE_REGISTRY=os.path.join(work, "registry"), LOTE_USER="bench")
    run([lote, "registry", "register", "--name", "intents", "--model", bad], env)
    run([lote, "registry", "alias", "set", "intents", "champion", "1"], env)
    run([lote, "registry", "register", "--name", "intents", "--model", good], env)
    print("## promotion: the sample's model against a champion trained on scrambled labels\n")
    print("$ lote promote --name intents --candidate 2 --golden data/sample/test.jsonl")
    print(run([lote, "promote", "--name", "intents", "--candidate", "2", "--golden",
               os.path.join(SAMPLE, "test.jsonl")], env))
    return good


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_log(lote, work, model, events, repeat):
    port = free_port()
    log = open(os.path.join(work, "moto.log"), "w")
    moto = subprocess.Popen(["moto_server", "-p", str(port)], stdout=log, stderr=log)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        urllib.request.urlopen(urllib.request.Request(endpoint + "/registry-bench", method="PUT"))
        env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint, AWS_EC2_METADATA_DISABLED="true",
                   LOTE_REGISTRY="s3://registry-bench/registry", LOTE_USER="bench")
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
            env.pop(k, None)
        run([lote, "registry", "register", "--name", "m", "--model", model], env)
        for i in range(1, events):
            run([lote, "registry", "tag", "m", f"k{i}=v"], env)

        def timed(cmd):
            t = []
            for _ in range(repeat):
                start = time.monotonic()
                run(cmd, env)
                t.append(time.monotonic() - start)
            return statistics.median(t), t

        size = os.path.getsize(model)
        rows = []
        # With the checkpoints the writers left (every 100th event), then without them: the
        # same log read event by event.
        for label in ("with checkpoints", "without (every event read)"):
            if label.startswith("without"):
                run(["aws", "s3", "rm", "--recursive", "--endpoint-url", endpoint,
                     "s3://registry-bench/registry/models/m/checkpoints/"], env)
            show = timed([lote, "registry", "show", "m"])
            resolve = timed([lote, "registry", "resolve", "models:/m/1"])
            rows.append((label, show, resolve))
        print(f"## reading a model of {events} events on moto's S3 (median of {repeat})\n")
        print("| log read | command | wall s (median) | all runs |")
        print("|---|---|---|---|")
        for label, show, resolve in rows:
            print(f"| {label} | lote registry show m | {show[0]:.2f} | "
                  f"{', '.join(f'{x:.2f}' for x in show[1])} |")
            print(f"| {label} | lote registry resolve models:/m/1 (reads the {size / 1e6:.1f} MB "
                  f"file too) | {resolve[0]:.2f} | {', '.join(f'{x:.2f}' for x in resolve[1])} |")
    finally:
        moto.terminate()
        moto.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lote-registry-bench-") as work:
        model = promotion(a.lote, work)
        event_log(a.lote, work, model, a.events, a.repeat)


if __name__ == "__main__":
    main()
