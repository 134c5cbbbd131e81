#!/usr/bin/env python3
"""A local stand-in for a SageMaker Batch Transform job, run against a live inference container.

It does to a running `lote serve` (or any container honouring SageMaker's contract) what
SageMaker does with a transform job whose TransformInput has SplitType "Line" (or "None": each
object is one payload, sent whole) over the files of a folder or the objects of a manifest
(S3DataType ManifestFile: [{"prefix": P}, "relative/key", ...]; each answer is written to
OUTPUT/<relative key>.out):

  1. waits for GET /ping to answer 200, then reads GET /execution-parameters for the values the
     job does not set (MaxConcurrentTransforms, MaxPayloadInMB, BatchStrategy), and logs them as
     SageMaker does: "[sagemaker logs]: MaxConcurrentTransforms=2, MaxPayloadInMB=6,
     BatchStrategy=MULTI_RECORD";
  2. splits each input file at newlines into records and packs them into payloads: MULTI_RECORD
     puts as many whole records in a payload as fit in MaxPayloadInMB (1 MB = 2^20 bytes),
     SINGLE_RECORD one record each. A record larger than the limit still travels alone (SageMaker
     cannot cut a record), and the container's 413 then fails the file;
  3. POSTs the payloads with ContentType / Accept, at most MaxConcurrentTransforms in flight
     (payloads of several files at once, as SageMaker spreads objects over them),
     retrying a payload on connection errors and 5xx up to --retries times
     (ModelClientConfig.InvocationsMaxRetries);
  4. assembles each file's answers in input order into OUTPUT/<name>.out (AssembleWith "Line":
     the answers joined, a newline added after one that lacks it; "None": the bytes as they
     came). A file with a failed payload
     gets no .out file and is logged as "[sagemaker logs]: <name>: ClientError: <status>"; the
     job then fails (exit 1), as SageMaker marks the whole job Failed.

Python standard library only. Usage:
  batch_transform.py --endpoint http://127.0.0.1:8080 (--input DIR|FILE... | --manifest FILE)
                     --output DIR [--split-type Line|None] [--assemble-with Line|None]
                     [--content-type application/jsonlines] [--accept application/jsonlines]
                     [--max-payload-mb N] [--max-concurrent-transforms N]
                     [--batch-strategy MULTI_RECORD|SINGLE_RECORD] [--retries N]
                     [--ping-timeout S] [--invocation-timeout S] [--summary FILE]
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

MB = 1 << 20


class Endpoint:
    """One keep-alive connection per thread to the container."""

    def __init__(self, url, timeout):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise SystemExit(f"batch_transform: --endpoint must be http://HOST:PORT, not {url}")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.timeout = timeout
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None):
        """Returns (status, body bytes); raises OSError/HTTPException on transport errors."""
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.local.conn = conn
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                self.local.conn = None
            return resp.status, data
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise


def wait_ping(endpoint, timeout):
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, _ = endpoint.request("GET", "/ping")
            if status == 200:
                return
            last = f"status {status}"
        except (OSError, http.client.HTTPException) as e:
            last = str(e)
        time.sleep(0.1)
    raise SystemExit(f"batch_transform: /ping did not answer 200 in {timeout} s ({last})")


def execution_parameters(endpoint):
    try:
        status, body = endpoint.request("GET", "/execution-parameters")
    except (OSError, http.client.HTTPException):
        return {}
    if status != 200:
        return {}
    try:
        params = json.loads(body)
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def split_payloads(data, max_bytes, multi_record):
    """Yields payloads (bytes) of whole lines; blank-only content is still sent as SageMaker
    sends what the file holds."""
    lines = data.splitlines(keepends=True)
    if not lines:
        return []
    payloads = []
    current = []
    size = 0
    for line in lines:
        if current and (not multi_record or size + len(line) > max_bytes):
            payloads.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        payloads.append(b"".join(current))
    return payloads


def input_files(paths):
    """(path, name of its .out) for each file."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                full = os.path.join(p, name)
                if os.path.isfile(full):
                    files.append((full, name))
        else:
            files.append((p, os.path.basename(p)))
    return files


