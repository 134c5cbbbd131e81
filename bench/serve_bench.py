#!/usr/bin/env python3
"""`lote serve` against `lote predict` and a Flask + scikit-learn server, in one run (issue 15).

Generates --records JSONL messages (texts of the bundled sample, unique ids), then measures:
  predict      `lote predict --threads T` over the records file: records/s (whole process);
  lote serve   `lote serve --threads T --no-prep` (the same work per record as predict; prep on
               is reported too) loaded by wrk on loopback:
                 - MULTI_RECORD: ~1 MB JSON Lines payloads, T connections: records/s;
                 - single-record requests, 1 connection: latency p50 / p99 (wrk --latency) and
                   requests/s; and T connections: requests/s;
               its resident memory before, during and after the load (VmRSS, VmHWM);
  flask        bench/flask_sklearn_server.py (bench/sklearn_baseline.py's TF-IDF word + char
               n-grams and LinearSVC, in Flask's threaded server: what SageMaker's scikit-learn
               container runs) under the same wrk loads.
Every measurement is repeated --repeat times, alternating the servers; medians are printed with
the ratios the issue sets targets for (MULTI_RECORD records/s >= 0.8x predict, >= 20x Flask;
single-record p99 < 2 ms). wrk and the servers share the machine's cores, as they would on one
instance.

Usage: bench/serve_bench.py [--records 100000] [--repeat 3] [--threads 2] [--duration 5]
                            [--lote build/lote] [--model models/intents.lote] [--work DIR]
Needs wrk, python3-sklearn and python3-flask (scripts/bootstrap.sh --bench).
"""
import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "data", "sample")

WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/jsonlines"
local f = assert(io.open(os.getenv("LOTE_BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ping(port, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("server did not answer /ping")


def rss_mib(pid):
    """(VmRSS, VmHWM) in MiB."""
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                vals[k] = int(v.split()[0]) / 1024.0
    return vals.get("VmRSS", 0.0), vals.get("VmHWM", 0.0)


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v = float(m.group(1))
    return {"us": v / 1000.0, "ms": v, "s": v * 1000.0}[m.group(2)]


def wrk(port, body_file, connections, duration, lua):
    env = dict(os.environ, LOTE_BENCH_BODY=body_file)
    r = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{int(duration)}s",
                        "--timeout", "60s", "--latency", "-s", lua,
                        f"http://127.0.0.1:{port}/invocations"],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"wrk failed: {r.stderr}")
    out = r.stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", out, re.M)
        lat[p] = to_ms(m.group(1))
    return rps, lat


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "intents.lote"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-data", "serve"))
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    model = a.model
    if not os.path.exists(model):
        model = os.path.join(a.work, "intents.lote")
        subprocess.run([a.lote, "train", "classify", "--train", f"{SAMPLE}/train.jsonl", "--dev",
                        f"{SAMPLE}/dev.jsonl", "--name", "intents", "--out", model], check=True,
                       capture_output=True)

    texts = []
    for name in ("train", "dev", "test"):
        with open(f"{SAMPLE}/{name}.jsonl", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f]
    rng = random.Random(15)
    lines = [json.dumps({"id": f"r{i:08d}", "text": rng.choice(texts)}, ensure_ascii=False)
             for i in range(a.records)]
    records = os.path.join(a.work, "records.jsonl")
    with open(records, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    # A ~1 MB MULTI_RECORD payload (whole records), and a one-record payload.
    payload, size = [], 0
    for line in lines:
        if size + len(line.encode()) + 1 > 1 << 20:
            break
        payload.append(line)
        size += len(line.encode()) + 1
    multi = os.path.join(a.work, "multi.jsonl")
    with open(multi, "w", encoding="utf-8") as f:
        f.write("\n".join(payload) + "\n")
    per_payload = len(payload)
    single = os.path.join(a.work, "single.jsonl")
    with open(single, "w", encoding="utf-8") as f:
        f.write(lines[0] + "\n")
    lua = os.path.join(a.work, "post.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)

    results = {k: [] for k in ("predict", "lote_multi", "lote_multi_prep", "lote_rps1", "lote_p50",
                               "lote_p99", "lote_rpsT", "flask_multi", "flask_rps1", "flask_p50",
                               "flask_p99", "flask_rpsT")}
    rss = []

    def run_lote(extra):
        port = free_port()
        proc = subprocess.Popen([a.lote, "serve", "--model", model, "--port", str(port),
                                 "--threads", str(a.threads)] + extra,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ping(port, proc)
        return port, proc

    def stop(proc):
        proc.terminate()
        proc.wait(timeout=60)

    flask_port = free_port()
    flask = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "bench",
                                                               "flask_sklearn_server.py"),
                              "--train", f"{SAMPLE}/train.jsonl", "--port", str(flask_port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ping(flask_port, flask)
    try:
        for rep in range(a.repeat):
            t0 = time.monotonic()
            subprocess.run([a.lote, "predict", "--model", model, "--input", records, "--id-field",
                            "id", "--threads", str(a.threads), "--output",
                            os.path.join(a.work, "predict.jsonl")], check=True)
            results["predict"].append(a.records / (time.monotonic() - t0))

            port, proc = run_lote(["--no-prep"])
            before = rss_mib(proc.pid)[0]
            rps, _ = wrk(port, multi, a.threads, a.duration, lua)
            results["lote_multi"].append(rps * per_payload)
            during = rss_mib(proc.pid)
            rps, lat = wrk(port, single, 1, a.duration, lua)
            results["lote_rps1"].append(rps)
            results["lote_p50"].append(lat["50"])
            results["lote_p99"].append(lat["99"])
            rps, _ = wrk(port, single, 8, a.duration, lua)
            results["lote_rpsT"].append(rps)
            rps, _ = wrk(port, multi, a.threads, a.duration, lua)
            after = rss_mib(proc.pid)
            rss.append((before, during[0], after[0], after[1]))
            stop(proc)

            port, proc = run_lote([])
            rps, _ = wrk(port, multi, a.threads, a.duration, lua)
            results["lote_multi_prep"].append(rps * per_payload)
            stop(proc)

            rps, _ = wrk(flask_port, multi, a.threads, a.duration, lua)
            results["flask_multi"].append(rps * per_payload)
            rps, lat = wrk(flask_port, single, 1, a.duration, lua)
            results["flask_rps1"].append(rps)
            results["flask_p50"].append(lat["50"])
            results["flask_p99"].append(lat["99"])
            rps, _ = wrk(flask_port, single, 8, a.duration, lua)
            results["flask_rpsT"].append(rps)
            print(f"repeat {rep + 1}/{a.repeat} done", file=sys.stderr)
    finally:
        flask.terminate()
        flask.wait(timeout=30)

    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"records: {a.records}; threads: {a.threads}; repeats: {a.repeat}; wrk {a.duration:g} s "
          f"per load; MULTI_RECORD payload: {per_payload} records, {size} bytes")
    print(f"{'what':58} {'lote':>12} {'peer':>12}")
    print(f"{'MULTI_RECORD records/s, lote serve --no-prep vs lote predict':58} "
          f"{med['lote_multi']:12,.0f} {med['predict']:12,.0f}")
    print(f"{'MULTI_RECORD records/s, lote serve (prep on) vs Flask':58} "
          f"{med['lote_multi_prep']:12,.0f} {med['flask_multi']:12,.0f}")
    print(f"{'MULTI_RECORD records/s, lote serve --no-prep vs Flask':58} "
          f"{med['lote_multi']:12,.0f} {med['flask_multi']:12,.0f}")
    print(f"{'single record, 1 connection: p50 ms':58} {med['lote_p50']:12.3f} "
          f"{med['flask_p50']:12.3f}")
    print(f"{'single record, 1 connection: p99 ms':58} {med['lote_p99']:12.3f} "
          f"{med['flask_p99']:12.3f}")
    print(f"{'single record, 1 connection: requests/s':58} {med['lote_rps1']:12,.0f} "
          f"{med['flask_rps1']:12,.0f}")
    print(f"{'single record, 8 connections: requests/s':58} {med['lote_rpsT']:12,.0f} "
          f"{med['flask_rpsT']:12,.0f}")
    print(f"ratios: serve/predict {med['lote_multi'] / med['predict']:.2f}x (target >= 0.8); "
          f"serve(prep)/flask {med['lote_multi_prep'] / med['flask_multi']:.1f}x (target >= 20); "
          f"single-record p99 {med['lote_p99']:.3f} ms (target < 2)")
    for key in ("lote_p99", "flask_p99", "lote_multi", "predict", "flask_multi"):
        print(f"  {key} per repeat: " + ", ".join(f"{v:,.3f}" for v in results[key]))
    for i, (before, during, after, hwm) in enumerate(rss):
        print(f"lote serve RSS MiB, repeat {i + 1}: idle {before:.1f}, after MULTI_RECORD load "
              f"{during:.1f}, after all loads {after:.1f}, peak {hwm:.1f}")
    shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
