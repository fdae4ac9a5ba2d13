#!/usr/bin/env python3
"""Generates tests/data/retriever/tiny_xlmr/: a tiny XLM-RoBERTa folder in the Hugging Face /
sentence-transformers layout and the reference the C++ loader (core/retriever/hf_bert.cpp) is
checked against (tests/core/retriever/hf_xlmr_test.cpp).

  sentencepiece.bpe.model  a SentencePiece *unigram* model trained here with the python
        `sentencepiece` package (single thread, no sampling or shuffling: deterministic) on ~6 KB
        of English from resources/sample and ~2.5 KB of Korean lines from
        tests/data/tokenizer/lines.json; 400 pieces, <unk> 0, <s> 1, </s> 2 as in XLM-R, no byte
        fallback. Normalisation: sentencepiece's own nmt_nfkc rules (the ones XLM-R uses),
        restricted to the Unicode blocks the texts use (Latin, punctuation and letterlike forms,
        CJK symbols, compatibility jamo, ligatures, half/full-width forms, Latin + combining mark
        compositions) so the model is 20 KB instead of 245 KB; the script asserts that on every
        training and reference text the restricted rules normalise exactly as full nmt_nfkc.
  config.json           model_type xlm-roberta: 2 layers, hidden 32, 4 heads, FFN 64, 130
                        positions (128 tokens + padding_idx 1 + 1), type_vocab_size 1, eps 1e-5
  model.safetensors     deterministic random weights under the HF XLMRobertaModel names (no
                        prefix, as sentence-transformers saves them; pooler.* present, unused);
                        word embeddings F16, layer 1's attention matrices BF16, the rest F32
  modules.json, 1_Pooling/config.json   sentence-transformers mean pooling
  reference.json        for 42 English / Korean / edge-case texts: the ids (sentencepiece ids
        from the python package, fairseq shift: <s> 0, <pad> 1, </s> 2, <unk> 3, piece id + 1;
        <s> ... </s>, cut to 128 keeping the start) and the mean- and CLS-pooled embeddings of an
        independent float64 numpy forward pass written the way transformers' XLMRobertaModel
        computes it: one padded batch, position ids cumsum(mask) * mask + padding_idx, additive
        attention mask, post-LN layers, exact GELU (math.erf), masked mean pooling, L2 norm.
        Texts longer than the window also carry the full content ids and the query-side (keep the
        end) ids and embedding.

Usage: scripts/gen_xlmr_fixture.py     Needs: numpy, sentencepiece (pip). Deterministic.
"""
import io
import json
import math
import os
import re
import sys
import tempfile

import numpy as np
import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_retriever_fixtures import to_bf16, write_json_lines, write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "retriever", "tiny_xlmr")
SAMPLE = os.path.join(ROOT, "resources", "sample", "persuasion-chapters-1-6.txt")
LINES = os.path.join(ROOT, "tests", "data", "tokenizer", "lines.json")

H, L, NH, FF, P, PAD = 32, 2, 4, 64, 130, 1
EPS = 1e-5
N_PIECES = 400
MAX_TOKENS = P - (PAD + 1)  # 128


# ----------------------------------------------------------------------------- texts
def english_sentences():
    text = open(SAMPLE, encoding="utf-8").read()
    text = re.sub(r"\s+", " ", text[text.index("Chapter 1"):])
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]


def korean_lines():
    lines = json.load(open(LINES, encoding="utf-8"))
    out = []
    for v in lines.values():
        for s in v if isinstance(v, list) else []:
            if isinstance(s, str) and re.search("[\uac00-\ud7a3]", s):
                s = re.sub(r"\s+", " ", s).strip()
                if s and s not in out:
                    out.append(s)
    return out


def take(items, n_chars):
    out, n = [], 0
    for s in items:
        if n >= n_chars:
            break
        out.append(s)
        n += len(s)
    return out


def training_corpus(en, ko):
    return take(en[:120], 6000) + take(ko[:120], 2500)


def reference_texts(en, ko):
    """(kind, text): English and Korean sentences the model was not trained on (Korean ones
    bring syllables outside the vocabulary: <unk>), texts longer than the 128-token window,
    and edge cases."""
    texts = []
    eng = [s for s in en[400:] if 5 <= len(s.split()) <= 45]
    texts += [("en", s) for s in eng[:40:3]]  # 14
    kor = [s for s in ko[300:] if 8 <= len(s) <= 120]
    texts += [("ko", s) for s in kor[:40:4]]  # 10
    long_en = " ".join(en[600:620])
    long_ko = " ".join(ko[200:215])
    texts += [("long", long_en[:900]), ("long", long_ko[:600]),
              ("long", "Ａｎｎｅ ｅｌｌｉｏｔ ﬁnds ① letter. " * 12)]
    texts += [("edge", t) for t in [
        "", "a", ".", "Anne", "  leading and trailing spaces  ",
        "tabs\tand\nnewlines  and   runs of spaces",
        "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３ ｶﾀｶﾅ",
        "ﬁnance ﬂow ½ ² ™ №",
        "Cafe\u0301 nai\u0308ve (decomposed) vs Café naïve (composed)",
        "Emoji 👋🏽 and 中文 日本語 and ㄱㄴㄷ jamo",
        "Mixed 한국어 and English 텍스트 123 테스트!",
        "\u00a0no-break\u2003em space\u3000ideographic space",
        "Control\u0001chars\u0007removed",
        "Sir Walter Elliot, of Kellynch Hall, in Somersetshire",
        "안녕하세요 반갑습니다"]]
    return texts