def manifest_files(path):
    """A manifest's objects as (path, relative key); the prefix is a local folder here."""
    with open(path, "rb") as f:
        entries = json.load(f)
    if (not isinstance(entries, list) or not entries or not isinstance(entries[0], dict)
            or "prefix" not in entries[0]):
        raise SystemExit(f"batch_transform: {path}: not a manifest ([{{\"prefix\": ...}}, ...])")
    prefix = entries[0]["prefix"]
    if prefix.startswith("file://"):
        prefix = prefix[len("file://"):]
    files = []
    for key in entries[1:]:
        if not isinstance(key, str) or not key or key.startswith("/") or ".." in key:
            raise SystemExit(f"batch_transform: {path}: bad manifest entry {key!r}")
        files.append((os.path.join(prefix, key), key))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", nargs="+")
    source.add_argument("--manifest")
    ap.add_argument("--output", required=True)
    ap.add_argument("--content-type", default="application/jsonlines")
    ap.add_argument("--accept", default="application/jsonlines")
    ap.add_argument("--split-type", choices=["Line", "None"], default="Line")
    ap.add_argument("--assemble-with", choices=["Line", "None"], default="Line")
    ap.add_argument("--max-payload-mb", type=int)
    ap.add_argument("--max-concurrent-transforms", type=int)
    ap.add_argument("--batch-strategy", choices=["MULTI_RECORD", "SINGLE_RECORD"])
    ap.add_argument("--retries", type=int, default=3)
    ap.add_argument("--ping-timeout", type=float, default=60)
    ap.add_argument("--invocation-timeout", type=float, default=600)
    ap.add_argument("--summary", help="write the job's counts and timings as JSON here")
    args = ap.parse_args()

    endpoint = Endpoint(args.endpoint, args.invocation_timeout)
    wait_ping(endpoint, args.ping_timeout)
    params = execution_parameters(endpoint)
    concurrency = args.max_concurrent_transforms or int(params.get("MaxConcurrentTransforms", 1))
    payload_mb = args.max_payload_mb or int(params.get("MaxPayloadInMB", 6))
    strategy = args.batch_strategy or params.get("BatchStrategy", "MULTI_RECORD")
    print(f"[sagemaker logs]: MaxConcurrentTransforms={concurrency}, MaxPayloadInMB={payload_mb}, "
          f"BatchStrategy={strategy}", file=sys.stderr)
    max_bytes = payload_mb * MB
    headers = {"Content-Type": args.content_type, "Accept": args.accept}
    os.makedirs(args.output, exist_ok=True)

    def invoke(payload):
        attempt = 0
        while True:
            try:
                status, body = endpoint.request("POST", "/invocations", payload, headers)
            except (OSError, http.client.HTTPException) as e:
                status, body = None, str(e).encode()
            if status == 200:
                return status, body
            retryable = status is None or status >= 500
            if not retryable or attempt >= args.retries:
                return status, body
            attempt += 1
            time.sleep(min(0.05 * (2 ** attempt), 1.0))

    files = manifest_files(args.manifest) if args.manifest else input_files(args.input)
    failed = []
    records = payload_count = 0
    started = time.monotonic()

    def read(path):
        with open(path, "rb") as f:
            data = f.read()
        if args.split_type == "None":
            return data, [data], 0
        return (data, split_payloads(data, max_bytes, strategy == "MULTI_RECORD"),
                sum(1 for line in data.splitlines() if line.strip()))

    def finish(name, answers):
        bad = next(((s, b) for s, b in answers if s != 200), None)
        if bad is not None:
            status, body = bad
            reason = f"ClientError: {status}" if status is not None else "connection failed"
            print(f"[sagemaker logs]: {name}: {reason}: {body[:200].decode(errors='replace')}",
                  file=sys.stderr)
            failed.append(name)
            return
        out = bytearray()
        for _, body in answers:
            out += body
            if args.assemble_with == "Line" and body and not body.endswith(b"\n"):
                out += b"\n"
        os.makedirs(os.path.dirname(os.path.join(args.output, name)), exist_ok=True)
        tmp = os.path.join(args.output, name + ".out.tmp")
        with open(tmp, "wb") as f:
            f.write(out)
        os.replace(tmp, os.path.join(args.output, name + ".out"))

    # Payloads of several files are in flight at once (SageMaker spreads objects over its
    # MaxConcurrentTransforms), at most `concurrency` files read ahead; each file's answers are
    # assembled in its payloads' order.
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        pending = []
        for path, name in files:
            _, payloads, n = read(path)
            records += n
            payload_count += len(payloads)
            pending.append((name, [pool.submit(invoke, p) for p in payloads]))
            while len(pending) > concurrency:
                done_name, futures = pending.pop(0)
                finish(done_name, [f.result() for f in futures])
        for done_name, futures in pending:
            finish(done_name, [f.result() for f in futures])
    seconds = time.monotonic() - started
    summary = {"files": len(files), "failed_files": failed, "records": records,
               "payloads": payload_count, "seconds": seconds,
               "max_concurrent_transforms": concurrency, "max_payload_mb": payload_mb,
               "batch_strategy": strategy}
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f)
    if failed:
        print(f"[sagemaker logs]: transform job Failed: {len(failed)} file(s) failed",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
