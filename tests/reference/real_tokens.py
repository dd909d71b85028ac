#!/usr/bin/env python3
"""Build the real-token fixture under tests/data/real/ (issue 13, item 4; THEORY section 10).

Source of the vectors
---------------------
The PyPI package `wordllama` (version 0.4.0.post1, MIT licence, by Lee Miller) ships, inside its
wheel, a Llama-2-vocabulary token-embedding table (`wordllama/weights/l2_supercat_256.safetensors`,
one tensor `embedding.weight`, 32000 x 256, float16) and the matching Llama-2 tokenizer
(`wordllama/tokenizers/l2_supercat_tokenizer_config.json`, a HuggingFace `tokenizers` file). The
MIT licence allows copying and redistributing (parts of) the table; the licence is named in the
fixture's README. Nothing is downloaded at run time: both files are read from the installed
package, and their SHA-256 sums are checked so the fixture is rebuilt from exactly these bytes.
256 is the only width the wheel ships, so d = 256.

Source of the text
------------------
The GNU General Public License, version 3, as shipped by Debian in
/usr/share/common-licenses/GPL-3 (package base-files). Its own header says "Everyone is permitted
to copy and distribute verbatim copies of this license document": we tokenise it unchanged and
store only token ids and embedding rows, never a modified text. Its SHA-256 is checked too.

What it writes (tests/data/real/)
---------------------------------
With the text tokenised without special tokens (no BOS) and its first n = 4096 token ids t_0..t_{n-1}:

  vocab_ids.npy  int32 (m,)        the m distinct vocabulary ids among t_0..t_{n-1}, in order of
                                   first appearance
  table.npy      float16 (m, 256)  row k = embedding row of vocab_ids[k] (bit-exact copy)
  ids.npy        int32 (n,)        t_i remapped to rows of table.npy: vocab_ids[ids[i]] = t_i
  context.npy    float16 (n, 256)  table[ids], the context itself (what `--tokens` reads)
  distinct.npy   float16 (1024, 256) control: the embedding rows of the first 1024 distinct
                                   tokens of the whole text, in order of first appearance
  distinct_vocab_ids.npy int32 (1024,) their vocabulary ids
  README.md      what each file is, sources, how to regenerate, SHA-256 sums, the summary below

Deterministic: the same inputs give the same files byte for byte (np.save of fixed arrays; the
README is generated from the same numbers).

Summary printed (and written to the README), for the prefixes n = 256, 512, 1024, 2048, 4096:
m (distinct directions), the Heaps exponent ln m / ln n, the share of rows with a copy, the
copy-pair fraction and rho_hat = mean cosine <y_i, y_j> over pairs i < j of positions that are not
copies (y = x/|x| in float64 from the float16 rows). Two positions are copies when
1 - <y_i, y_j> <= 1e-12 (issue 13); the script checks that this is the same as "same token id",
i.e. no two distinct ids used here have parallel embedding rows.

Usage:  pip install wordllama==0.4.0.post1 numpy
        python3 tests/reference/real_tokens.py [--text PATH] [--out DIR]
"""

import argparse
import hashlib
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

