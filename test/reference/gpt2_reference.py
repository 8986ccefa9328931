"""Independent PyTorch reference for ToxScope's GPT-2 runtime (Hugging Face GPT2LMHeadModel semantics, written here
from the published architecture, no transformers package). Writes tiny seeded checkpoints in the real formats and the
golden outputs the TypeScript tests compare against.

Regenerate (reviewed change):  /usr/bin/python3 test/reference/gpt2_reference.py
Needs Debian's python3-torch and python3-numpy.
"""
import json
import math
import os
import struct
import sys

import torch

FORMAT_VERSION = "1"
REGENERATE = "/usr/bin/python3 test/reference/gpt2_reference.py"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "fixtures", "gpt2-tiny")
GOLDEN = os.path.join(ROOT, "golden")

CONFIG = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "vocab_size": 50257,
    "n_positions": 64,
    "n_embd": 8,
    "n_layer": 2,
    "n_head": 2,
    "n_inner": 32,
    "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-5,
    "bos_token_id": 50256,
    "eos_token_id": 50256,
}


def make_state_dict(seed):
    """A GPT2LMHeadModel-shaped state dict (Conv1D weights stored [in, out]) with GPT-2-like scales."""
    g = torch.Generator().manual_seed(seed)
    d, m, v, n = CONFIG["n_embd"], CONFIG["n_inner"], CONFIG["vocab_size"], CONFIG["n_positions"]
    rnd = lambda *shape, std=0.3: torch.randn(*shape, generator=g) * std
    sd = {"wte.weight": rnd(v, d), "wpe.weight": rnd(n, d, std=0.1)}
    for layer in range(CONFIG["n_layer"]):
        p = f"h.{layer}."
        sd[p + "ln_1.weight"] = 1 + rnd(d, std=0.1)
        sd[p + "ln_1.bias"] = rnd(d, std=0.1)
        sd[p + "attn.c_attn.weight"] = rnd(d, 3 * d)
        sd[p + "attn.c_attn.bias"] = rnd(3 * d, std=0.1)
        sd[p + "attn.c_proj.weight"] = rnd(d, d)
        sd[p + "attn.c_proj.bias"] = rnd(d, std=0.1)
        sd[p + "ln_2.weight"] = 1 + rnd(d, std=0.1)
        sd[p + "ln_2.bias"] = rnd(d, std=0.1)
        sd[p + "mlp.c_fc.weight"] = rnd(d, m)
        sd[p + "mlp.c_fc.bias"] = rnd(m, std=0.1)
        sd[p + "mlp.c_proj.weight"] = rnd(m, d)
        sd[p + "mlp.c_proj.bias"] = rnd(d, std=0.1)
    sd["ln_f.weight"] = 1 + rnd(d, std=0.1)
    sd["ln_f.bias"] = rnd(d, std=0.1)
    return sd


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def layer_norm(x, w, b):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, CONFIG["layer_norm_epsilon"])


def forward(sd, input_ids, attention_mask=None):
    """GPT2LMHeadModel forward with hooks named as TransformerLens names them. input_ids: [batch, pos]."""
    d, heads = CONFIG["n_embd"], CONFIG["n_head"]
    dh = d // heads
    batch, pos = input_ids.shape
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    hooks = {}
    x = sd["wte.weight"][input_ids] + sd["wpe.weight"][position_ids]
    causal = torch.tril(torch.ones(pos, pos, dtype=torch.bool))
    visible = causal[None, None] & attention_mask.bool()[:, None, None, :]
    for layer in range(CONFIG["n_layer"]):
        p = f"h.{layer}."
        hooks[f"blocks.{layer}.hook_resid_pre"] = x
        qkv = layer_norm(x, sd[p + "ln_1.weight"], sd[p + "ln_1.bias"]) @ sd[p + "attn.c_attn.weight"] + sd[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(d, dim=2)
        split = lambda t: t.view(batch, pos, heads, dh).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        scores = torch.where(visible, scores, torch.tensor(torch.finfo(scores.dtype).min))
        mixed = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, pos, d)
        attn_out = mixed @ sd[p + "attn.c_proj.weight"] + sd[p + "attn.c_proj.bias"]
        hooks[f"blocks.{layer}.hook_attn_out"] = attn_out
        x = x + attn_out
        hooks[f"blocks.{layer}.hook_resid_mid"] = x
        pre = layer_norm(x, sd[p + "ln_2.weight"], sd[p + "ln_2.bias"]) @ sd[p + "mlp.c_fc.weight"] + sd[p + "mlp.c_fc.bias"]
        hooks[f"blocks.{layer}.mlp.hook_pre"] = pre
        post = gelu_new(pre)
        hooks[f"blocks.{layer}.mlp.hook_post"] = post
        mlp_out = post @ sd[p + "mlp.c_proj.weight"] + sd[p + "mlp.c_proj.bias"]
        hooks[f"blocks.{layer}.hook_mlp_out"] = mlp_out
        x = x + mlp_out
        hooks[f"blocks.{layer}.hook_resid_post"] = x
    normalized = layer_norm(x, sd["ln_f.weight"], sd["ln_f.bias"])
    hooks["ln_final.hook_normalized"] = normalized
    hooks["logits"] = normalized @ sd["wte.weight"].T
    return hooks


