#!/usr/bin/env python3
"""How long each dashboard page's data takes on a large catalog (issue 21's target: under 300 ms
on 10 million rows).

Builds an output of --records results (messages from the bundled sample under unique ids, in
--objects input files, one `lote run` with the model given), starts `lote serve --output` on a
free loopback port, then asks every /api/PAGE (no filter, and with a language filter) --repeat
times after one warm-up call, and prints the median and the spread per call, beside the number of
rows the catalog holds. Deletes what it generated unless --keep.

With --days N the records are spread over N daily runs, each under faketime at its day, as a
season of daily runs would leave the catalog (the summaries grow with the days, not the rows).

Usage: bench/dashboard_bench.py [--records 10000000] [--objects 10] [--days 1] [--repeat 5]
                                [--model models/intents.lote] [--lote build/lote] [--work DIR]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["overview", "intents", "entities", "quarantine", "drift", "models", "runs"]


def build_output(a, work):
    """One `lote run` per day over that day's new objects; with --days > 1 each run's clock is
    set to its day by faketime (Debian's package), as daily runs over a season would leave it."""
    lake = os.path.join(work, "lake")
    os.makedirs(lake, exist_ok=True)
    texts = []
    with open(os.path.join(ROOT, "data", "sample", "train.jsonl"), encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"])
    if a.days > 1 and shutil.which("faketime") is None:
        sys.exit("--days needs faketime (apt-get install faketime)")
    out = os.path.join(work, "out")
    objects = max(a.objects, a.days)
    n = 0
    o = 0
    t0 = time.monotonic()
    for day in range(a.days):
        day_records = a.records // a.days + (1 if day < a.records % a.days else 0)
        day_objects = objects // a.days + (1 if day < objects % a.days else 0)
        written = 0
        for k in range(day_objects):
            count = day_records // day_objects + (1 if k < day_records % day_objects else 0)
            with open(os.path.join(lake, f"part-{o:05d}.jsonl"), "w", encoding="utf-8") as f:
                for _ in range(count):
                    f.write(json.dumps({"id": f"m{n}", "text": texts[n % len(texts)]},
                                       ensure_ascii=False) + "\n")
                    n += 1
            o += 1
            written += count
        cmd = [a.lote, "run", "--input", lake, "--output", out, "--model", a.model,
               "--log-format", "json"]
        env = dict(os.environ)
        if a.days > 1:
            stamp = time.strftime("%Y-%m-%d 10:00:00",
                                  time.gmtime(time.time() - (a.days - day) * 86400))
            cmd = ["faketime", stamp] + cmd
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
            env["TZ"] = "UTC"
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    print(f"lote run of {n:,} records over {a.days} day(s): {time.monotonic() - t0:.1f} s",
          file=sys.stderr)
    shutil.rmtree(lake)
    return out


def get(port, target):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.monotonic()
    c.request("GET", target)
    r = c.getresponse()
    body = r.read()
    elapsed = time.monotonic() - t0
    c.close()
    if r.status != 200:
        raise RuntimeError(f"{target}: {r.status} {body[:200]!r}")
    return elapsed, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--objects", type=int, default=10)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "intents.lote"))
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-dashboard"))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    try:
        out = build_output(a, a.work)
        catalog = os.path.join(out, "_catalog", "lote.db")
        log = open(os.path.join(a.work, "serve.log"), "w+")
        serve = subprocess.Popen([a.lote, "serve", "--port", "0", "--output", out],
                                 stderr=log, stdout=subprocess.DEVNULL)
        try:
            port = None
            for _ in range(200):
                log.seek(0)
                m = re.search(r"listening on 127\.0\.0\.1:(\d+),", log.read())
                if m:
                    port = int(m.group(1))
                    break
                time.sleep(0.05)
            if port is None:
                raise RuntimeError("lote serve did not start")
            _, body = get(port, "/api/overview")
            totals = json.loads(body)["charts"][0]["rows"][0]
            print(f"\ncatalog: {catalog} ({os.path.getsize(catalog) / 2**30:.2f} GiB), "
                  f"{totals[0]:,} results, {totals[1]:,} quarantined, {totals[2]} run(s) over {a.days} day(s); "
                  f"{os.cpu_count()} cores, medians of {a.repeat} calls after one warm-up\n")
            print("| call | median ms | all ms | target 300 ms |")
            print("|---|---|---|---|")
            for page in PAGES:
                for query in ("", "?text_lang=es"):
                    target = f"/api/{page}{query}"
                    get(port, target)
                    times = [get(port, target)[0] * 1000 for _ in range(a.repeat)]
                    med = statistics.median(times)
                    print(f"| `{target}` | {med:,.0f} | {', '.join(f'{t:,.0f}' for t in times)} "
                          f"| {'met' if med < 300 else 'not met'} |", flush=True)
        finally:
            serve.terminate()
            serve.wait()
    finally:
        if not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
