#!/usr/bin/env python3
"""Reference values for src/embed/diagnostics.ts, computed independently with numpy and h5py.

For each of the seed paper's concept-embedding files (../shared/data/influenza-embeddings/*.h5, one
dataset per "<code> <text>" key, 180 tokens), over two sets of its vectors: "all" (every key) and
"influenza-dtl" (the keys of the 128 tokens the influenza-dtl target test file really has: for each
column, each observed value P -> "<code> <text>", A -> "<code> Not <text>", a level L of a multi-level
column -> "<code>_<L> <text>", M -> none), which is what `conceptbridge embed inspect` embeds:

- mean pairwise cosine: the mean of the strict upper triangle of the full cosine matrix U U^T;
- effective rank (Roy & Vetterli 2007): exp(entropy of s / sum(s)), s the singular values (numpy SVD);
- negation cosine: the mean cosine of "<code> Not <text>" with "<code> <text>" over every code that has
  both keys;

each raw and after subtracting the mean vector ("centered"). Writes
test/embed/fixtures/diagnostics-reference.json; test/embed/diagnostics.test.ts checks the TypeScript
figures against it to 0.01 (in practice 1e-6).

Run: /usr/bin/python3 scripts/embedding-diagnostics-reference.py
"""
import csv
import json
import os

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("CONCEPTBRIDGE_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
FILES = ["concept_pair_bert.h5", "concept_pair_biobert.h5", "concept_pair_openai_small.h5"]
DATASET = os.path.join("influenza-dtl", "target_test", "findings_final_0814_seed-1494714102_size10000.csv")


def read(path):
    with h5py.File(path, "r") as f:
        keys = sorted(f.keys())
        x = np.stack([np.asarray(f[k], dtype=np.float64).reshape(-1) for k in keys])
    return keys, x


def figures(keys, x):
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    c = u @ u.T
    n = len(keys)
    upper = c[np.triu_indices(n, k=1)]
    s = np.linalg.svd(x, compute_uv=False)
    p = s[s > 0] / s.sum()
    index = {k: i for i, k in enumerate(keys)}
    pairs = []
    for k in keys:
        code, _, text = k.partition(" ")
        if text.lower().startswith("not "):
            pos = f"{code} {text[4:]}"
            if pos in index:
                pairs.append((index[k], index[pos]))
    neg = float(np.mean([c[a, b] for a, b in pairs])) if pairs else None
    return {
        "meanCosine": float(upper.mean()),
        "effectiveRank": float(np.exp(-(p * np.log(p)).sum())),
        "negationCosine": neg,
    }, len(pairs)


def dataset_keys(keys):
    """The file's keys of the tokens the influenza-dtl target test file has (see the docstring)."""
    with open(os.path.join(SHARED, DATASET), newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        observed = {c: set() for c in header if c != "diagnosis"}
        for r in rows:
            for c, v in zip(header, r):
                if c in observed:
                    observed[c].add(v)
    multi = {k.split(" ", 1)[0].rsplit("_", 1)[0] for k in keys if "_" in k.split(" ", 1)[0]}
    chosen = []
    for col, values in observed.items():
        for v in sorted(values):
            if col in multi:
                match = [k for k in keys if k.startswith(f"{col}_{v} ") and not k.split(" ", 1)[1].startswith("Not ")]
            elif v == "P":
                match = [k for k in keys if k.startswith(f"{col} ") and not k.startswith(f"{col} Not ")]
            elif v == "A":
                match = [k for k in keys if k.startswith(f"{col} Not ")]
            else:
                continue
            assert len(match) == 1, (col, v, match)
            chosen.append(match[0])
    return sorted(chosen)


def entry(keys, x):
    raw, pairs = figures(keys, x)
    centered, _ = figures(keys, x - x.mean(axis=0, keepdims=True))
    return {"tokens": len(keys), "dimension": x.shape[1], "pairs": pairs, "raw": raw, "centered": centered}


def main():
    out = {}
    for name in FILES:
        keys, x = read(os.path.join(SHARED, "influenza-embeddings", name))
        subset = dataset_keys(keys)
        rows = [keys.index(k) for k in subset]
        out[name] = {"all": entry(keys, x), "influenza-dtl": entry(subset, x[rows])}
        print(name, json.dumps(out[name]))
    dest = os.path.join(ROOT, "test", "embed", "fixtures", "diagnostics-reference.json")
    with open(dest, "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote", dest)


if __name__ == "__main__":
    main()