N = 4096
PREFIXES = [256, 512, 1024, 2048, 4096]
N_DISTINCT = 1024
COPY_TOL = 1e-12
WORDLLAMA_VERSION = "0.4.0.post1"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
TENSOR = "embedding.weight"
TEXT_DEFAULT = "/usr/share/common-licenses/GPL-3"
SHA256 = {
    "text": "3972dc9744f6499f0f9b2dbf76696f2ae7ad8af9b23dde66d6af86c9dfb36986",
    "weights": "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
    "tokenizer": "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def unit_rows(x16):
    """float16 rows -> float64 unit rows (THEORY section 1 pre-norm)."""
    x = x16.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    if np.any(norms == 0.0):
        raise SystemExit("a zero embedding row: its direction is undefined")
    return x / norms[:, None]


def stats(context16):
    """m, Heaps exponent, share of rows with a copy, copy-pair fraction, rho_hat (non-copy pairs)."""
    n = context16.shape[0]
    y = unit_rows(context16)
    g = y @ y.T
    copy = (1.0 - g) <= COPY_TOL
    np.fill_diagonal(copy, False)
    iu = np.triu_indices(n, 1)
    copy_pairs = copy[iu]
    rho_hat = float(g[iu][~copy_pairs].mean())
    # distinct directions: rows with no copy among earlier rows
    first = ~np.tril(copy, -1).any(axis=1)
    m = int(first.sum())
    return {
        "n": n,
        "m": m,
        "heaps": float(np.log(m) / np.log(n)),
        "share_rows_with_copy": float(copy.any(axis=1).mean()),
        "copy_pair_fraction": float(copy_pairs.mean()),
        "rho_hat": rho_hat,
        "copy_matrix": copy,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--text", default=TEXT_DEFAULT, help="the GPL-3 text (checked by SHA-256)")
    ap.add_argument("--out", default=None, help="output directory (default: tests/data/real)")
    args = ap.parse_args()

    try:
        import wordllama
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
    except ImportError as e:
        raise SystemExit(f"missing package ({e}): pip install wordllama=={WORDLLAMA_VERSION}")
    if wordllama.__version__ != WORDLLAMA_VERSION:
        raise SystemExit(f"wordllama {wordllama.__version__} installed, need {WORDLLAMA_VERSION}")
    pkg = Path(wordllama.__file__).parent
    weights_path, tok_path = pkg / WEIGHTS, pkg / TOKENIZER

    sums = {
        "text": sha256_file(args.text),
        "weights": sha256_file(weights_path),
        "tokenizer": sha256_file(tok_path),
    }
    for k, want in SHA256.items():
        if want is not None and sums[k] != want:
            raise SystemExit(f"{k}: SHA-256 {sums[k]} differs from the expected {want}")

    text = Path(args.text).read_text(encoding="utf-8")
    tok = Tokenizer.from_file(str(tok_path))
    all_ids = np.asarray(tok.encode(text, add_special_tokens=False).ids, dtype=np.int64)
    if all_ids.size < N:
        raise SystemExit(f"the text has {all_ids.size} tokens, need {N}")
    emb = load_file(str(weights_path))[TENSOR]
    if emb.dtype != np.float16 or emb.shape[1] != 256:
        raise SystemExit(f"unexpected table {emb.dtype} {emb.shape}")

    def first_appearance(ids):
        seen, order = {}, []
        for t in ids.tolist():
            if t not in seen:
                seen[t] = len(order)
                order.append(t)
        return seen, order

    tokens = all_ids[:N]
    seen, order = first_appearance(tokens)
    vocab_ids = np.asarray(order, dtype=np.int32)
    table = np.ascontiguousarray(emb[vocab_ids])
    ids = np.asarray([seen[t] for t in tokens.tolist()], dtype=np.int32)
    context = np.ascontiguousarray(table[ids])
    assert np.array_equal(vocab_ids[ids], tokens.astype(np.int32))

    _, order_all = first_appearance(all_ids)
    if len(order_all) < N_DISTINCT:
        raise SystemExit(f"the text has {len(order_all)} distinct tokens, need {N_DISTINCT}")
    distinct_vocab = np.asarray(order_all[:N_DISTINCT], dtype=np.int32)
    distinct = np.ascontiguousarray(emb[distinct_vocab])

    files = {
        "ids.npy": ids,
        "vocab_ids.npy": vocab_ids,
        "table.npy": table,
        "context.npy": context,
        "distinct.npy": distinct,
        "distinct_vocab_ids.npy": distinct_vocab,
    }
    blobs = {name: npy_bytes(arr) for name, arr in files.items()}

    # summary numbers; copies by direction must coincide with copies by token id
    rows = []
    for n in PREFIXES:
        s = stats(context[:n])
        same_id = ids[:n, None] == ids[None, :n]
        np.fill_diagonal(same_id, False)
        if not np.array_equal(s.pop("copy_matrix"), same_id):
            raise SystemExit(f"n = {n}: copies by direction differ from copies by token id")
        rows.append(s)
    ctrl = stats(distinct)
    if ctrl.pop("copy_matrix").any():
        raise SystemExit("the distinct control has a pair of parallel rows")

    header = "| n | m distinct | Heaps ln m/ln n | rows with a copy | copy pairs | rho_hat |"
    lines = [header, "|---|---|---|---|---|---|"]
    for s in rows:
        lines.append(
            f"| {s['n']} | {s['m']} | {s['heaps']:.4f} | {s['share_rows_with_copy']:.4f} "
            f"| {s['copy_pair_fraction']:.6f} | {s['rho_hat']:.6f} |"
        )
    lines.append(
        f"| control {ctrl['n']} (distinct.npy) | {ctrl['m']} | {ctrl['heaps']:.4f} "
        f"| {ctrl['share_rows_with_copy']:.4f} | {ctrl['copy_pair_fraction']:.6f} "
        f"| {ctrl['rho_hat']:.6f} |"
    )
    table_md = "\n".join(lines)

    readme = f"""# Real-token fixture (Llama-2 vocabulary, GPL-3 text)

Generated by `tests/reference/real_tokens.py`; do not edit by hand. Used by the reference values
`tests/data/real_reference.json` (`tests/reference/real_reference.py`) and the tests of
`critscale diagnose` (THEORY section 10, issue 13).

## Files

| file | dtype, shape | content |
|---|---|---|
| `context.npy` | float16, ({N}, 256) | the context: embedding rows of the first {N} tokens of the text, in order (`--tokens`) |
| `ids.npy` | int32, ({N},) | the same tokens as rows of `table.npy` (`--ids` with `--tokens table.npy`): `context = table[ids]` |
| `table.npy` | float16, ({len(order)}, 256) | one row per distinct token of the context, in order of first appearance |
| `vocab_ids.npy` | int32, ({len(order)},) | the Llama-2 vocabulary id of each row of `table.npy` (token i is `vocab_ids[ids[i]]`) |
| `distinct.npy` | float16, ({N_DISTINCT}, 256) | control context: the first {N_DISTINCT} distinct tokens of the whole text, no repeats |
| `distinct_vocab_ids.npy` | int32, ({N_DISTINCT},) | their vocabulary ids |

Prefixes of `context.npy` (first n rows) are the contexts at n < {N}.

## Source

- Vectors: PyPI package `wordllama` {WORDLLAMA_VERSION} (MIT licence, Copyright (c) 2024 Lee Miller),
  tensor `{TENSOR}` (32000 x 256, float16) of `{WEIGHTS}`, rows copied bit for bit; tokenizer
  `{TOKENIZER}` (Llama-2 SentencePiece BPE, 32000 ids), `encode(text, add_special_tokens=False)`,
  so no BOS token.
- Text: the GNU General Public License version 3 as shipped by Debian (`/usr/share/common-licenses/GPL-3`,
  {all_ids.size} tokens), used verbatim: the licence permits verbatim copies, and only token ids
  and embedding rows are stored here.
- Input SHA-256: text `{sums['text']}`, weights `{sums['weights']}`, tokenizer `{sums['tokenizer']}`.

## Regenerate

```
pip install wordllama=={WORDLLAMA_VERSION} numpy
python3 tests/reference/real_tokens.py
```

The script checks the three input sums and writes the same bytes on every run.

## Summary (copies: 1 - cos <= 1e-12, which here is exactly "same token id"; rho_hat: mean cosine over position pairs that are not copies)

{table_md}

## SHA-256 of the files

| file | sha256 |
|---|---|
""" + "".join(f"| `{name}` | `{sha256_bytes(b)}` |\n" for name, b in sorted(blobs.items()))

    out = Path(args.out) if args.out else Path(__file__).resolve().parents[1] / "data" / "real"
    out.mkdir(parents=True, exist_ok=True)
    for name, b in blobs.items():
        (out / name).write_bytes(b)
    (out / "README.md").write_text(readme, encoding="utf-8")

    print(f"text tokens {all_ids.size}; n = {N}, d = {table.shape[1]}, table rows m = {len(order)}")
    print(f"input sha256: {sums}")
    print(table_md)
    total = sum(len(b) for b in blobs.values())
    print(f"wrote {len(blobs)} .npy files ({total} bytes) and README.md to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
