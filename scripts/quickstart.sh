#!/usr/bin/env bash
# The README's main command: installs what is missing, builds lote, trains the default model on
# the bundled synthetic sample (if missing or older than the data), generates raw input files
# from the sample (JSONL, gzipped JSONL, CSV, text; some records deliberately bad), runs the
# pipeline on them, and shows the run summary and one query over the results.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p models
model=models/intents.lote
if [[ ! -f $model || data/sample/train.jsonl -nt $model ]]; then
  echo "== training the default model on data/sample (synthetic) =="
  build/lote train classify --train data/sample/train.jsonl --dev data/sample/dev.jsonl \
    --name intents --out "$model"
  echo
fi
demo=build/quickstart
rm -rf "$demo"
python3 scripts/make_demo_inputs.py "$demo/lake"
echo
echo "== lote run: $demo/lake -> $demo/results =="
build/lote run --input "$demo/lake" --output "$demo/results" --model "$model" \
  --config config/quickstart.yaml
echo
echo "== lote query: intents by language =="
build/lote query --output "$demo/results" \
  "SELECT label, lang, count(*) AS n FROM results GROUP BY 1, 2 ORDER BY n DESC LIMIT 8"
