"""Writes a GPT-2-medium-sized model folder with random weights (24 layers, d_model 1024, 4096 neurons, vocab 50257)
as model.safetensors + config.json, for `npm run bench`. Usage: /usr/bin/python3 test/bench/make_gpt2_medium_random.py DIR
"""
import json
import os
import struct
import sys

import torch

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)
cfg = {"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 1024, "n_layer": 24, "n_head": 16,
       "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "bos_token_id": 50256, "eos_token_id": 50256}
json.dump(cfg, open(os.path.join(folder, "config.json"), "w"), indent=2)
g = torch.Generator().manual_seed(0)
d, m, v = 1024, 4096, 50257
shapes = {"wte.weight": (v, d), "wpe.weight": (1024, d)}
for i in range(24):
    p = f"h.{i}."
    shapes.update({p + "ln_1.weight": (d,), p + "ln_1.bias": (d,), p + "attn.c_attn.weight": (d, 3 * d), p + "attn.c_attn.bias": (3 * d,),
                   p + "attn.c_proj.weight": (d, d), p + "attn.c_proj.bias": (d,), p + "ln_2.weight": (d,), p + "ln_2.bias": (d,),
                   p + "mlp.c_fc.weight": (d, m), p + "mlp.c_fc.bias": (m,), p + "mlp.c_proj.weight": (m, d), p + "mlp.c_proj.bias": (d,)})
shapes.update({"ln_f.weight": (d,), "ln_f.bias": (d,)})
header, offset = {}, 0
for name, shape in shapes.items():
    count = 1
    for dim in shape:
        count *= dim
    header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + 4 * count]}
    offset += 4 * count
raw = json.dumps(header).encode()
raw += b" " * ((8 - len(raw) % 8) % 8)
with open(os.path.join(folder, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(raw)) + raw)
    for name, shape in shapes.items():
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            t = torch.ones(shape)
        else:
            t = torch.randn(shape, generator=g) * 0.02
        f.write(t.numpy().tobytes())
print(folder)
