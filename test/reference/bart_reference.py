"""Independent PyTorch reference for ToxScope's BART runtime (Hugging Face BartForConditionalGeneration semantics,
written from the published architecture, no transformers package): a tiny seeded checkpoint saved with torch.save
under the real key names (model. prefix, duplicated embed_tokens, tied lm_head, final_logits_bias), a byte-level
BART tokenizer (<s> <pad> </s> <unk>, the 256 byte symbols, <mask>; no merges), and golden outputs.

Regenerate (reviewed change):  /usr/bin/python3 test/reference/bart_reference.py
"""
import json
import math
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_reference import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "bart-tiny")
FORMAT_VERSION = "1"
REGENERATE = "/usr/bin/python3 test/reference/bart_reference.py"


def byte_symbols():
    """GPT-2's bytes_to_unicode table, in byte order."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = [], 0
    for b in range(256):
        if b in printable:
            table.append(chr(b))
        else:
            table.append(chr(256 + extra))
            extra += 1
    return table


VOCAB = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
for symbol in byte_symbols():
    VOCAB[symbol] = len(VOCAB)
VOCAB["<mask>"] = len(VOCAB)
D, HEADS, FFN, ENC, DEC, POS = 16, 2, 32, 2, 2, 64
CONFIG = {"model_type": "bart", "architectures": ["BartForConditionalGeneration"], "vocab_size": len(VOCAB), "d_model": D,
          "encoder_layers": ENC, "decoder_layers": DEC, "encoder_attention_heads": HEADS, "decoder_attention_heads": HEADS,
          "encoder_ffn_dim": FFN, "decoder_ffn_dim": FFN, "max_position_embeddings": POS, "activation_function": "gelu",
          "scale_embedding": False, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 2}


def make_state_dict(seed):
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *shape, std=0.3: torch.randn(*shape, generator=g) * std
    sd = {"model.shared.weight": rnd(len(VOCAB), D)}
    for side, layers in (("encoder", ENC), ("decoder", DEC)):
        p = f"model.{side}."
        sd[p + "embed_positions.weight"] = rnd(POS + 2, D, std=0.1)
        sd[p + "layernorm_embedding.weight"] = 1 + rnd(D, std=0.1)
        sd[p + "layernorm_embedding.bias"] = rnd(D, std=0.1)
        for layer in range(layers):
            q = f"{p}layers.{layer}."
            for attn in (["self_attn"] if side == "encoder" else ["self_attn", "encoder_attn"]):
                for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    sd[f"{q}{attn}.{proj}.weight"] = rnd(D, D)
                    sd[f"{q}{attn}.{proj}.bias"] = rnd(D, std=0.1)
                sd[f"{q}{attn}_layer_norm.weight"] = 1 + rnd(D, std=0.1)
                sd[f"{q}{attn}_layer_norm.bias"] = rnd(D, std=0.1)
            sd[q + "fc1.weight"], sd[q + "fc1.bias"] = rnd(FFN, D), rnd(FFN, std=0.1)
            sd[q + "fc2.weight"], sd[q + "fc2.bias"] = rnd(D, FFN), rnd(D, std=0.1)
            sd[q + "final_layer_norm.weight"] = 1 + rnd(D, std=0.1)
            sd[q + "final_layer_norm.bias"] = rnd(D, std=0.1)
    sd["final_logits_bias"] = rnd(1, len(VOCAB), std=0.05)
    # As BartForConditionalGeneration saves them: embed_tokens and lm_head share `shared`.
    sd["model.encoder.embed_tokens.weight"] = sd["model.shared.weight"]
    sd["model.decoder.embed_tokens.weight"] = sd["model.shared.weight"]
    sd["lm_head.weight"] = sd["model.shared.weight"]
    return sd


def ln(x, sd, name):
    return torch.nn.functional.layer_norm(x, (D,), sd[name + ".weight"], sd[name + ".bias"], 1e-5)


def lin(x, sd, name):
    return x @ sd[name + ".weight"].T + sd[name + ".bias"]


def attention(sd, name, x_q, x_kv, visible):
    dh = D // HEADS
    split = lambda t: t.view(t.shape[0], t.shape[1], HEADS, dh).transpose(1, 2)
    q = split(lin(x_q, sd, name + ".q_proj") * dh ** -0.5)
    k, v = split(lin(x_kv, sd, name + ".k_proj")), split(lin(x_kv, sd, name + ".v_proj"))
    scores = torch.where(visible, q @ k.transpose(-1, -2), torch.tensor(torch.finfo(torch.float32).min))
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x_q.shape[0], x_q.shape[1], D)
    return lin(out, sd, name + ".out_proj")


def forward(sd, input_ids, attention_mask, decoder_ids):
    """BartForConditionalGeneration.forward with hooks; decoder_ids as given (teacher forcing)."""
    hooks = {}
    b, s = input_ids.shape
    t = decoder_ids.shape[1]
    x = ln(sd["model.shared.weight"][input_ids] + sd["model.encoder.embed_positions.weight"][torch.arange(s) + 2], sd, "model.encoder.layernorm_embedding")
    enc_visible = attention_mask.bool()[:, None, None, :]
    for layer in range(ENC):
        p = f"model.encoder.layers.{layer}."
        x = ln(x + attention(sd, p + "self_attn", x, x, enc_visible), sd, p + "self_attn_layer_norm")
        post = torch.nn.functional.gelu(lin(x, sd, p + "fc1"))
        hooks[f"encoder.blocks.{layer}.mlp.hook_post"] = post
        x = ln(x + lin(post, sd, p + "fc2"), sd, p + "final_layer_norm")
    hooks["encoder_hidden"] = x
    y = ln(sd["model.shared.weight"][decoder_ids] + sd["model.decoder.embed_positions.weight"][torch.arange(t) + 2], sd, "model.decoder.layernorm_embedding")
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))[None, None]
    for layer in range(DEC):
        p = f"model.decoder.layers.{layer}."
        y = ln(y + attention(sd, p + "self_attn", y, y, causal), sd, p + "self_attn_layer_norm")
        y = ln(y + attention(sd, p + "encoder_attn", y, x, enc_visible), sd, p + "encoder_attn_layer_norm")
        post = torch.nn.functional.gelu(lin(y, sd, p + "fc1"))
        hooks[f"decoder.blocks.{layer}.mlp.hook_post"] = post
        y = ln(y + lin(post, sd, p + "fc2"), sd, p + "final_layer_norm")
    hooks["logits"] = y @ sd["lm_head.weight"].T + sd["final_logits_bias"]
    return hooks


def shift_tokens_right(ids):
    """What transformers does when only input_ids are given: decoder input = [decoder_start, ids[:-1]]."""
    shifted = torch.full_like(ids, 2)
    shifted[:, 1:] = ids[:, :-1]
    return shifted


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    with open(os.path.join(OUT, "vocab.json"), "w") as f:
        json.dump(VOCAB, f, ensure_ascii=False)
    with open(os.path.join(OUT, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    sd = make_state_dict(99)
    torch.save(sd, os.path.join(OUT, "pytorch_model.bin"))
    # "Hey you!" and "ok" in the byte vocabulary: <s> … </s>
    ids = lambda text: [0] + [VOCAB[byte_symbols()[b]] for b in text.encode()] + [2]
    rows = [ids("Hey you!"), ids("ok")]
    tensors = {}
    for index, row in enumerate(rows):
        x = torch.tensor([row])
        out = forward(sd, x, torch.ones_like(x), shift_tokens_right(x))
        tensors[f"row{index}.input_ids"] = x[0]
        for name, value in out.items():
            tensors[f"row{index}.{name}"] = value[0].contiguous()
    write_safetensors(os.path.join(ROOT, "golden", "bart-tiny.safetensors"), tensors,
                      {"format_version": FORMAT_VERSION, "regenerate": REGENERATE, "torch": torch.__version__})
    print("wrote", OUT, "and test/golden/bart-tiny.safetensors")


if __name__ == "__main__":
    main()
