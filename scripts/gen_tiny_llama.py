#!/usr/bin/env python3
"""Writes tiny random LLaMA checkpoints as Hugging Face folders, with the logits an independent
numpy forward pass computes for them (float64, Hugging Face's LlamaForCausalLM math: RMSNorm,
rotate-half RoPE, grouped-query attention, SwiGLU, tied or untied head).

  tests/data/model/tiny_llama/          F32, one model.safetensors, untied lm_head
  tests/data/model/tiny_llama_sharded/  F16 shard + BF16 shard + model.safetensors.index.json,
                                        tied embeddings (no lm_head.weight)

Each folder gets config.json, tokenizer.json (a tiny byte-level BPE trained here with the HF
`tokenizers` package), tokenizer_config.json (with a chat template) and expected_logits.json
({"tokens": [...], "n_vocab": V, "logits": [[V floats] per position]}).
Deterministic (fixed seeds). Needs numpy and tokenizers; run from anywhere:
  python3 scripts/gen_tiny_llama.py
"""
import json
import os
import struct

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "model")
TEXT = (
    "MemLong Desktop reads books and answers questions about them. The quick brown fox jumps "
    "over the lazy dog. A long memory keeps old keys and values so that the model can look "
    "back at what it read many pages ago. Hello world, hello memory, hello again.\n"
) * 4
PROMPT = "hello memory, the quick brown fox"
N_VOCAB = 288
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
                 "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}")


def make_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=N_VOCAB, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([TEXT], trainer=trainer)
    assert tok.get_vocab_size() == N_VOCAB, tok.get_vocab_size()
    return tok


def round_bf16(a):
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(np.float32)


def to_dtype(a, dtype):
    """Returns (bytes, value as the file holds it, in float64)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.tobytes(), a.astype(np.float64)
    if dtype == "F16":
        h = a.astype(np.float16)
        return h.tobytes(), h.astype(np.float64)
    if dtype == "BF16":
        r = round_bf16(a)
        return (r.view(np.uint32) >> 16).astype(np.uint16).tobytes(), r.astype(np.float64)
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes). Header padded with spaces to 8 bytes."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def forward(w, cfg, ids):
    """Hugging Face LlamaForCausalLM in float64. w: HF names -> [out, in] arrays."""
    n, d = len(ids), cfg["hidden_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dh = d // H
    eps = cfg["rms_norm_eps"]
    inv_freq = cfg["rope_theta"] ** (-np.arange(0, dh, 2, dtype=np.float64) / dh)
    ang = np.outer(np.arange(n, dtype=np.float64), inv_freq)
    cos = np.cos(np.concatenate([ang, ang], -1))[:, None, :]  # [n, 1, dh]
    sin = np.sin(np.concatenate([ang, ang], -1))[:, None, :]
    x = w["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(n, H, dh)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(n, Hkv, dh)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(n, Hkv, dh)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        out = np.zeros((n, H, dh))
        for hh in range(H):
            j = hh // (H // Hkv)
            s = q[:, hh, :] @ k[:, j, :].T / np.sqrt(dh) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            out[:, hh, :] = s @ v[:, j, :]
        x = x + out.reshape(n, H * dh) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = h @ w[p + "mlp.gate_proj.weight"].T
        u = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (g / (1.0 + np.exp(-g)) * u) @ w[p + "mlp.down_proj.weight"].T
    h = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return h @ head.T


def random_weights(cfg, seed, tied):
    rng = np.random.default_rng(seed)
    d, ff, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dh = d // H
    shapes = {"model.embed_tokens.weight": (V, d)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes.update({
            p + "input_layernorm.weight": (d,),
            p + "self_attn.q_proj.weight": (H * dh, d),
            p + "self_attn.k_proj.weight": (Hkv * dh, d),
            p + "self_attn.v_proj.weight": (Hkv * dh, d),
            p + "self_attn.o_proj.weight": (d, H * dh),
            p + "post_attention_layernorm.weight": (d,),
            p + "mlp.gate_proj.weight": (ff, d),
            p + "mlp.up_proj.weight": (ff, d),
            p + "mlp.down_proj.weight": (d, ff),
        })
    shapes["model.norm.weight"] = (d,)
    if not tied:
        shapes["lm_head.weight"] = (V, d)
    out = {}
    for name, shape in shapes.items():
        if len(shape) == 1:
            out[name] = 1.0 + 0.1 * rng.standard_normal(shape)
        else:
            # std 1/sqrt(fan_in) keeps activations O(1), so logits spread over a few units.
            out[name] = rng.standard_normal(shape) / np.sqrt(shape[1])
    return out


def write_model(folder, cfg, weights, shard_dtypes, tok, ids):
    """shard_dtypes: list of dtypes, one shard each (tensors split in order)."""
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    names = list(weights)
    per = (len(names) + len(shard_dtypes) - 1) // len(shard_dtypes)
    stored = {}
    weight_map = {}
    for s, dtype in enumerate(shard_dtypes):
        chunk = names[s * per:(s + 1) * per]
        fname = ("model.safetensors" if len(shard_dtypes) == 1 else
                 f"model-{s + 1:05d}-of-{len(shard_dtypes):05d}.safetensors")
        entries = []
        for name in chunk:
            data, value = to_dtype(weights[name], dtype)
            stored[name] = value
            entries.append((name, dtype, weights[name].shape, data))
            weight_map[name] = fname
        write_safetensors(os.path.join(folder, fname), entries)
    if len(shard_dtypes) > 1:
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=1)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": None, "eos_token": "<|im_end|>", "chat_template": CHAT_TEMPLATE,
                   "add_bos_token": False}, f, indent=1)
    logits = forward(stored, cfg, ids)
    with open(os.path.join(folder, "expected_logits.json"), "w") as f:
        f.write('{"tokens": %s, "n_vocab": %d, "logits": [\n' % (json.dumps(ids), cfg["vocab_size"]))
        f.write(",\n".join("[" + ",".join("%.6g" % x for x in row) + "]" for row in logits))
        f.write("\n]}\n")
    print(folder, "positions", len(ids), "max |logit|", np.abs(logits).max(),
          "argmax", logits.argmax(-1).tolist())


def config(hidden, heads, kv_heads, ff, layers, tied):
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
        "intermediate_size": ff, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
        "num_hidden_layers": layers, "vocab_size": N_VOCAB, "max_position_embeddings": 256,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": tied,
        "hidden_act": "silu", "torch_dtype": "float32", "bos_token_id": 0, "eos_token_id": 2,
    }


def main():
    tok = make_tokenizer()
    ids = tok.encode(PROMPT).ids
    # F32: hidden 32 keeps the fixture small (untied head doubles the embedding bytes).
    cfg = config(hidden=32, heads=4, kv_heads=2, ff=96, layers=2, tied=False)
    write_model(os.path.join(ROOT, "tiny_llama"), cfg, random_weights(cfg, 1, tied=False),
                ["F32"], tok, ids)
    cfg = config(hidden=64, heads=4, kv_heads=2, ff=128, layers=2, tied=True)
    cfg["torch_dtype"] = "bfloat16"
    write_model(os.path.join(ROOT, "tiny_llama_sharded"), cfg, random_weights(cfg, 2, tied=True),
                ["F16", "BF16"], tok, ids)


if __name__ == "__main__":
    main()
