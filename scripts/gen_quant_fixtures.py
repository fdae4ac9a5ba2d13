#!/usr/bin/env python3
"""Generates the quantization fixtures in tests/data/quant/ from gguf-py (pip package `gguf`), an
implementation independent of ours, so core/quant is checked against ggml's definitions rather
than against itself.

Two kinds of file, same container (little-endian):
  magic b"MLQF", u32 version (1), u32 ggml type id, u32 n_elems, u32 n_bytes,
  n_bytes of quantized blocks, then n_elems float32.
- dequant_<TYPE>.bin: random blocks (random bits, sane scales) and gguf-py's dequantization.
- quantize_<TYPE>.bin: random float input and the expected quantized bytes for the activation
  types: Q8_0 from gguf-py's quantizer; Q8_1 and Q8_K (which gguf-py lacks) computed here in numpy
  following ggml's reference quantizers (quantize_row_q8_1_ref, quantize_row_q8_K_ref).

Usage: python3 scripts/gen_quant_fixtures.py [out_dir]   (deterministic: fixed seed)
"""
import struct
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

BLOCK = {  # type: (elements per block, bytes per block, offsets of f16 scale fields)
    T.Q4_0: (32, 18, [0]),
    T.Q4_1: (32, 20, [0, 2]),
    T.Q5_0: (32, 22, [0]),
    T.Q5_1: (32, 24, [0, 2]),
    T.Q8_0: (32, 34, [0]),
    T.Q4_K: (256, 144, [0, 2]),
    T.Q5_K: (256, 176, [0, 2]),
    T.Q6_K: (256, 210, [208]),
}


def write(path: Path, type_id: int, raw: bytes, floats: np.ndarray) -> None:
    floats = np.ascontiguousarray(floats, dtype="<f4")
    with open(path, "wb") as f:
        f.write(b"MLQF" + struct.pack("<4I", 1, type_id, floats.size, len(raw)))
        f.write(raw)
        f.write(floats.tobytes())


def random_blocks(rng, qtype, n_blocks):
    elems, nbytes, scale_offsets = BLOCK[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, nbytes), dtype=np.uint8)
    for off in scale_offsets:  # random bits there would be inf/nan; use sane positive/negative scales
        scales = (rng.standard_normal(n_blocks) * 0.02).astype("<f2")
        if qtype in (T.Q4_K, T.Q5_K):  # d and dmin are non-negative in real files
            scales = np.abs(scales)
        raw[:, off:off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
    return raw


def q8_1_ref(x):
    """ggml quantize_row_q8_1_ref: d = amax / 127, q = roundf(x / d), s = d * sum(q)."""
    out = bytearray()
    for blk in x.reshape(-1, 32):
        d = np.float32(np.max(np.abs(blk)) / np.float32(127))
        idv = np.float32(1) / d if d != 0 else np.float32(0)
        q = quants.np_roundf(blk * idv).astype(np.int8)
        s = np.float32(d * np.float32(int(q.astype(np.int32).sum())))
        out += np.float16(d).tobytes() + np.float16(s).tobytes() + q.tobytes()
    return bytes(out)


def q8_k_ref(x):
    """ggml quantize_row_q8_K_ref: scale so the largest-magnitude value maps to -127; qs rounded
    half-to-even (nearest_int), clamped to 127; bsums of each 16; d = 1 / iscale as float."""
    out = bytearray()
    for blk in x.reshape(-1, 256):
        imax = int(np.argmax(np.abs(blk)))
        mx = blk[imax]
        if mx == 0:
            out += bytes(4 + 256 + 32)
            continue
        iscale = np.float32(-127) / mx
        q = np.minimum(127, np.rint(iscale * blk)).astype(np.int8)
        bsums = q.astype(np.int32).reshape(16, 16).sum(axis=1).astype("<i2")
        out += np.float32(np.float32(1) / iscale).tobytes() + q.tobytes() + bsums.tobytes()
    return bytes(out)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "tests/data/quant"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240611)

    for qtype, (elems, _, _) in BLOCK.items():
        n_blocks = 16 if elems == 32 else 4
        raw = random_blocks(rng, qtype, n_blocks)
        deq = quants.dequantize(raw, qtype).reshape(-1)
        assert deq.size == n_blocks * elems and np.all(np.isfinite(deq))
        write(out / f"dequant_{qtype.name}.bin", int(qtype), raw.tobytes(), deq)

    # Plain types: random finite bit patterns.
    h = (rng.standard_normal(512) * 3).astype("<f2")
    write(out / "dequant_F16.bin", int(T.F16), h.tobytes(), h.astype(np.float32))
    bf_bits = ((rng.standard_normal(512).astype("<f4").view("<u4") >> 16).astype("<u2"))
    bf = quants.dequantize(bf_bits.view(np.uint8), T.BF16).reshape(-1)
    write(out / "dequant_BF16.bin", int(T.BF16), bf_bits.tobytes(), bf)

    # Activation quantizers: 1024 values with a few exact zeros and one all-zero block.
    x = (rng.standard_normal(1024) * rng.uniform(0.1, 4.0)).astype(np.float32)
    x[37] = 0.0
    x[512 + 256 - 32:512 + 256] = 0.0  # an all-zero Q8_0/Q8_1 block
    q8_0 = quants.quantize(x.reshape(1, -1), T.Q8_0).tobytes()
    write(out / "quantize_Q8_0.bin", int(T.Q8_0), q8_0, x)
    write(out / "quantize_Q8_1.bin", int(T.Q8_1), q8_1_ref(x), x)
    xk = x.copy()
    xk[256:512] = 0.0  # an all-zero Q8_K super-block
    write(out / "quantize_Q8_K.bin", int(T.Q8_K), q8_k_ref(xk), xk)


if __name__ == "__main__":
    main()