# ----------------------------------------------------------------------------- tokenizer
RULE_BLOCKS = [(0x0000, 0x024F), (0x02B0, 0x02FF), (0x2000, 0x2BFF), (0x3000, 0x30FF),
               (0x3130, 0x318F), (0x3200, 0x33FF), (0xFB00, 0xFB4F), (0xFE30, 0xFE6F),
               (0xFF00, 0xFFEF)]


def nfkc_rules(path):
    """sentencepiece's nmt_nfkc mapping for every code point of RULE_BLOCKS, and for Latin
    letters followed by a combining mark, as a normalization_rule_tsv file."""
    norm = spm.SentencePieceNormalizer(rule_name="nmt_nfkc", add_dummy_prefix=False,
                                       remove_extra_whitespaces=False, escape_whitespaces=False)
    rules = {}
    for lo, hi in RULE_BLOCKS:
        for c in range(lo, hi + 1):
            t = norm.normalize(chr(c))
            if t != chr(c):
                rules[(c,)] = t
    for base in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
        for mark in range(0x0300, 0x0370):
            s = base + chr(mark)
            t = norm.normalize(s)
            if t != s:
                rules[(ord(base), mark)] = t
    with open(path, "w", encoding="ascii") as f:
        for src, trg in sorted(rules.items()):
            f.write(" ".join("%X" % c for c in src) + "\t" +
                    " ".join("%X" % ord(c) for c in trg) + "\n")
    return len(rules)


def train_tokenizer(corpus):
    # The trainer records the rule file's path in the model: a fixed relative name, from a
    # temporary working folder, keeps the model byte-identical between runs.
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        tsv = "nmt_nfkc_subset.tsv"
        nfkc_rules(tsv)
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_writer=model, model_type="unigram",
            vocab_size=N_PIECES, normalization_rule_tsv=tsv, byte_fallback=False,
            character_coverage=0.995, num_threads=1, input_sentence_size=0,
            shuffle_input_sentence=False, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
            minloglevel=2)
        os.chdir(cwd)
    return model.getvalue()


def check_normalisation(proto, texts):
    full = spm.SentencePieceNormalizer(rule_name="nmt_nfkc")
    ours = spm.SentencePieceNormalizer(model_proto=proto)
    for t in texts:
        assert full.normalize(t) == ours.normalize(t), ("normalisation differs", t)


def xlmr_ids(sp, text):
    """HF XLMRobertaTokenizer._convert_token_to_id: spm id + 1, spm's <unk> (0) -> 3."""
    return [i + 1 if i else 3 for i in sp.encode(text)]


# ----------------------------------------------------------------------------- weights
def make_weights(V):
    rng = np.random.default_rng(20261129)
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
        tensors[name] = (dt, shape, raw)

    add("embeddings.word_embeddings.weight", (V, H), 1.0, dt="F16")
    add("embeddings.position_embeddings.weight", (P, H), 0.8)
    add("embeddings.token_type_embeddings.weight", (1, H), 0.5)
    add("embeddings.LayerNorm.weight", (H,), 0.1, 1.0)
    add("embeddings.LayerNorm.bias", (H,), 0.1)
    for i in range(L):
        p = "encoder.layer.%d." % i
        for n in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense"):
            add(p + n + ".weight", (H, H), 0.3, dt="BF16" if i == 1 else "F32")
            add(p + n + ".bias", (H,), 0.1)
        add(p + "attention.output.LayerNorm.weight", (H,), 0.1, 1.0)
        add(p + "attention.output.LayerNorm.bias", (H,), 0.1)
        add(p + "intermediate.dense.weight", (FF, H), 0.3)
        add(p + "intermediate.dense.bias", (FF,), 0.1)
        add(p + "output.dense.weight", (H, FF), 0.3)
        add(p + "output.dense.bias", (H,), 0.1)
        add(p + "output.LayerNorm.weight", (H,), 0.1, 1.0)
        add(p + "output.LayerNorm.bias", (H,), 0.1)
    add("pooler.dense.weight", (H, H), 0.3)  # XLMRobertaModel's pooler: not used by embeddings
    add("pooler.dense.bias", (H,), 0.1)
    return W, tensors


