#!/usr/bin/env bash
# Writes the model_file fuzz target's seed corpus (tests/fuzz/corpus/model_file/) with a built
# `lote`: a tiny classifier and a tiny tagger (no gazetteer), and edge cases of the container.
# Each file is a few KB (a bundle of the two would be 14 KB and adds no new parser path). The models are deterministic for a given lote, so rerun this
# only when the model format changes, and commit the result.
# Usage: tests/fuzz/make_model_seeds.sh [path/to/lote]   (default: build/lote)
set -euo pipefail
cd "$(dirname "$0")/../.."
lote=${1:-build/lote}
out=tests/fuzz/corpus/model_file
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

cat >"$tmp/train.jsonl" <<'DATA'
{"text": "quiero saber mi saldo", "label": "saldo"}
{"text": "cuánto dinero tengo en la cuenta", "label": "saldo"}
{"text": "consultar saldo disponible", "label": "saldo"}
{"text": "no llegó mi transferencia", "label": "transferencia"}
{"text": "enviar plata a otra cuenta", "label": "transferencia"}
{"text": "transferir 200 mil a Juan", "label": "transferencia"}
DATA
cat >"$tmp/train.conll" <<'DATA'
Juan B-PER
vive O
en O
Bogotá B-LOC

Ana B-PER
Pérez I-PER
trabaja O
en O
Bancolombia B-ORG

Cali B-LOC
es O
bonita O
DATA

"$lote" train classify --train "$tmp/train.jsonl" --name tiny --out "$out/classifier.lote" \
  >/dev/null 2>&1
"$lote" train extract --train "$tmp/train.conll" --no-gazetteer --epochs 2 --name tinyner \
  --out "$out/tagger.lote" >/dev/null 2>&1

python3 - "$out" <<'PY'
import hashlib, json, struct, sys
out = sys.argv[1]
def frame(sections, version=1):
    payload = struct.pack('<I', len(sections))
    for name, data in sections:
        payload += struct.pack('<Q', len(name)) + name + struct.pack('<Q', len(data)) + data
    return (b'LOTEMDL\0' + struct.pack('<IQ', version, len(payload)) + payload +
            hashlib.sha256(payload).digest())
def sections_of(data):
    payload = data[20:20 + struct.unpack('<Q', data[12:20])[0]]
    pos, sections = 4, []
    for _ in range(struct.unpack('<I', payload[:4])[0]):
        item = []
        for _ in range(2):
            n = struct.unpack('<Q', payload[pos:pos + 8])[0]
            item.append(payload[pos + 8:pos + 8 + n])
            pos += 8 + n
        sections.append(tuple(item))
    return sections
def version_id(name, sections):  # model::VersionId
    h = hashlib.sha256()
    for k, v in sorted(sections):
        if k != b'meta':
            h.update(struct.pack('<QQ', len(k), len(v)) + k + v)
    return name + '-' + h.hexdigest()[:12]
def with_meta(path, edit):
    sections = sections_of(open(path, 'rb').read())
    meta = json.loads(dict(sections)[b'meta'])
    edit(meta)
    return frame([(k, json.dumps(meta).encode() if k == b'meta' else v) for k, v in sections])
def set_parts_tagger_name(meta):
    meta['parts']['tagger']['name'] = []
# Hand-edited metas that LoadModel once answered with an exception (tests/bundle/model_test.cc).
no_parts = [(b'classifier.config', b'')]
open(f'{out}/meta_created_at_number', 'wb').write(frame(sorted(no_parts + [
    (b'meta', json.dumps({'name': 'x', 'created_at': 5,
                          'version_id': version_id('x', no_parts)}).encode())])))
open(f'{out}/tagger_meta_name_array', 'wb').write(
    with_meta(f'{out}/tagger.lote', set_parts_tagger_name))
seeds = {
    'empty_container': frame([]),
    'meta_only': frame([(b'meta', b'{"name":"x","version_id":"x"}')]),
    'future_version': frame([(b'meta', b'{}')], version=2),
    'bad_magic': b'LOTEMDX\0' + bytes(12 + 32),
    'unsorted_sections': frame([(b'meta', b'{}'), (b'a', b'1')]),
    'duplicate_sections': frame([(b'a', b'1'), (b'a', b'2')]),
}
for name, data in seeds.items():
    open(f'{out}/{name}', 'wb').write(data)
PY
ls -l "$out"