def greedy(sd, prompt, new_tokens):
    """Uncached greedy decoding (the slow, obvious way): recompute everything each step."""
    ids = list(prompt)
    for _ in range(new_tokens):
        logits = forward(sd, torch.tensor([ids]))["logits"][0, -1]
        ids.append(int(torch.argmax(logits)))
    return ids[len(prompt):]


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format by hand (Debian has no safetensors package): u64 header length, JSON, raw data."""
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, tensor in tensors.items():
        data = tensor.contiguous().numpy().tobytes()
        header[name] = {"dtype": dtypes[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


class RunsCode:
    """A pickle payload that would call os.system if unpickled by torch.load: our reader must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo TOXSCOPE_PWNED > /tmp/toxscope-pwned",))


def main():
    torch.manual_seed(0)
    os.makedirs(GOLDEN, exist_ok=True)
    base = make_state_dict(1234)
    config_text = json.dumps(CONFIG, indent=2) + "\n"

    # 1. Hub layout: model.safetensors without prefix, with the old causal-mask buffers.
    hub = os.path.join(FIXTURES, "hub")
    os.makedirs(hub, exist_ok=True)
    with open(os.path.join(hub, "config.json"), "w") as f:
        f.write(config_text)
    with_buffers = dict(base)
    n = CONFIG["n_positions"]
    for layer in range(CONFIG["n_layer"]):
        with_buffers[f"h.{layer}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
    write_safetensors(os.path.join(hub, "model.safetensors"), with_buffers, {"format": "pt"})

    # 2. transformers' pytorch_model.bin: "transformer." prefix and the tied lm_head.weight.
    bin_dir = os.path.join(FIXTURES, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    with open(os.path.join(bin_dir, "config.json"), "w") as f:
        f.write(config_text)
    prefixed = {"transformer." + k: v for k, v in base.items()}
    prefixed["lm_head.weight"] = base["wte.weight"]
    torch.save(prefixed, os.path.join(bin_dir, "pytorch_model.bin"))

    # 3. A DPO-trainer checkpoint ({"step_idx", "state", "metrics"}) with different weights, as dpo.pt is.
    dpo = make_state_dict(4321)
    dpo_state = {"transformer." + k: v for k, v in dpo.items()}
    dpo_state["lm_head.weight"] = dpo["wte.weight"]
    torch.save({"step_idx": 6700, "state": dpo_state, "metrics": {"loss/valid": 0.4213}}, os.path.join(FIXTURES, "dpo.pt"))

    # 4. A hostile pickle that would run a shell command.
    torch.save({"state": {"wte.weight": torch.zeros(2)}, "payload": RunsCode()}, os.path.join(FIXTURES, "evil.pt"))

    # Goldens: every hook for two prompts, greedy continuations, for base and dpo weights.
    prompts = [[464, 2068, 7586, 21831, 18045, 625], [40, 1101, 407, 1654, 340, 338, 257]]
    vocab_sample = torch.arange(0, CONFIG["vocab_size"], 97)  # every 97th token: a fixed spread over the vocabulary
    for label, sd in (("base", base), ("dpo", dpo)):
        tensors = {"vocab_sample": vocab_sample}
        for index, prompt in enumerate(prompts):
            hooks = forward(sd, torch.tensor([prompt]))
            tensors[f"prompt{index}.input_ids"] = torch.tensor(prompt)
            for name, value in hooks.items():
                value = value[0]
                if name == "logits":
                    tensors[f"prompt{index}.logits.sampled"] = value[:, vocab_sample].contiguous()
                    tensors[f"prompt{index}.logits.last"] = value[-1].contiguous()
                    tensors[f"prompt{index}.logits.argmax"] = value.argmax(-1)
                else:
                    tensors[f"prompt{index}.{name}"] = value.contiguous()
            tensors[f"prompt{index}.greedy8"] = torch.tensor(greedy(sd, prompt, 8))
        write_safetensors(
            os.path.join(GOLDEN, f"gpt2-tiny-{label}.safetensors"),
            tensors,
            {"format_version": FORMAT_VERSION, "regenerate": REGENERATE, "torch": torch.__version__},
        )
    print("wrote fixtures to", FIXTURES, "and goldens to", GOLDEN)


if __name__ == "__main__":
    sys.exit(main())
