#!/usr/bin/python3
"""The scikit-learn peer of lote's entity tagger, for bench/extract_throughput.py.

What an ML team writes in an afternoon with scikit-learn: one LinearSVC over the classic
token-window features (word, lower-cased word, prefixes and suffixes, shape, capitalisation,
the same for the words on each side), each token classified on its own, IOB2 tags chunked as
conlleval does. Debian's python3-sklearn (`scripts/bootstrap.sh --bench`).

  ner_sklearn_peer.py train CONLL MODEL          trains and pickles the model
  ner_sklearn_peer.py eval MODEL CONLL            prints {"precision", "recall", "f1"} (conlleval)
  ner_sklearn_peer.py tag MODEL TEXT              text file, one whitespace-tokenized sentence per
                                                  line -> JSONL entities on stdout
"""
import json
import pickle
import re
import sys


def read_conll(path):
    """Sentences of a CoNLL file as [(token, tag), ...] (token first, tag last; -DOCSTART- and
    blank lines end sentences). bench/extract_throughput.py imports it, hence sklearn is imported
    only where it is used."""
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.split()
            if not cols:
                if cur:
                    sents.append(cur)
                cur = []
            elif cols[0] != "-DOCSTART-":
                cur.append((cols[0], cols[-1]))
    if cur:
        sents.append(cur)
    return sents


def shape(w):
    s = re.sub("[A-ZÁÉÍÓÚÑÜ]", "X", w)
    s = re.sub("[a-záéíóúñü]", "x", s)
    s = re.sub("[0-9]", "d", s)
    return re.sub(r"(.)\1+", r"\1\1", s)


def word_features(w, prefix, f):
    lw = w.lower()
    f[prefix + "w"] = lw
    f[prefix + "shape"] = shape(w)
    f[prefix + "title"] = w[:1].isupper()
    if prefix == "":
        f["w_cased"] = w
        for k in (2, 3, 4):
            f["suf%d" % k] = lw[-k:]
            f["pre%d" % k] = lw[:k]
        f["upper"] = w.isupper()
        f["digit"] = w.isdigit()


def features(words):
    out = []
    for i, w in enumerate(words):
        f = {"bias": 1.0, "first": i == 0}
        word_features(w, "", f)
        if i > 0:
            word_features(words[i - 1], "-1:", f)
        if i + 1 < len(words):
            word_features(words[i + 1], "+1:", f)
        out.append(f)
    return out


def chunks(tags):
    """conlleval chunking: (type, start, end) of every entity; I- after O or another type
    starts a new one."""
    spans, start, typ = [], None, None
    for i, t in enumerate(tags + ["O"]):
        prefix, _, ty = t.partition("-")
        begins = prefix == "B" or (prefix == "I" and ty != typ)
        if start is not None and (t == "O" or begins):
            spans.append((typ, start, i))
            start, typ = None, None
        if t != "O" and begins:
            start, typ = i, ty
    return spans


def main():
    mode = sys.argv[1]
    if mode == "train":
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.svm import LinearSVC
        sents = read_conll(sys.argv[2])
        X, y = [], []
        for s in sents:
            X += features([w for w, _ in s])
            y += [t for _, t in s]
        vec = DictVectorizer()
        clf = LinearSVC(C=0.1)
        clf.fit(vec.fit_transform(X), y)
        with open(sys.argv[3], "wb") as f:
            pickle.dump((vec, clf), f)
        print(f"trained on {len(sents)} sentences, {len(y)} tokens, "
              f"{len(vec.vocabulary_)} features", file=sys.stderr)
        return
    with open(sys.argv[2], "rb") as f:
        vec, clf = pickle.load(f)
    if mode == "eval":
        sents = read_conll(sys.argv[3])
        X = []
        for s in sents:
            X += features([w for w, _ in s])
        pred = list(clf.predict(vec.transform(X)))
        gold_n = pred_n = correct = 0
        k = 0
        for s in sents:
            g = set(chunks([t for _, t in s]))
            p = set(chunks(pred[k:k + len(s)]))
            k += len(s)
            gold_n += len(g)
            pred_n += len(p)
            correct += len(g & p)
        prec = correct / pred_n if pred_n else 0.0
        rec = correct / gold_n if gold_n else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        print(json.dumps({"precision": prec, "recall": rec, "f1": f1}))
        return
    if mode == "tag":
        out = sys.stdout
        batch = []

        def flush():
            X, lens = [], []
            for words in batch:
                X += features(words)
                lens.append(len(words))
            pred = list(clf.predict(vec.transform(X))) if X else []
            k = 0
            for words, n in zip(batch, lens):
                offs, pos = [], 0
                for w in words:
                    offs.append(pos)
                    pos += len(w) + 1
                ents = [{"type": t, "start": offs[a], "end": offs[b - 1] + len(words[b - 1]),
                         "text": " ".join(words[a:b])} for t, a, b in chunks(pred[k:k + n])]
                k += n
                out.write(json.dumps({"entities": ents}, ensure_ascii=False) + "\n")
            batch.clear()

        with open(sys.argv[3], encoding="utf-8") as f:
            for line in f:
                batch.append(line.split())
                if len(batch) == 2000:
                    flush()
        flush()
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
