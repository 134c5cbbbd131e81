// Runs ASL definitions on aws-local-stepfunctions 3.0.0 (npm; a peer for lote's `flow` executor,
// see tests/data/flow/conformance/ and bench/flow_bench.py) and prints one JSON line per case,
// the same shape as tests/flow/peers/moto_sfn.py:
//   {"case": NAME, "status": "SUCCEEDED", "output": ..., "seconds": S}
//   {"case": NAME, "status": "FAILED", "error": ..., "cause": ..., "seconds": S}
//   {"case": NAME, "status": "PEER_ERROR", "cause": ...}  (the library refused the definition,
//                                                          or the run did not end in time)
// "error" is the name of the error the library failed with (the ASL error name for its own
// errors, e.g. States.Runtime, or the Fail state's Error), "cause" its message (the Fail state's
// Cause). "seconds" is run() to the result, in this process.
//
// Usage (from the repository root, after `npm ci`; node 20 needs the polyfill):
//   node --import ./tests/flow/peers/with_resolvers.mjs tests/flow/peers/local_sfn.mjs \
//       [--timeout 60] CASE_DIR...        (CASE_DIR/definition.asl.json, CASE_DIR/input.json)
//   ... local_sfn.mjs [--timeout 60] -    (stdin: a JSON list of {"name", "definition", "input"})
// Exits 0 when every case was run (whatever its status), 1 otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { StateMachine, ExecutionError } from 'aws-local-stepfunctions';

function parseArgs(argv) {
  const args = { timeout: 60, cases: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--timeout') {
      args.timeout = Number(argv[++i]);
    } else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write('usage: local_sfn.mjs [--timeout SECONDS] CASE_DIR... | -\n');
      process.exit(0);
    } else {
      args.cases.push(argv[i]);
    }
  }
  if (args.cases.length === 0 || !(args.timeout > 0)) {
    process.stderr.write('usage: local_sfn.mjs [--timeout SECONDS] CASE_DIR... | -\n');
    process.exit(2);
  }
  return args;
}

function loadCases(args) {
  if (args.cases.length === 1 && args.cases[0] === '-') {
    const list = JSON.parse(fs.readFileSync(0, 'utf8'));
    return list.map((c, i) => ({
      name: c.name ?? String(i),
      definition: typeof c.definition === 'string' ? JSON.parse(c.definition) : c.definition,
      input: typeof c.input === 'string' ? JSON.parse(c.input) : (c.input ?? {}),
    }));
  }
  return args.cases.map((dir) => {
    const inputPath = path.join(dir, 'input.json');
    return {
      name: path.basename(path.resolve(dir)),
      definition: JSON.parse(fs.readFileSync(path.join(dir, 'definition.asl.json'), 'utf8')),
      input: fs.existsSync(inputPath) ? JSON.parse(fs.readFileSync(inputPath, 'utf8')) : {},
    };
  });
}

// One execution; never throws.
export async function runCase(definition, input, timeoutSeconds = 60) {
  let machine;
  try {
    machine = new StateMachine(definition);
  } catch (e) {
    return { status: 'PEER_ERROR', cause: `${e.name}: ${e.message}`.slice(0, 2000) };
  }
  const start = performance.now();
  const execution = machine.run(input);
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
  });
  try {
    const outcome = await Promise.race([execution.result.then((output) => ({ output })), timeout]);
    if (outcome === 'timeout') {
      execution.abort();
      return { status: 'PEER_ERROR', cause: `still running after ${timeoutSeconds} s` };
    }
    const seconds = (performance.now() - start) / 1000;
    return { status: 'SUCCEEDED', output: outcome.output, seconds: Number(seconds.toFixed(6)) };
  } catch (e) {
    const seconds = Number(((performance.now() - start) / 1000).toFixed(6));
    if (e instanceof ExecutionError && e.cause instanceof Error) {
      return { status: 'FAILED', error: e.cause.name, cause: e.cause.message, seconds };
    }
    return { status: 'PEER_ERROR', cause: `${e.name}: ${e.message}`.slice(0, 2000) };
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let ok = true;
  for (const c of loadCases(args)) {
    const result = await runCase(c.definition, c.input, args.timeout);
    ok = ok && result.status !== 'PEER_ERROR';
    process.stdout.write(JSON.stringify({ case: c.name, ...result }) + '\n');
  }
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
