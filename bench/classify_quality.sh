#!/usr/bin/env bash
# Classification quality on the shared datasets' train/dev data (the official test splits are
# held back): trains with default flags the way the held-back evaluation does, but scores on a
# split of the development data that training never saw.
#   banking77: train on a stratified 90 % of train.csv, score the other 10 %.
#   clinc150:  train = train + oos_train, --dev = odd rows of val + oos_val, --oos-label oos,
#              score the even rows of val + oos_val.
#   mtod_es:   train on train-es, score eval-es.
# Usage: bench/classify_quality.sh [build/lote]   (needs ../shared/datasets)
set -euo pipefail
cd "$(dirname "$0")/.."
lote=${1:-build/lote}
out=build/datasets
python3 bench/datasets/prepare.py --out "$out" >/dev/null
[[ -f $out/banking77/train90.csv ]] || { echo "datasets not found: skipping"; exit 0; }
awk 'NR%2==1' "$out/clinc150/dev.jsonl" > "$out/clinc150/dev_a.jsonl"
awk 'NR%2==0' "$out/clinc150/dev.jsonl" > "$out/clinc150/dev_b.jsonl"
m=$(mktemp -d)
trap 'rm -rf "$m"' EXIT
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(' '.join(f'{k}={d[k]:.4f}' for k in sys.argv[1:]))" "$@"; }

"$lote" train classify --train "$out/banking77/train90.csv" --label-field category --out "$m/b77.lote" 2>/dev/null
echo "banking77 (dev 10 %): $("$lote" eval --model "$m/b77.lote" --data "$out/banking77/dev10.csv" --label-field category --json | field accuracy macro_f1 ece)"
"$lote" train classify --train "$out/clinc150/train.jsonl" --dev "$out/clinc150/dev_a.jsonl" --oos-label oos --out "$m/clinc.lote" 2>/dev/null
echo "clinc150 (val half):  $("$lote" eval --model "$m/clinc.lote" --data "$out/clinc150/dev_b.jsonl" --json | field in_scope_accuracy oos_recall accuracy ece)"
"$lote" train classify --train "$out/mtod_es/train.jsonl" --out "$m/mtod.lote" 2>/dev/null
echo "mtod_es (eval split): $("$lote" eval --model "$m/mtod.lote" --data "$out/mtod_es/dev.jsonl" --json | field accuracy macro_f1 ece)"
