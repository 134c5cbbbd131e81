#!/usr/bin/env bash
# The README's main command: installs what is missing, builds lote, trains the default model on
# the bundled synthetic sample (if missing or older than the data), generates raw input files
# from the sample (JSONL, gzipped JSONL, CSV, text; some records deliberately bad), runs the
# pipeline on them, and shows the run summary and one query over the results.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p models
# The default model: an intent classifier and a PER/ORG/LOC tagger, both trained on the bundled
# synthetic sample (no research-only data), bundled into one file. Retrained when the sample
# or the binary is newer than the model.
stale() { [[ ! -f $1 || data/sample/train.jsonl -nt $1 || build/lote -nt $1 ]]; }
if stale models/intents.lote; then
  echo "== training the intent classifier on data/sample (synthetic) =="
  build/lote train classify --train data/sample/train.jsonl --dev data/sample/dev.jsonl \
    --name intents --out models/intents.lote
  echo
fi
if stale models/sample_ner.lote; then
  echo "== training the entity tagger (PER, ORG, LOC) on data/sample (synthetic) =="
  build/lote train extract --train data/sample/train.jsonl --dev data/sample/dev.jsonl \
    --types PER,ORG,LOC --name sample_ner --out models/sample_ner.lote
  echo
fi
model=models/banca.lote
if [[ ! -f $model || models/intents.lote -nt $model || models/sample_ner.lote -nt $model ]]; then
  build/lote bundle --out "$model" --name banca models/intents.lote models/sample_ner.lote
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
echo
echo "== lote query: entities by type (personal data masked by config/quickstart.yaml) =="
build/lote query --output "$demo/results" \
  "SELECT type, count(*) AS n, min(text) AS example FROM entities GROUP BY 1 ORDER BY n DESC"
