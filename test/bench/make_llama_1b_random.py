"""Writes a Llama-3.2-1B-shaped Hugging Face folder with random float32 weights, for `npm run bench -- --only decoder`:
config.json (16 layers, d_model 2048, 8192 neurons, 32 query / 8 key-value heads of 64, vocab 128,256, tied
embeddings, rope_theta 500000 with llama3 rope_scaling), model.safetensors (4.9 GB) and a byte-level BPE
tokenizer.json with Llama-3's vocabulary size (128,000 tokens + 256 special), plus a second random weights file (the
"DPO" model, other seed) for the compare job. Usage:
  /usr/bin/python3 test/bench/make_llama_1b_random.py DIR DPO_FILE
"""
import json
import os
import struct
import sys

import torch

D, D_MLP, LAYERS, HEADS, KV_HEADS, D_HEAD, VOCAB = 2048, 8192, 16, 32, 8, 64, 128256
REGULAR_TOKENS = 128000  # Llama-3: ids below are BPE tokens, 128000–128255 special tokens

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 128000,
    "eos_token_id": 128001,
    "head_dim": D_HEAD,
    "hidden_act": "silu",
    "hidden_size": D,
    "initializer_range": 0.02,
    "intermediate_size": D_MLP,
    "max_position_embeddings": 131072,
    "mlp_bias": False,
    "num_attention_heads": HEADS,
    "num_hidden_layers": LAYERS,
    "num_key_value_heads": KV_HEADS,
    "rms_norm_eps": 1e-5,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0,
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
    "use_cache": True,
    "vocab_size": VOCAB,
}


def shapes():
    """Checkpoint keys and shapes as Llama-3.2-1B's model.safetensors has them (tied: no lm_head.weight)."""
    result = {"model.embed_tokens.weight": (VOCAB, D)}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        result.update({
            p + "input_layernorm.weight": (D,),
            p + "self_attn.q_proj.weight": (HEADS * D_HEAD, D),
            p + "self_attn.k_proj.weight": (KV_HEADS * D_HEAD, D),
            p + "self_attn.v_proj.weight": (KV_HEADS * D_HEAD, D),
            p + "self_attn.o_proj.weight": (D, HEADS * D_HEAD),
            p + "post_attention_layernorm.weight": (D,),
            p + "mlp.gate_proj.weight": (D_MLP, D),
            p + "mlp.up_proj.weight": (D_MLP, D),
            p + "mlp.down_proj.weight": (D, D_MLP),
        })
    result["model.norm.weight"] = (D,)
    return result


def write_weights(path, seed):
    """Normal(0, 0.02) matrices, norms of ones, written tensor by tensor (never the whole model in memory)."""
    generator = torch.Generator().manual_seed(seed)
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes().items():
        count = 1
        for dim in shape:
            count *= dim
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + 4 * count]}
        offset += 4 * count
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for name, shape in shapes().items():
            t = torch.ones(shape) if name.endswith("norm.weight") else torch.randn(shape, generator=generator) * 0.02
            f.write(t.numpy().tobytes())
    os.replace(temporary, path)  # a run killed half-way leaves no file that looks complete


def byte_characters():
    """GPT-2's byte↔character table: printable bytes map to themselves, the rest to U+0100 onwards."""
    printable = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or b >= 0xAE]
    extra = 0
    table = []
    for b in range(256):
        if b in printable:
            table.append(chr(b))
        else:
            table.append(chr(256 + extra))
            extra += 1
    return table


def write_tokenizer(folder):
    """A byte-level BPE with Llama-3's sizes: 256 byte tokens, 127,744 merges (first "Ġx" for every byte, so " x" is
    one token, then every pair of bytes, then pairs + one byte) and the 256 special tokens at 128000–128255."""
    chars = byte_characters()
    vocab = {c: i for i, c in enumerate(chars)}
    merges = []

    def add(left, right):
        token = left + right
        if token not in vocab and len(vocab) < REGULAR_TOKENS:
            vocab[token] = len(vocab)
            merges.append(f"{left} {right}")

    space = chars[32]
    for c in chars:
        add(space, c)
    pairs = [a + b for a in chars for b in chars]
    for pair in pairs:
        add(pair[0], pair[1])
    for pair in pairs:
        for c in chars:
            if len(vocab) >= REGULAR_TOKENS:
                break
            add(pair, c)
    assert len(vocab) == REGULAR_TOKENS, len(vocab)
    names = ["<|begin_of_text|>", "<|end_of_text|>"] + [f"<|reserved_special_token_{i}|>" for i in range(254)]
    added = [{"id": REGULAR_TOKENS + i, "content": name, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, name in enumerate(names)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": names[0], "eos_token": names[1], "tokenizer_class": "PreTrainedTokenizerFast"}, f)


def main():
    folder, dpo_file = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    write_tokenizer(folder)
    if not os.path.exists(os.path.join(folder, "model.safetensors")):
        write_weights(os.path.join(folder, "model.safetensors"), seed=0)
    if not os.path.exists(dpo_file):
        write_weights(dpo_file, seed=1)
    print(folder)


if __name__ == "__main__":
    main()
