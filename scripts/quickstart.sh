#!/usr/bin/env bash
# The README's main command: installs what is missing, builds lote, trains the default model on
# the bundled synthetic sample (if it is missing or older than the data), and shows `eval` and
# `predict` on the sample's test split.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p models
model=models/intents.lote
if [[ ! -f $model || data/sample/train.jsonl -nt $model ]]; then
  echo "== training the default model on data/sample (synthetic) =="
  build/lote train classify --train data/sample/train.jsonl --dev data/sample/dev.jsonl \
    --name intents --out "$model"
fi
echo
echo "== lote eval on data/sample/test.jsonl =="
build/lote eval --model "$model" --data data/sample/test.jsonl
echo
echo "== lote predict (first 5 test messages) =="
head -n 5 data/sample/test.jsonl > build/quickstart-input.jsonl
build/lote predict --model "$model" --input build/quickstart-input.jsonl --id-field id --top-k 2
