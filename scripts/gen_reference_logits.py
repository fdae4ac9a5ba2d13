#!/usr/bin/env python3
"""Reference logits for the real default model (SmolLM2-135M-Instruct.Q4_1.gguf), computed
independently of MemLong: the PyPI `gguf` package reads and dequantizes the file
(gguf.GGUFReader + gguf.quants.dequantize) and numpy runs a float64 LLaMA forward pass.

GGUF llama q/k weights are permuted by the converter for INTERLEAVED RoPE (MEMLONG.md §10.1), so
with the GGUF tensors used directly, adjacent pairs (2i, 2i+1) rotate by theta_i = base^(-2i/dh).

Prompts are token-id lists. The ids come from a byte-level BPE built with the `tokenizers`
package from the GGUF vocabulary and merges (plain ByteLevel pre-tokenizer: close enough to
SmolLM's for realistic ids; the engine test uses the ids, not the text).

Output: tests/data/model/smollm2_reference_logits.json
  {"model": file name, "prompts": [{"text", "tokens": [...], "ids": [256 vocab ids],
    "positions": [{"argmax", "top5": [5 ids], "top5_logits": [...], "logits": [256 floats]}]}]}
`ids` holds the union of the prompt's top-5 ids over all positions, filled up with fixed random
ids to 256. Usage: python3 scripts/gen_reference_logits.py [path/to/model.gguf]
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf.quants import dequantize
from tokenizers import Tokenizer, models, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "model", "smollm2_reference_logits.json")
DEFAULT = os.path.join(os.environ.get("MEMLONG_MODELS_DIR") or os.path.join(
    os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "memlong", "models"),
    "SmolLM2-135M-Instruct.Q4_1.gguf")

TEXTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea, there lived an old fisherman who",
    ("<|im_start|>user\nWhat is the boiling point of water at sea level, in degrees Celsius?"
     "<|im_end|>\n<|im_start|>assistant\n"),
    ("Memory-augmented language models keep the keys and values of text they have already read "
     "in a side memory, so that later tokens can attend to distant context without recomputing "
     "it. This makes it possible to answer questions about a whole book on a desktop computer, "
     "as long as the retrieval step finds the right chunks."),
]
N_IDS = 256


def field(r, key):
    f = r.fields[key]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode()
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        if f.types[1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode() for i in f.data]
        return [f.parts[i][0] for i in f.data]
    return f.parts[f.data[0]][0]


def make_tokenizer(r):
    tokens = field(r, "tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in field(r, "tokenizer.ggml.merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    types = field(r, "tokenizer.ggml.token_type")
    tok.add_special_tokens([t for t, ty in zip(tokens, types) if ty == 3])
    return tok


def load(r):
    w = {}
    for t in r.tensors:
        a = dequantize(t.data, t.tensor_type).astype(np.float64)
        w[t.name] = a.reshape([int(x) for x in reversed(t.shape)])
    return w


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_interleaved(x, pos, theta):
    """x: [n, heads, dh]; rotates pairs (2i, 2i+1) by pos * theta^(-2i/dh)."""
    dh = x.shape[-1]
    inv = theta ** (-np.arange(0, dh, 2, dtype=np.float64) / dh)
    ang = np.outer(pos, inv)[:, None, :]
    c, s = np.cos(ang), np.sin(ang)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


def forward(r, w, ids):
    a = "llama."
    L = int(field(r, a + "block_count"))
    H = int(field(r, a + "attention.head_count"))
    Hkv = int(field(r, a + "attention.head_count_kv"))
    eps = float(field(r, a + "attention.layer_norm_rms_epsilon"))
    theta = float(field(r, a + "rope.freq_base"))
    n = len(ids)
    x = w["token_embd.weight"][ids]
    d = x.shape[1]
    dh = d // H
    pos = np.arange(n, dtype=np.float64)
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(L):
        p = f"blk.{i}."
        h = rms_norm(x, w[p + "attn_norm.weight"], eps)
        q = rope_interleaved((h @ w[p + "attn_q.weight"].T).reshape(n, H, dh), pos, theta)
        k = rope_interleaved((h @ w[p + "attn_k.weight"].T).reshape(n, Hkv, dh), pos, theta)
        v = (h @ w[p + "attn_v.weight"].T).reshape(n, Hkv, dh)
        out = np.zeros((n, H, dh))
        for hh in range(H):
            j = hh // (H // Hkv)
            s = q[:, hh] @ k[:, j].T / np.sqrt(dh) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            out[:, hh] = s @ v[:, j]
        x = x + out.reshape(n, H * dh) @ w[p + "attn_output.weight"].T
        h = rms_norm(x, w[p + "ffn_norm.weight"], eps)
        g = h @ w[p + "ffn_gate.weight"].T
        u = h @ w[p + "ffn_up.weight"].T
        x = x + (g / (1.0 + np.exp(-g)) * u) @ w[p + "ffn_down.weight"].T
    h = rms_norm(x, w["output_norm.weight"], eps)
    head = w.get("output.weight", w["token_embd.weight"])
    return h @ head.T


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    r = gguf.GGUFReader(path)
    tok = make_tokenizer(r)
    w = load(r)
    rng = np.random.default_rng(1234)
    prompts = []
    for text in TEXTS:
        ids = tok.encode(text).ids
        logits = forward(r, w, ids)
        V = logits.shape[1]
        top = np.argsort(-logits, axis=-1)[:, :5]
        chosen = sorted(set(top.flatten().tolist()))
        assert len(chosen) <= N_IDS
        extra = [int(i) for i in rng.permutation(V) if i not in set(chosen)]
        chosen = sorted(chosen + extra[:N_IDS - len(chosen)])
        positions = []
        for t in range(len(ids)):
            positions.append({
                "argmax": int(top[t, 0]),
                "top5": [int(i) for i in top[t]],
                "top5_logits": [round(float(logits[t, i]), 5) for i in top[t]],
                "logits": [round(float(logits[t, i]), 4) for i in chosen],
            })
        prompts.append({"text": text, "tokens": ids, "ids": chosen, "positions": positions})
        print(len(ids), "tokens; argmax", top[:, 0].tolist()[:10], "...", flush=True)
    with open(OUT, "w") as f:
        json.dump({"model": os.path.basename(path), "prompts": prompts}, f, separators=(",", ":"))
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
