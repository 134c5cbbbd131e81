#!/usr/bin/env python3
"""lote on S3, side by side with awscli, against one moto_server this script starts (issue 13).

Starts `moto_server` on a free loopback port (stopped by pid at the end, as the tests do) and
measures, --repeat times each, alternating the peers so a machine's drift stays out of ratios:
  moto raw     GET and PUT of 1 KiB objects per second with plain http.client on one keep-alive
               connection: what moto itself serves, so a gap can be split between moto and lote;
  upload       a --size-mib file of random bytes (created once in /tmp) to s3:// with `lote cp`
               and with `aws s3 cp` (awscli's defaults: 8 MiB parts, 10 threads);
  download     the same object back to a local file with each (the copy is checked with cmp
               once per tool);
  lote run     one job (classifier only, no PII policy) on --records JSONL records in 4 objects,
               s3:// -> s3:// (the ledger on the bucket, the catalog a cache in the run's own
               empty XDG_CACHE_HOME), and the same job file -> file;
  rebuild      `lote query --output s3://...` on a machine with no cache: the catalog rebuilt
               from the ledger log and the published parts (what a resume elsewhere costs).
--also-size-mib repeats upload and download at a second size, to show whether peak RSS depends
on the size. Every timed command runs under /usr/bin/time (wall, CPU, peak RSS); the moto column
is the server's own CPU seconds during the command (from /proc), showing when moto is the limit.
Prints one Markdown table of medians, the ratios, and the load average before and after.

Usage: bench/s3_bench.py [--lote build/lote] [--size-mib 1024] [--also-size-mib 256]
                         [--repeat 3] [--records 200000] [--model FILE] [--work DIR]
                         [--small-objects 300] [--skip-run] [--skip-transfers]
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# moto checks no signature, but a request without Authorization is anonymous (GetObject -> 403).
DUMMY_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
              "SignedHeaders=host, Signature=0")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Moto:
    """moto_server on a free loopback port, in its own process group."""

    def __init__(self, work):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION="us-east-1")
        self.log = open(os.path.join(work, "moto.log"), "wb")
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"moto_server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if self.request("GET", "/moto-api/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit("moto_server did not answer in 30 s")

    def request(self, method, path, body=b"", conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": DUMMY_AUTH, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
        if body:
            headers["Content-Type"] = "application/octet-stream"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, data

    def cpu_seconds(self):
        """CPU seconds (user + sys) of the server and the children it waited for."""
        total = 0.0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += sum(int(x) for x in fields[11:15]) / CLK_TCK
            except OSError:
                pass
        return total

    def pids(self):
        # moto_server may be a pyenv shim that execs Python, or a wrapper with a child.
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()] or [self.proc.pid]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def child_env(moto, home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=home, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=moto.endpoint)
    return env


def timed(cmd, env, moto):
    """(wall s, cpu s, peak RSS MiB, moto cpu s) of one command; exits on failure."""
    before = moto.cpu_seconds()
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, capture_output=True,
                       text=True, env=env)
    moto_cpu = moto.cpu_seconds() - before
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    wall, user, sys_, rss = r.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(sys_), int(rss) / 1024.0, moto_cpu


def raw_rate(moto, bucket, n):
    """(PUT objects/s, GET objects/s) of n 1 KiB objects on one keep-alive connection."""
    body = os.urandom(1024)
    conn = http.client.HTTPConnection("127.0.0.1", moto.port, timeout=60)
    start = time.perf_counter()
    for i in range(n):
        status, _ = moto.request("PUT", f"/{bucket}/raw/{i}", body, conn)
        assert status == 200, status
    put = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n):
        status, data = moto.request("GET", f"/{bucket}/raw/{i}", conn=conn)
        assert status == 200 and data == body, status
    get = n / (time.perf_counter() - start)
    conn.close()
    return put, get


def big_file(size_mib):
    path = os.path.join(tempfile.gettempdir(), f"lote-s3-bench-{size_mib}MiB.bin")
    if not os.path.exists(path) or os.path.getsize(path) != size_mib << 20:
        with open(path + ".tmp", "wb") as f:
            for _ in range(size_mib // 8):
                f.write(os.urandom(8 << 20))
            f.write(os.urandom((size_mib % 8) << 20))
        os.rename(path + ".tmp", path)
    return path


def ensure_model(a, work, env):
    if a.model:
        return a.model
    model = os.path.join(work, "intents.lote")
    subprocess.run([a.lote, "train", "classify", "--train",
                    os.path.join(ROOT, "data", "sample", "train.jsonl"), "--name", "intents",
                    "--out", model], check=True, capture_output=True, env=env)
    return model


def med(runs, i):
    return statistics.median(r[i] for r in runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lote", default=os.path.join(ROOT, "build", "lote"))
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--also-size-mib", type=int, default=256, help="0: only --size-mib")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--model", default="", help="default: train one on data/sample")
    ap.add_argument("--small-objects", type=int, default=300)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lote-s3-bench"))
    ap.add_argument("--skip-run", action="store_true", help="leave out the lote run rows")
    ap.add_argument("--skip-transfers", action="store_true",
                    help="leave out the upload and download rows")
    a = ap.parse_args()
    a.lote = os.path.abspath(a.lote)
    if not os.path.exists("/usr/bin/time"):
        sys.exit("needs /usr/bin/time (Debian package `time`)")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(os.path.join(a.work, "home"))
    load_before = os.getloadavg()
    moto = Moto(a.work)
    try:
        return bench(a, moto, load_before)
    finally:
        moto.stop()
        shutil.rmtree(a.work, ignore_errors=True)


def bench(a, moto, load_before):
    env = child_env(moto, os.path.join(a.work, "home"))
    bucket = "lote-bench"
    assert moto.request("PUT", f"/{bucket}")[0] == 200
    aws = ["aws", "--endpoint-url", moto.endpoint, "s3", "cp", "--only-show-errors"]
    rows = []  # (what, tool, [runs], rate label function)

    raw = [raw_rate(moto, bucket, a.small_objects) for _ in range(a.repeat)]
    rows.append(("moto raw, 1 KiB objects", "PUT (http.client)",
                 f"{statistics.median(r[0] for r in raw):,.0f} objects/s "
                 f"({', '.join(f'{r[0]:,.0f}' for r in raw)})", "", "", ""))
    rows.append(("moto raw, 1 KiB objects", "GET (http.client)",
                 f"{statistics.median(r[1] for r in raw):,.0f} objects/s "
                 f"({', '.join(f'{r[1]:,.0f}' for r in raw)})", "", "", ""))

    ratios = []
    sizes = [] if a.skip_transfers else [a.size_mib] + ([a.also_size_mib] if a.also_size_mib else [])
    for size in sizes:
        src = big_file(size)
        obj = f"s3://{bucket}/big/{size}.bin"
        runs = {k: [] for k in ("up lote", "up aws", "down lote", "down aws")}
        for r in range(a.repeat):
            # Alternate which peer goes first.
            order = ("lote", "aws") if r % 2 == 0 else ("aws", "lote")
            for tool in order:
                dst = f"s3://{bucket}/up-{tool}/{size}.bin"
                cmd = [a.lote, "cp", src, dst] if tool == "lote" else aws + [src, dst]
                runs[f"up {tool}"].append(timed(cmd, env, moto))
            if r == 0:
                subprocess.run(aws + [src, obj], check=True, env=env)
            for tool in order:
                out = os.path.join(a.work, f"down-{tool}.bin")
                cmd = [a.lote, "cp", obj, out] if tool == "lote" else aws + [obj, out]
                runs[f"down {tool}"].append(timed(cmd, env, moto))
                if r == 0 and subprocess.run(["cmp", "-s", src, out]).returncode != 0:
                    sys.exit(f"{tool}'s download differs from {src}")
                os.remove(out)
        for key in ("up lote", "up aws", "down lote", "down aws"):
            direction, tool = key.split()
            walls = [x[0] for x in runs[key]]
            rows.append((f"{'upload' if direction == 'up' else 'download'} {size} MiB",
                         "lote cp" if tool == "lote" else "aws s3 cp",
                         f"{statistics.median(walls):.2f} s ({', '.join(f'{w:.2f}' for w in walls)})"
                         f"; {size / statistics.median(walls):.0f} MiB/s",
                         f"{med(runs[key], 1):.1f}", f"{max(x[2] for x in runs[key]):.0f}",
                         f"{med(runs[key], 3):.1f}"))
        for direction in ("up", "down"):
            ratios.append(f"{direction}load {size} MiB: lote / aws throughput "
                          f"{med(runs[direction + ' aws'], 0) / med(runs[direction + ' lote'], 0):.2f}x")

    if not a.skip_run:
        model = ensure_model(a, a.work, env)
        texts = [json.loads(line)["text"]
                 for line in open(os.path.join(ROOT, "data", "sample", "train.jsonl"))]
        local_in = os.path.join(a.work, "in")
        os.makedirs(local_in)
        size = 0
        for part in range(4):
            path = os.path.join(local_in, f"part-{part}.jsonl")
            with open(path, "w") as f:
                for n in range(part, a.records, 4):
                    line = json.dumps({"id": f"m{n}", "text": texts[n % len(texts)]},
                                      ensure_ascii=False) + "\n"
                    f.write(line)
                    size += len(line.encode())
            subprocess.run(aws + [path, f"s3://{bucket}/in/part-{part}.jsonl"], check=True,
                           env=env)
        cfg = os.path.join(a.work, "job.yaml")
        with open(cfg, "w") as f:
            f.write("infer:\n  extract: false\npii:\n  mode: none\n")
        runs = {"s3": [], "file": [], "rebuild": []}
        for r in range(a.repeat):
            order = ("s3", "file") if r % 2 == 0 else ("file", "s3")
            for kind in order:
                run_env = env
                if kind == "s3":
                    run_env = dict(env, XDG_CACHE_HOME=os.path.join(a.work, f"cache-run-{r}"))
                    args = ["--input", f"s3://{bucket}/in/", "--output", f"s3://{bucket}/out-{r}"]
                else:
                    out = os.path.join(a.work, "out")
                    shutil.rmtree(out, ignore_errors=True)
                    args = ["--input", local_in, "--output", out]
                runs[kind].append(timed([a.lote, "run", "--model", model, "--config", cfg] + args,
                                        run_env, moto))
            fresh = dict(env, XDG_CACHE_HOME=os.path.join(a.work, f"cache-query-{r}"))
            runs["rebuild"].append(timed([a.lote, "query", "--output", f"s3://{bucket}/out-{r}",
                                          "SELECT count(*) FROM results"], fresh, moto))
        for kind, label in (("s3", "s3:// -> s3://"), ("file", "file -> file")):
            walls = [x[0] for x in runs[kind]]
            rows.append((f"lote run, {a.records:,} records ({size / 2**20:.0f} MiB, 4 objects)",
                         label,
                         f"{statistics.median(walls):.2f} s ({', '.join(f'{w:.2f}' for w in walls)})"
                         f"; {a.records / statistics.median(walls):,.0f} records/s",
                         f"{med(runs[kind], 1):.1f}", f"{max(x[2] for x in runs[kind]):.0f}",
                         f"{med(runs[kind], 3):.1f}"))
        walls = [x[0] for x in runs["rebuild"]]
        rows.append((f"catalog rebuilt from the bucket ({a.records:,} records)",
                     "lote query --output s3://",
                     f"{statistics.median(walls):.2f} s ({', '.join(f'{w:.2f}' for w in walls)})"
                     f"; {a.records / statistics.median(walls):,.0f} records/s",
                     f"{med(runs['rebuild'], 1):.1f}", f"{max(x[2] for x in runs['rebuild']):.0f}",
                     f"{med(runs['rebuild'], 3):.1f}"))
        ratios.append(f"lote run s3 / file wall: {med(runs['s3'], 0) / med(runs['file'], 0):.2f}x")

    load_after = os.getloadavg()
    print(f"\nmoto_server (moto {moto_version()}), {os.cpu_count()} cores, medians of {a.repeat} "
          f"alternating runs; load average before {load_before[0]:.2f} / "
          f"{load_before[1]:.2f} / {load_before[2]:.2f}, after {load_after[0]:.2f} / "
          f"{load_after[1]:.2f} / {load_after[2]:.2f}\n")
    print("| what | tool | median (all runs); rate | CPU s | peak RSS MiB | moto CPU s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for line in ratios:
        print(line)
    return 0


def moto_version():
    try:
        import importlib.metadata
        return importlib.metadata.version("moto")
    except Exception:  # moto may live in another interpreter than this script's
        out = subprocess.run(["pip", "show", "moto"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Version:"):
                return line.split()[1]
        return "?"


if __name__ == "__main__":
    sys.exit(main())
