"""Write a tiny random-weight llama GGUF that llama-server can load, from a vocabulary-only GGUF.

    python make_tiny_gguf.py VOCAB.gguf OUT.gguf

The tokenizer (all `tokenizer.*` keys) is copied from VOCAB, e.g. llama.cpp's `models/ggml-vocab-llama-spm.gguf`;
the weights are seeded random numbers in f16, the output layer tied to the token embedding, so the file stays a
few MB. Its text is gibberish, but tokenizing, decoding, streaming, usage and timings are llama-server's own.
Needs numpy and llama.cpp's gguf-py on the path (scripts/servers_setup.py runs it so).
"""

from __future__ import annotations

import sys
from pathlib import Path

import gguf
import numpy as np

N_EMBD = 128
N_LAYER = 2
N_HEAD = 4
N_FF = 256
N_CTX_TRAIN = 4096
SEED = 14


def copy_tokenizer(reader: gguf.GGUFReader, writer: gguf.GGUFWriter) -> int:
    """Copy every `tokenizer.*` key; return the vocabulary size."""
    n_vocab = 0
    for field in reader.fields.values():
        if not field.name.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        value = field.contents()
        writer.add_key_value(field.name, value, vtype, sub_type=sub_type)
        if field.name == "tokenizer.ggml.tokens":
            n_vocab = len(value)
    if not n_vocab:
        raise SystemExit("the vocabulary file has no tokenizer.ggml.tokens")
    return n_vocab


def weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) * 0.02).astype(np.float16)


def main(vocab_path: str, out_path: str) -> None:
    reader = gguf.GGUFReader(vocab_path)
    out = Path(out_path)
    tmp = out.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name("botticelli-tiny-random")
    writer.add_context_length(N_CTX_TRAIN)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    n_vocab = copy_tokenizer(reader, writer)
    writer.add_vocab_size(n_vocab)

    rng = np.random.default_rng(SEED)
    ones = np.ones(N_EMBD, dtype=np.float32)
    writer.add_tensor("token_embd.weight", weights(rng, n_vocab, N_EMBD))
    writer.add_tensor("output_norm.weight", ones)
    for i in range(N_LAYER):
        block = f"blk.{i}"
        writer.add_tensor(f"{block}.attn_norm.weight", ones)
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{block}.{name}.weight", weights(rng, N_EMBD, N_EMBD))
        writer.add_tensor(f"{block}.ffn_norm.weight", ones)
        writer.add_tensor(f"{block}.ffn_gate.weight", weights(rng, N_FF, N_EMBD))
        writer.add_tensor(f"{block}.ffn_up.weight", weights(rng, N_FF, N_EMBD))
        writer.add_tensor(f"{block}.ffn_down.weight", weights(rng, N_EMBD, N_FF))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
