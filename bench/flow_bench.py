#!/usr/bin/env python3
"""`lote flow` (the ASL executor) side by side with two other ASL interpreters: state transitions/s.

Two workloads, generated under --work (default /tmp/lote-flow-bench):
  chain  a chain of --chain (1,000) Pass states: --chain transitions;
  map    an inline Map over --items (10,000) integers whose ItemProcessor is one Pass state:
         --items + 1 transitions (the Map state and each iteration's Pass).
(Transitions are states entered.) Each is run --repeat times by each peer:
  lote file     `lote flow run --definition D --input-file I --history FILE` with a fresh SQLite
                history file each run (durable history); wall time of the whole process under
                /usr/bin/time, so lote's start-up and definition parsing count against it;
  lote memory   the same with `--history :memory:` (no durable history);
  moto          moto 5.2.1's Step Functions interpreter in-process (tests/flow/peers/moto_sfn.py:
                mock_aws + boto3, one process for all runs): StartExecution to the first
                DescribeExecution that sees the end (polled every 1 to 20 ms);
  local         aws-local-stepfunctions 3.0.0 under node (tests/flow/peers/local_sfn.mjs, one
                process for all runs): run() to the result.
The two lote rows alternate run by run, so a machine's drift stays out of their ratio; the peers'
times exclude their process start and interpreter warm-up is shared by their runs (the first run
is the cold one; the median hides it). Every run's output is checked (the chain returns its input,
the Map the item list). Prints, per workload, the median seconds (all runs), transitions/s and
each row's time over the fastest row's; then load averages before and after.
moto is slow (about 13 s for the 1,000-state chain on a 2-core machine): --moto-items runs its
Map on fewer items (its rate is per transition, so the rows stay comparable; the row says so).

Usage: bench/flow_bench.py [--lote build/lote] [--repeat 3] [--chain 1000] [--items 10000]
                           [--moto-items N] [--skip-lote] [--skip-moto] [--skip-local]
                           [--timeout 1800] [--work DIR]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "tests", "flow", "peers")


def chain_definition(n):
    states = {}
    for i in range(n):
        states[f"S{i}"] = ({"Type": "Pass", "Next": f"S{i + 1}"} if i + 1 < n
                           else {"Type": "Pass", "End": True})
    return {"Comment": f"{n} Pass states", "StartAt": "S0", "States": states}


def map_definition():
    return {"Comment": "an inline Map with one Pass state", "StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "End": True}}}}}}


def workloads(a):
    """[(name, label, definition, input, expected output, transitions, moto's (input, ...))]"""
    chain_in = {"payload": "x" * 32, "n": a.chain}
    items = list(range(a.items))
    moto_items = list(range(a.moto_items or a.items))
    return [
        ("chain", f"chain of {a.chain:,} Pass states", chain_definition(a.chain), chain_in,
         chain_in, a.chain, (chain_in, chain_in, a.chain)),
        ("map", f"Map of {a.items:,} items, inline Pass", map_definition(), {"items": items},
         items, a.items + 1, ({"items": moto_items}, moto_items, len(moto_items) + 1)),
    ]


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def timed(cmd, timeout):
    """(wall s, cpu s, peak RSS MiB, stdout) of one command; exits on failure. The wall time is
    perf_counter's (/usr/bin/time's has 10 ms steps), CPU and RSS are /usr/bin/time's."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, capture_output=True,
                       text=True, timeout=timeout)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    lines = r.stderr.strip().splitlines()
    _, user, sys_, rss = lines[-1].split()
    # lote flow's summary line: "lote flow: execution NAME STATUS: N events, X s", X being the
    # execution inside the process (no start-up), comparable with the peers' in-process times.
    inner = None
    for line in lines:
        m = re.match(r"lote flow: execution \S+ \S+: \d+ events, ([0-9.]+) s$", line)
        if m:
            inner = float(m.group(1))
    return wall, float(user) + float(sys_), int(rss) / 1024.0, r.stdout, inner


def run_lote(a, work, name, definition, inp, expected):
    d = write_json(os.path.join(work, f"{name}.asl.json"), definition)
    i = write_json(os.path.join(work, f"{name}.input.json"), inp)
    runs = {"file": [], "memory": []}
    for r in range(a.repeat):
        order = ("file", "memory") if r % 2 == 0 else ("memory", "file")
        for kind in order:
            history = ":memory:"
            if kind == "file":
                history = os.path.join(work, f"history-{name}-{r}.db")
                for suffix in ("", "-wal", "-shm", "-journal"):
                    if os.path.exists(history + suffix):
                        os.remove(history + suffix)
            wall, cpu, rss, out, inner = timed([a.lote, "flow", "run", "--definition", d,
                                         "--input-file", i, "--name", f"bench-{name}-{r}",
                                         "--history", history, "--quiet",
                                         # AWS stops an execution at 25,000 events; a Map of
                                         # 10,000 inline items writes 40,000.
                                         "--max-history-events", "1000000"], a.timeout)
            if json.loads(out) != expected:
                sys.exit(f"lote flow run ({name}, {kind} history) printed an unexpected output")
            runs[kind].append((wall, cpu, rss, inner))
    return runs


def run_peer(a, peer, name, definition, inp, expected):
    """Seconds of each run, measured inside the peer's one process."""
    cases = json.dumps([{"name": f"{name}-{r}", "definition": definition, "input": inp}
                        for r in range(a.repeat)])
    if peer == "moto":
        cmd = [sys.executable, os.path.join(PEERS, "moto_sfn.py"), "--timeout",
               str(a.timeout), "-"]
    else:
        cmd = ["node", "--no-warnings", "--import", "./tests/flow/peers/with_resolvers.mjs",
               "tests/flow/peers/local_sfn.mjs", "--timeout", str(a.timeout), "-"]
    r = subprocess.run(cmd, cwd=ROOT, input=cases, capture_output=True, text=True,
                       timeout=a.timeout * a.repeat + 120)
    seconds = []
    for line in r.stdout.splitlines():
        res = json.loads(line)
        if res["status"] != "SUCCEEDED" or res.get("output") != expected:
            sys.exit(f"{peer} ({name}): {json.dumps(res)[:2000]}\n{r.stderr[-2000:]}")
        seconds.append(res["seconds"])
    if len(seconds) != a.repeat:
        sys.exit(f"{peer} ({name}) gave {len(seconds)} results (exit {r.returncode})\n"
                 f"{r.stderr[-3000:]}")
    return seconds


def versions():
    out = {}
    try:
        import importlib.metadata
        out["moto"] = importlib.metadata.version("moto")
    except Exception:  # moto may live in another interpreter than this script's
        out["moto"] = "?"
    try:
        with open(os.path.join(ROOT, "node_modules", "aws-local-stepfunctions",
                               "package.json")) as f:
            out["local"] = json.load(f)["version"]
    except OSError:
        out["local"] = "? (npm ci)"
    out["node"] = subprocess.run(["node", "--version"], capture_output=True,
                                 text=True).stdout.strip()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chain", type=int, default=1000, help="Pass states in the chain")
    ap.add_argument("--items", type=int, default=10000, help="items of the Map")
    ap.add_argument("--moto-items", type=int, default=0,
                    help="items of moto's Map (0: --items); moto takes minutes on 10,000")
    ap.add_argument("--skip-lote", action="store_true", help="only the peers")
    ap.add_argument("--skip-moto", action="store_true")
    ap.add_argument("--skip-local", action="store_true")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lote-flow-bench"))
    a = ap.parse_args()
    a.lote = os.path.abspath(a.lote)
    if a.repeat < 1 or a.chain < 1 or a.items < 0:
        sys.exit("--repeat and --chain: at least 1; --items: at least 0")
    if not a.skip_lote:
        if not os.path.exists("/usr/bin/time"):
            sys.exit("needs /usr/bin/time (Debian package `time`)")
        if not os.access(a.lote, os.X_OK):
            sys.exit(f"no lote binary at {a.lote} (--lote PATH, or --skip-lote)")
    if not a.skip_local and not os.path.isdir(os.path.join(ROOT, "node_modules",
                                                           "aws-local-stepfunctions")):
        sys.exit("aws-local-stepfunctions is not installed: scripts/bootstrap.sh --node")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    load_before = os.getloadavg()
    try:
        tables = [bench(a, w) for w in workloads(a)]
        startup = None
        if not a.skip_lote:
            one = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
            runs = run_lote(a, a.work, "one", one, {"x": 1}, {"x": 1})
            startup = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
            rss = max(r[2] for v in runs.values() for r in v)
    finally:
        shutil.rmtree(a.work, ignore_errors=True)
    load_after = os.getloadavg()
    v = versions()
    print(f"\nASL interpreters: lote flow, moto {v['moto']} (in-process), aws-local-stepfunctions "
          f"{v['local']} (node {v['node']}); {os.cpu_count()} cores, medians of {a.repeat} runs; "
          f"load average before {load_before[0]:.2f} / {load_before[1]:.2f} / "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} / {load_after[1]:.2f} / "
          f"{load_after[2]:.2f}\n")
    print("| workload | interpreter | what is timed | median s (all runs) | transitions/s "
          "| time / fastest |")
    print("|---|---|---|---|---|---|")
    for rows in tables:
        best = min(r[5] for r in rows)  # the fastest rate as seconds per transition
        for label, peer, what, walls, rate, per_transition in rows:
            print(f"| {label} | {peer} | {what} | {statistics.median(walls):.3f} "
                  f"({', '.join(f'{w:.3f}' for w in walls)}) | {rate:,.0f} | "
                  f"{per_transition / best:.2f}x |")
    if startup:
        print(f"\nlote's fixed cost (a one-Pass-state machine, process wall, median): "
              f"{startup['file']:.3f} s with a history file, {startup['memory']:.3f} s with "
              f":memory: (peak RSS {rss:.0f} MiB); the peers' rows exclude their start-up.")
    return 0


def bench(a, workload):
    name, label, definition, inp, expected, transitions, moto_case = workload
    rows = []

    def add(peer, what, walls, n=transitions, row_label=label):
        med = statistics.median(walls)
        rows.append((row_label, peer, what, walls, n / med, med / n))

    if not a.skip_lote:
        runs = run_lote(a, a.work, name, definition, inp, expected)
        add("lote flow run --history FILE", "process wall", [r[0] for r in runs["file"]])
        add("lote flow run --history :memory:", "process wall", [r[0] for r in runs["memory"]])
        add("lote flow run --history FILE", "execution, in-process", [r[3] for r in runs["file"]])
        add("lote flow run --history :memory:", "execution, in-process",
            [r[3] for r in runs["memory"]])
    if not a.skip_moto:
        moto_in, moto_expected, moto_transitions = moto_case
        moto_label = label
        if moto_transitions != transitions:
            moto_label = f"{label} (moto: {len(moto_in['items']):,} items)"
        add(f"moto {versions()['moto']}", "StartExecution to end",
            run_peer(a, "moto", name, definition, moto_in, moto_expected),
            n=moto_transitions, row_label=moto_label)
    if not a.skip_local:
        add("aws-local-stepfunctions", "run() to result",
            run_peer(a, "local", name, definition, inp, expected))
    return rows


if __name__ == "__main__":
    sys.exit(main())