# ----------------------------------------------------------------------------- reference
def forward(W, batch):
    """transformers' XLMRobertaModel + sentence-transformers pooling, float64, on a padded batch.
    Returns (mean-pooled, CLS), both L2-normalised, [B, H]."""
    B, T = len(batch), max(len(ids) for ids in batch)
    ids = np.full((B, T), PAD, np.int64)
    mask = np.zeros((B, T), np.int64)
    for b, seq in enumerate(batch):
        ids[b, :len(seq)] = seq
        mask[b, :len(seq)] = 1
    pos = np.cumsum(mask, axis=1) * mask + PAD  # create_position_ids_from_input_ids
    erf = np.vectorize(math.erf)

    def ln(x, w, b):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + EPS) * w + b

    x = (W["embeddings.word_embeddings.weight"][ids] +
         W["embeddings.position_embeddings.weight"][pos] +
         W["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)])
    x = ln(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    hd = H // NH
    add_mask = (1.0 - mask[:, None, None, :]) * np.finfo(np.float64).min  # [B, 1, 1, T]
    for i in range(L):
        p = "encoder.layer.%d." % i

        def lin(n, a):
            return a @ W[p + n + ".weight"].T + W[p + n + ".bias"]

        q, k, v = (lin("attention.self." + n, x).reshape(B, T, NH, hd).transpose(0, 2, 1, 3)
                   for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + add_mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(B, T, H)
        x = ln(x + lin("attention.output.dense", ctx), W[p + "attention.output.LayerNorm.weight"],
               W[p + "attention.output.LayerNorm.bias"])
        u = lin("intermediate.dense", x)
        u = 0.5 * u * (1.0 + erf(u / math.sqrt(2.0)))
        x = ln(x + lin("output.dense", u), W[p + "output.LayerNorm.weight"],
               W[p + "output.LayerNorm.bias"])
    m = mask[:, :, None].astype(np.float64)
    mean = (x * m).sum(1) / m.sum(1)
    cls = x[:, 0]
    return (mean / np.linalg.norm(mean, axis=1, keepdims=True),
            cls / np.linalg.norm(cls, axis=1, keepdims=True))


def rounded(v):
    return [round(float(a), 7) for a in v]


def main():
    en, ko = english_sentences(), korean_lines()
    corpus = training_corpus(en, ko)
    texts = reference_texts(en, ko)
    proto = train_tokenizer(corpus)
    check_normalisation(proto, corpus + [t for _, t in texts])
    sp = spm.SentencePieceProcessor(model_proto=proto)
    assert sp.get_piece_size() == N_PIECES and sp.unk_id() == 0
    V = N_PIECES + 2  # fairseq offset 1 + <mask> at the end, as XLM-R's 250002
    W, tensors = make_weights(V)

    os.makedirs(os.path.join(OUT, "1_Pooling"), exist_ok=True)
    with open(os.path.join(OUT, "sentencepiece.bpe.model"), "wb") as f:
        f.write(proto)
    cfg = {"architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
           "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": NH,
           "intermediate_size": FF, "max_position_embeddings": P, "type_vocab_size": 1,
           "layer_norm_eps": EPS, "hidden_act": "gelu", "vocab_size": V, "pad_token_id": PAD,
           "bos_token_id": 0, "eos_token_id": 2, "position_embedding_type": "absolute"}
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(OUT, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "",
                    "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling",
                    "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize"}], f, indent=1)
    with open(os.path.join(OUT, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": H, "pooling_mode_cls_token": False,
                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False}, f,
                  indent=1)
    write_safetensors(os.path.join(OUT, "model.safetensors"), tensors)

    cases, batch = [], []
    for kind, text in texts:
        content = xlmr_ids(sp, text)
        case = {"kind": kind, "text": text,
                "ids": [0] + content[:MAX_TOKENS - 2] + [2]}
        if len(content) > MAX_TOKENS - 2:
            case["content"] = content
            case["query_ids"] = [0] + content[-(MAX_TOKENS - 2):] + [2]
        cases.append(case)
        batch.append(case["ids"])
    queries = [c["query_ids"] for c in cases if "query_ids" in c]
    mean, cls = forward(W, batch + queries)
    j = len(batch)
    for i, c in enumerate(cases):
        c["mean"], c["cls"] = rounded(mean[i]), rounded(cls[i])
        if "query_ids" in c:
            c["query_mean"] = rounded(mean[j])
            j += 1
    n_unk = sum(c["ids"].count(3) > 0 for c in cases)
    n_long = len(queries)
    assert n_long >= 3 and n_unk >= 5, (n_long, n_unk)
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        write_json_lines(f, {"source": "scripts/gen_xlmr_fixture.py: ids from sentencepiece %s "
                             "+ fairseq shift; float64 numpy XLMRobertaModel forward pass "
                             "(padded batch), mean / CLS pooling, L2-normalised"
                             % spm.__version__, "max_tokens": MAX_TOKENS}, "cases", cases)
    total = sum(os.path.getsize(os.path.join(dp, fn))
                for dp, _, fns in os.walk(OUT) for fn in fns)
    print("tiny_xlmr: %d texts (%d longer than %d tokens, %d with <unk>), vocab %d, %d bytes"
          % (len(cases), n_long, MAX_TOKENS, n_unk, V, total))


if __name__ == "__main__":
    main()
