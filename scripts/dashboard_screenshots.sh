#!/usr/bin/env bash
# Regenerates docs/images/dashboard-PAGE.png: the quick start's demo lake through the batch state
# machine (`lote flow run`) with the quick start's model and config, a registry where `lote promote` replaced a worse champion
# (trained on the sample with most labels scrambled) by the quick start's classifier, `lote serve
# --output --registry` on a free loopback port, and every page loaded in Debian's chromium
# (tests/dashboard/browser_check.mjs --screenshots).
# Usage: scripts/dashboard_screenshots.sh   (after scripts/quickstart.sh, which trains the model)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --services --node
scripts/build.sh
model=models/banca.lote
[[ -f $model ]] || { echo "dashboard_screenshots: run scripts/quickstart.sh first ($model)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 scripts/make_demo_inputs.py "$work/lake" >/dev/null
# The batch state machine (deploy/statemachines/pipeline.asl.json) runs the stages, so that the
# runs page links its run to the execution's history.
build/lote flow run --quiet --definition deploy/statemachines/pipeline.asl.json \
  --substitutions deploy/statemachines/local.substitutions.json --model lote-model="$model" \
  --config config/quickstart.yaml --name screenshots --history "$work/history.db" \
  --input "{\"input\": \"$work/lake\", \"output\": \"$work/results\"}" >/dev/null
python3 - "$work/corrupt.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open("data/sample/train.jsonl", encoding="utf-8")]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for i, r in enumerate(rows):
        label = rows[(i * 7 + 3) % len(rows)]["label"] if i % 5 < 3 else r["label"]
        out.write(json.dumps({"text": r["text"], "label": label}, ensure_ascii=False) + "\n")
PY
build/lote train classify --train "$work/corrupt.jsonl" --name corrupt --out "$work/corrupt.lote" \
  >/dev/null 2>"$work/train.log" || { cat "$work/train.log" >&2; exit 1; }
reg=(--registry "$work/registry")
build/lote registry register --name intents --model "$work/corrupt.lote" "${reg[@]}" >/dev/null
build/lote registry alias set intents champion 1 --reason "first model" "${reg[@]}" >/dev/null
build/lote registry register --name intents --model models/intents.lote "${reg[@]}" >/dev/null
build/lote promote --name intents --candidate 2 --golden data/sample/dev.jsonl "${reg[@]}" \
  >/dev/null
build/lote serve --port 0 --output "$work/results" "${reg[@]}" --flow-history "$work/history.db" \
  2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$work/serve.log")
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n ${port:-} ]] || { cat "$work/serve.log" >&2; exit 1; }
mkdir -p docs/images
node tests/dashboard/browser_check.mjs --url "http://127.0.0.1:$port" --screenshots docs/images \
  >/dev/null
node tests/dashboard/browser_check.mjs --url "http://127.0.0.1:$port" --pages flow \
  --query execution=screenshots --screenshots docs/images >/dev/null
ls -1 docs/images/dashboard-*.png
