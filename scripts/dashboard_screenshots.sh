#!/usr/bin/env bash
# Regenerates docs/images/dashboard-PAGE.png: the quick start's demo lake through `lote run` with
# the quick start's model and config, `lote serve --output` on a free loopback port, and every
# page loaded in Debian's chromium (tests/dashboard/browser_check.mjs --screenshots).
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
build/lote run --input "$work/lake" --output "$work/results" --model "$model" \
  --config config/quickstart.yaml >/dev/null
build/lote serve --port 0 --output "$work/results" 2>"$work/serve.log" &
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
ls -1 docs/images/dashboard-*.png
