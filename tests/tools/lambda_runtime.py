#!/usr/bin/env python3
"""A local stand-in for the AWS Lambda service's side of the runtime API (2018-06-01).

It does to a runtime (here `lote lambda`) what Lambda does to a function's execution
environment, as AWS documents the API ("Using the Lambda runtime API for custom runtimes"):

  1. serves the API on 127.0.0.1 at a free port and starts the runtime command with
     AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT (plus AWS_LAMBDA_FUNCTION_NAME and, with --handler,
     _HANDLER);
  2. GET /2018-06-01/runtime/invocation/next answers the next event with the headers
     Lambda-Runtime-Aws-Request-Id (a UUID), Lambda-Runtime-Deadline-Ms (now + --timeout-seconds),
     Lambda-Runtime-Invoked-Function-Arn and Lambda-Runtime-Trace-Id; once the events are used up
     it holds the request open, as Lambda does between invocations;
  3. POST /2018-06-01/runtime/invocation/ID/response and .../ID/error take the outcome (202;
     an unknown or already answered id is 400 InvalidRequestID; a response over 6 MiB is 413
     RequestEntityTooLarge, and the invocation then fails with Function.ResponseSizeTooLarge);
     POST /2018-06-01/runtime/init/error takes an init failure (202);
  4. once every event has its outcome, an init error came (the runtime then has 5 s to exit),
     the runtime exited or --wait-seconds passed, it stops the runtime (SIGTERM, then SIGKILL
     after 2 s) and writes
     the outcomes as JSON to --results: {"invocations": [{"requestId", "event", "response" or
     "error" and "errorTypeHeader"}], "initError": ..., "exitStatus": N or "signal NAME"}.

Exit status 0 when every event got an outcome, 1 otherwise. Python standard library only.
Usage:
  lambda_runtime.py --events FILE --results FILE [--function-name NAME] [--handler H]
                    [--timeout-seconds S] [--wait-seconds S] -- COMMAND [ARGS...]
  FILE holds one JSON event per line.
"""

import argparse
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

MAX_RESPONSE = 6 << 20
PREFIX = "/2018-06-01/runtime/"


class Service:
    def __init__(self, events, function_name, timeout_seconds):
        self.events = events
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        self.next_event = 0
        self.invocations = []  # in event order
        self.by_id = {}
        self.init_error = None
        self.cond = threading.Condition()

    def done(self):
        answered = sum(1 for i in self.invocations if "response" in i or "error" in i)
        return self.init_error is not None or answered == len(self.events)


def make_handler(service):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the test reads --results
            pass

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def error_reply(self, status, error_type, message):
            body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
            self.reply(status, body, [("Content-Type", "application/json")])

        def do_GET(self):
            if self.path != PREFIX + "invocation/next":
                return self.error_reply(404, "NotFound", "no such path")
            with service.cond:
                while service.next_event >= len(service.events):
                    service.cond.wait()  # held open, as Lambda does until the next event
                event = service.events[service.next_event]
                service.next_event += 1
                request_id = str(uuid.uuid4())
                inv = {"requestId": request_id, "event": event}
                service.invocations.append(inv)
                service.by_id[request_id] = inv
            deadline = int((time.time() + service.timeout_seconds) * 1000)
            arn = f"arn:aws:lambda:us-east-1:123456789012:function:{service.function_name}"
            self.reply(200, event.encode(), [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", request_id),
                ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                ("Lambda-Runtime-Invoked-Function-Arn", arn),
                ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"),
            ])

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            if self.path == PREFIX + "init/error":
                with service.cond:
                    service.init_error = {"body": json.loads(body or b"null"),
                                          "errorTypeHeader": self.headers.get(
                                              "Lambda-Runtime-Function-Error-Type")}
                    service.cond.notify_all()
                return self.reply(202, b'{"status":"OK"}')
            parts = self.path[len(PREFIX):].split("/") if self.path.startswith(PREFIX) else []
            if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response",
                                                                                "error"):
                return self.error_reply(404, "NotFound", "no such path")
            with service.cond:
                inv = service.by_id.get(parts[1])
                if inv is None or "response" in inv or "error" in inv:
                    return self.error_reply(400, "InvalidRequestID", "Invalid request ID")
                if parts[2] == "response":
                    if len(body) > MAX_RESPONSE:
                        inv["error"] = {"errorType": "Function.ResponseSizeTooLarge"}
                        service.cond.notify_all()
                        return self.error_reply(413, "RequestEntityTooLarge",
                                                "response over 6 MiB")
                    inv["response"] = json.loads(body)
                else:
                    inv["error"] = json.loads(body)
                    inv["errorTypeHeader"] = self.headers.get(
                        "Lambda-Runtime-Function-Error-Type")
                service.cond.notify_all()
            self.reply(202, b'{"status":"OK"}')

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The runtime is stopped while its keep-alive connection is open: not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--function-name", default="lote-function")
    ap.add_argument("--handler")
    ap.add_argument("--timeout-seconds", type=float, default=900)
    ap.add_argument("--wait-seconds", type=float, default=300)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("the runtime command goes after --")
    with open(args.events, encoding="utf-8") as f:
        events = [line.rstrip("\n") for line in f if line.strip()]

    service = Service(events, args.function_name, args.timeout_seconds)
    server = Server(("127.0.0.1", 0), make_handler(service))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    env["AWS_LAMBDA_FUNCTION_NAME"] = args.function_name
    if args.handler is not None:
        env["_HANDLER"] = args.handler
    child = subprocess.Popen(command, env=env)

    deadline = time.time() + args.wait_seconds
    with service.cond:
        while not service.done() and child.poll() is None and time.time() < deadline:
            service.cond.wait(timeout=0.1)
    if service.init_error is not None:
        try:  # a runtime whose init failed exits by itself
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    code = child.returncode
    status = code if code >= 0 else "signal " + signal.Signals(-code).name
    with service.cond:
        out = {"invocations": service.invocations, "initError": service.init_error,
               "exitStatus": status}
        complete = service.done()
    with open(args.results, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    server.shutdown()
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
