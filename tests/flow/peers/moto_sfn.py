#!/usr/bin/env python3
"""Runs ASL definitions on moto 5.2.1's Step Functions interpreter, in this process.

A peer for lote's `flow` executor (tests/data/flow/conformance/, bench/flow_bench.py). moto runs
in-process (`mock_aws` with the `execute_state_machine` switch: the same backend moto_server uses
after `POST /moto-api/config {"stepfunctions": {"execute_state_machine": true}}`); boto3 talks to
it. Each case gets its own state machine and a named execution, DescribeExecution is polled until
the status is no longer RUNNING (or --timeout passes), and one JSON line is printed per case:
  {"case": NAME, "status": "SUCCEEDED", "output": ...}
  {"case": NAME, "status": "FAILED", "error": ..., "cause": ...}
  {"case": NAME, "status": "PEER_ERROR", "cause": ...}   (moto refused the definition, 500ed, or
                                                           the execution did not end in time)
Other end states (TIMED_OUT, ABORTED) are printed as they are. "output" is the parsed JSON
("output_raw" the text when it is not JSON: moto 5.2.1 returns a top-level string unquoted);
"cause" is the string AWS gives (often JSON text itself); "seconds" is StartExecution to the
first DescribeExecution that saw the end (polled every 1 ms, backing off to 20 ms).

moto 5.2.1 500s on the second StartExecution in a process ("cannot pickle '_thread.RLock'",
moto issue 10077): StartExecution deep-copies the state machine, whose `backend` attribute drags
in every earlier execution and its worker thread's locks. `_patch_moto()` gives StateMachine a
`__deepcopy__` that shares the backend and starts the copy's execution list empty, which is what
the copy is for (a snapshot of the definition for one execution).

Usage:
  tests/flow/peers/moto_sfn.py [--timeout 60] [--verbose] CASE_DIR...   (CASE_DIR/definition.asl.json and
                                                             CASE_DIR/input.json, default {})
  tests/flow/peers/moto_sfn.py [--timeout 60] -             (stdin: a JSON list of
                                                             {"name", "definition", "input"})
Exits 0 when every case was run (whatever its status), 1 otherwise.
"""
import argparse
import copy
import json
import logging
import os
import sys
import time

ROLE = "arn:aws:iam::123456789012:role/lote-flow-peer"


def _patch_moto():
    import moto.stepfunctions.models as sfn_models

    if getattr(sfn_models.StateMachine, "_lote_deepcopy_patched", False):
        return

    def deepcopy_without_executions(self, memo):
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            if key == "backend":
                clone.backend = value  # shared: copying it copies every execution's thread
            elif key == "executions":
                clone.executions = []
            else:
                setattr(clone, key, copy.deepcopy(value, memo))
        return clone

    sfn_models.StateMachine.__deepcopy__ = deepcopy_without_executions
    sfn_models.StateMachine._lote_deepcopy_patched = True


class MotoSfn:
    """moto's Step Functions (executing backend) in this process; use as a context manager."""

    def __init__(self, quiet=True):
        if quiet:  # moto logs every failed state (with the state's repr) at ERROR
            logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        for key in list(os.environ):
            if key.startswith("AWS_ENDPOINT_URL"):
                del os.environ[key]  # boto3 would send there instead of to the mock
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_DEFAULT_REGION="us-east-1")
        import boto3
        from moto import mock_aws

        _patch_moto()
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                      "lambda": {"use_docker": False}})
        self._boto3 = boto3
        self._count = 0
        self.client = None

    def __enter__(self):
        self._mock.start()
        self.client = self._boto3.client("stepfunctions", region_name="us-east-1")
        return self

    def __exit__(self, *exc):
        self._mock.stop()
        return False

    def run(self, definition, input_json="{}", timeout=60.0):
        """The result dict of one execution; `definition` and `input_json` are JSON text."""
        self._count += 1
        name = f"lote-peer-{self._count}"
        try:
            arn = self.client.create_state_machine(name=name, definition=definition,
                                                   roleArn=ROLE)["stateMachineArn"]
            start = time.perf_counter()
            execution = self.client.start_execution(stateMachineArn=arn, name=name,
                                                    input=input_json)["executionArn"]
            deadline = start + timeout
            pause = 0.001
            while True:
                desc = self.client.describe_execution(executionArn=execution)
                if desc["status"] != "RUNNING":
                    break
                if time.perf_counter() > deadline:
                    return {"status": "PEER_ERROR",
                            "cause": f"still RUNNING after {timeout:g} s"}
                time.sleep(pause)
                pause = min(pause * 2, 0.02)
            seconds = time.perf_counter() - start
        except Exception as e:  # moto's errors (InvalidDefinition, 500s) are results here
            return {"status": "PEER_ERROR", "cause": f"{type(e).__name__}: {e}"[:2000]}
        result = {"status": desc["status"]}
        if desc["status"] == "SUCCEEDED":
            raw = desc.get("output", "null")
            try:
                result["output"] = json.loads(raw)
            except json.JSONDecodeError:  # moto gives a top-level string output unquoted
                result["output_raw"] = raw
        else:
            result["error"] = desc.get("error")
            result["cause"] = desc.get("cause")
        result["seconds"] = round(seconds, 6)
        return result


def load_cases(args):
    if args == ["-"]:
        return [(c.get("name", str(i)), c["definition"] if isinstance(c["definition"], str)
                 else json.dumps(c["definition"]),
                 c["input"] if isinstance(c.get("input"), str) else json.dumps(c.get("input", {})))
                for i, c in enumerate(json.load(sys.stdin))]
    cases = []
    for d in args:
        with open(os.path.join(d, "definition.asl.json")) as f:
            definition = f.read()
        input_path = os.path.join(d, "input.json")
        input_json = "{}"
        if os.path.exists(input_path):
            with open(input_path) as f:
                input_json = f.read()
        cases.append((os.path.basename(os.path.normpath(d)), definition, input_json))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per execution")
    ap.add_argument("--verbose", action="store_true", help="keep moto's error log on stderr")
    ap.add_argument("cases", nargs="+", help="case folders, or - for a JSON list on stdin")
    a = ap.parse_args()
    cases = load_cases(a.cases)
    ok = True
    with MotoSfn(quiet=not a.verbose) as moto:
        for name, definition, input_json in cases:
            result = moto.run(definition, input_json, a.timeout)
            ok = ok and result["status"] != "PEER_ERROR"
            print(json.dumps({"case": name, **result}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
