#!/usr/bin/env python3
"""Writes raw input files for the quick start's `lote run` from the bundled synthetic sample.

Makes a small "data lake" folder: JSONL (plain and .gz), CSV and plain text files of customer
messages, with the bad records real feeds have (invalid UTF-8, malformed JSON, an empty text, a
delivery repeated under the same id, HTML and control characters). Deterministic: the same
sample gives the same files. Standard library only.

Usage: scripts/make_demo_inputs.py OUT_DIR [--sample data/sample/test.jsonl]
"""
import argparse
import csv
import gzip
import io
import json
import os
import sys


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--sample", default=os.path.join(here, "..", "data", "sample", "test.jsonl"))
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(a.sample, encoding="utf-8")]
    os.makedirs(a.out, exist_ok=True)
    third = len(rows) // 3

    # 1. JSONL with ids, plus bad lines.
    with open(os.path.join(a.out, "2026-11-27-app.jsonl"), "wb") as f:
        for r in rows[:third]:
            f.write((json.dumps({"id": r["id"], "text": r["text"], "channel": "app"},
                                ensure_ascii=False) + "\n").encode("utf-8"))
        f.write(b'{"id": "bad-utf8", "text": "cobro raro \xff\xfe en mi cuenta"}\n')
        f.write(b'{"id": "bad-json", "text": "se corto el mensaje\n')
        f.write(b'{"id": "empty", "text": "   "}\n')
        f.write((json.dumps({"id": rows[0]["id"], "text": rows[0]["text"]}, ensure_ascii=False)
                 + "\n").encode("utf-8"))  # delivered twice: processed once

    # 2. The same kind of feed, gzip-compressed, with HTML from the web form.
    buf = io.StringIO()
    for r in rows[third:2 * third]:
        text = r["text"]
        if len(buf.getvalue()) % 7 == 0:
            text = "<p>" + text.replace(" ", "&nbsp;", 1) + "</p>"
        buf.write(json.dumps({"id": r["id"], "text": text, "channel": "web"},
                             ensure_ascii=False) + "\n")
    with gzip.GzipFile(os.path.join(a.out, "2026-11-27-web.jsonl.gz"), "wb", mtime=0) as f:
        f.write(buf.getvalue().encode("utf-8"))

    # 3. CSV export from the call center (quoted newlines), one row with too many columns.
    with open(os.path.join(a.out, "2026-11-28-callcenter.csv"), "w", encoding="utf-8",
              newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "agent"])
        for i, r in enumerate(rows[2 * third:len(rows) - 20]):
            w.writerow([r["id"], r["text"] + ("\nNota: cliente molesto" if i % 11 == 0 else ""),
                        "agente-%02d" % (i % 9)])
        f.write('x-1,"hola",agente-01,extra\n')

    # 4. Plain text transaction notes, one per line, no ids.
    with open(os.path.join(a.out, "2026-11-28-notes.txt"), "w", encoding="utf-8") as f:
        for r in rows[len(rows) - 20:]:
            f.write(r["text"].replace("\n", " ") + "\n")
    print(f"wrote demo inputs to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
