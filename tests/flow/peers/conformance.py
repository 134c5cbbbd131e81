#!/usr/bin/env python3
"""Runs tests/data/flow/conformance/ on the ASL peers (and lote) and compares with expected.json.

Each case folder holds definition.asl.json, input.json and expected.json (what AWS's
documentation says: {"status": "SUCCEEDED", "output": ...} or {"status": "FAILED", "error": ...
[, "cause": ...]}, plus "doc", where it is said). A result agrees when the status is the same and,
for SUCCEEDED, the output is equal as JSON; for FAILED, the error is the same and so is the cause
when expected.json gives one.

Peers: moto (tests/flow/peers/moto_sfn.py, one process for all cases), local
(tests/flow/peers/local_sfn.mjs under node with the Promise.withResolvers polyfill), and lote
(`lote flow run --definition D --input-file I --history :memory:`, one process per case; exit 0
prints the output, exit 6 prints {"error", "cause"}) when --lote is given.

Prints a Markdown table (case, one column per peer: "ok" or what the peer did instead) and a
summary line; --json writes all results to a file. Exits 1 when --require PEER disagrees anywhere.

Usage: tests/flow/peers/conformance.py [--peers moto,local] [--lote build/lote]
                                       [--cases DIR] [--json FILE] [--require lote] [CASE...]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PEERS_DIR = os.path.join(ROOT, "tests", "flow", "peers")
CASES = os.path.join(ROOT, "tests", "data", "flow", "conformance")


def run_lines(cmd, cwd=ROOT, stdin=None):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, input=stdin)
    results = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            results[obj.pop("case")] = obj
    if not results:
        sys.exit(f"no results from {' '.join(cmd)} (exit {r.returncode}):\n{r.stderr[-3000:]}")
    return results


def run_moto(dirs):
    return run_lines([sys.executable, os.path.join(PEERS_DIR, "moto_sfn.py")] + dirs)


def run_local(dirs):
    return run_lines(["node", "--no-warnings", "--import",
                      "./tests/flow/peers/with_resolvers.mjs",
                      "tests/flow/peers/local_sfn.mjs"] + dirs)


def run_lote(lote, dirs):
    results = {}
    for d in dirs:
        r = subprocess.run([lote, "flow", "run", "--definition",
                            os.path.join(d, "definition.asl.json"), "--input-file",
                            os.path.join(d, "input.json"), "--history", ":memory:"],
                           capture_output=True, text=True, timeout=120)
        name = os.path.basename(d)
        try:
            body = json.loads(r.stdout) if r.stdout.strip() else None
        except json.JSONDecodeError:
            body = None
        if r.returncode == 0 and r.stdout.strip():
            results[name] = {"status": "SUCCEEDED", "output": body}
        elif r.returncode == 6 and isinstance(body, dict):
            results[name] = {"status": "FAILED", "error": body.get("error"),
                             "cause": body.get("cause")}
        else:
            results[name] = {"status": "PEER_ERROR",
                             "cause": f"exit {r.returncode}: {r.stderr.strip()[-300:]}"}
    return results


def agrees(expected, got):
    if got is None or got.get("status") != expected["status"]:
        return False
    if expected["status"] == "SUCCEEDED":
        return got.get("output") == expected["output"]
    if got.get("error") != expected.get("error"):
        return False
    return "cause" not in expected or got.get("cause") == expected["cause"]


def describe(expected, got):
    """What a disagreeing peer did, short enough for a table cell."""
    if got is None:
        return "no result"
    if got["status"] == "SUCCEEDED" and "output_raw" in got:
        text = "output is not JSON: " + got["output_raw"]
    elif got["status"] == "SUCCEEDED":
        text = "output " + json.dumps(got.get("output"), separators=(",", ":"))
    elif got["status"] == "PEER_ERROR":
        text = "refused/crashed: " + str(got.get("cause"))
    else:
        text = f"{got['status']} {got.get('error')}"
        if got.get("cause") and (expected.get("status") != "FAILED" or "cause" in expected):
            text += f" ({got.get('cause')})"
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "..."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", default="moto,local", help="comma list of moto, local")
    ap.add_argument("--lote", default="", help="path of the lote binary; adds a lote column")
    ap.add_argument("--cases", default=CASES)
    ap.add_argument("--json", default="", help="write every result to this file")
    ap.add_argument("--require", default="", help="exit 1 when this peer disagrees anywhere")
    ap.add_argument("names", nargs="*", help="only these cases")
    a = ap.parse_args()
    names = a.names or sorted(n for n in os.listdir(a.cases)
                              if os.path.isdir(os.path.join(a.cases, n)))
    dirs = [os.path.join(os.path.abspath(a.cases), n) for n in names]
    expected = {}
    for n, d in zip(names, dirs):
        with open(os.path.join(d, "expected.json")) as f:
            expected[n] = json.load(f)
    results = {}
    for peer in [p for p in a.peers.split(",") if p]:
        results[peer] = run_moto(dirs) if peer == "moto" else run_local(dirs)
    if a.lote:
        results["lote"] = run_lote(os.path.abspath(a.lote), dirs)
    peers = list(results)
    print("| case | expected | " + " | ".join(peers) + " |")
    print("|---|---|" + "---|" * len(peers))
    agree_count = {p: 0 for p in peers}
    for n in names:
        e = expected[n]
        exp_text = "SUCCEEDED" if e["status"] == "SUCCEEDED" else f"FAILED {e['error']}"
        cells = []
        for p in peers:
            got = results[p].get(n)
            if agrees(e, got):
                agree_count[p] += 1
                cells.append("ok")
            else:
                cells.append(describe(e, got))
        print(f"| {n} | {exp_text} | " + " | ".join(cells) + " |")
    print()
    print("agree with expected.json: " + ", ".join(f"{p} {agree_count[p]}/{len(names)}"
                                                   for p in peers))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"expected": expected, "results": results}, f, indent=1)
    if a.require and agree_count.get(a.require, 0) != len(names):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
