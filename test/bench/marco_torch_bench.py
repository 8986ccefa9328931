"""PyTorch baselines for the detox benchmark (`npm run bench`): MaRCo's algorithm on bart-base-sized models, as
released (one word at a time with full forward passes; rewriting that recomputes every step) and cached (each
sentence's words in one batch with the decoder cut at the mask; rewriting with KV caches), and batched (cached, over
--batch sentences at a time: their words masked in one batch, their rewrites decoded in lockstep, as ToxScope does).
Inputs are the token ids ToxScope produced (prepared by test/bench/detox.bench.ts), so both sides do the same work.
Usage: /usr/bin/python3 test/bench/marco_torch_bench.py --work DIR --threads N --variant released|cached|batched
       [--batch B] [--sentences K] [--print-tokens]
"""
import argparse
import json
import math
import os
import sys
import time

import torch

from gpt2_torch_bench import LazySafetensors  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--work", required=True)
parser.add_argument("--threads", type=int, required=True)
parser.add_argument("--variant", choices=["released", "cached", "batched"], required=True)
parser.add_argument("--batch", type=int, default=8, help="sentences per batch (batched variant)")
parser.add_argument("--print-tokens", action="store_true", help="also print each rewrite's token ids (for checks)")
parser.add_argument("--sentences", type=int, default=None, help="the first K sentences of work.json (default: all)")
args = parser.parse_args()
torch.set_num_threads(args.threads)
work = json.load(open(os.path.join(args.work, "work.json")))
cfg = json.load(open(os.path.join(work["folders"][0], "config.json")))
D, H = cfg["d_model"], cfg["encoder_attention_heads"]
DH = D // H


def load(folder):
    st = LazySafetensors(os.path.join(folder, "model.safetensors"))
    return {name: st[name] for name in st.header if name != "__metadata__"}


def ln(x, sd, name):
    return torch.nn.functional.layer_norm(x, (D,), sd[name + ".weight"], sd[name + ".bias"], 1e-5)


def lin(x, sd, name):
    return torch.nn.functional.linear(x, sd[name + ".weight"], sd[name + ".bias"])


def heads(t):
    return t.view(t.shape[0], t.shape[1], H, DH).transpose(1, 2)


def attend(q, k, v, visible):
    scores = torch.where(visible, (q * DH ** -0.5) @ k.transpose(-1, -2), torch.tensor(torch.finfo(torch.float32).min))
    out = scores.softmax(-1) @ v
    return out.transpose(1, 2).reshape(q.shape[0], q.shape[2], D)


def encode(sd, ids, mask):
    s = ids.shape[1]
    x = ln(sd["model.shared.weight"][ids] + sd["model.encoder.embed_positions.weight"][torch.arange(s) + 2], sd, "model.encoder.layernorm_embedding")
    visible = mask.bool()[:, None, None, :]
    for layer in range(cfg["encoder_layers"]):
        p = f"model.encoder.layers.{layer}."
        x = ln(x + lin(attend(heads(lin(x, sd, p + "self_attn.q_proj")), heads(lin(x, sd, p + "self_attn.k_proj")), heads(lin(x, sd, p + "self_attn.v_proj")), visible), sd, p + "self_attn.out_proj"), sd, p + "self_attn_layer_norm")
        x = ln(x + lin(torch.nn.functional.gelu(lin(x, sd, p + "fc1")), sd, p + "fc2"), sd, p + "final_layer_norm")
    cross = [(heads(lin(x, sd, f"model.decoder.layers.{l}.encoder_attn.k_proj")), heads(lin(x, sd, f"model.decoder.layers.{l}.encoder_attn.v_proj"))) for l in range(cfg["decoder_layers"])]
    return cross, mask.bool()[:, None, None, :]


def decode(sd, ids, cross, enc_visible, past=None, at=None):
    """Decoder over new tokens `ids` [b, t] after `past` positions; returns logits [b, t, V] (or [b, V] at the position
    `at` of each row: an int for all rows, or a tensor [b]) and the new cache."""
    start = 0 if past is None else past[0][0].shape[2]
    t = ids.shape[1]
    y = ln(sd["model.shared.weight"][ids] + sd["model.decoder.embed_positions.weight"][torch.arange(start, start + t) + 2], sd, "model.decoder.layernorm_embedding")
    causal = torch.ones(t, start + t, dtype=torch.bool).tril(start)[None, None]
    presents = []
    for layer in range(cfg["decoder_layers"]):
        p = f"model.decoder.layers.{layer}."
        k, v = heads(lin(y, sd, p + "self_attn.k_proj")), heads(lin(y, sd, p + "self_attn.v_proj"))
        if past is not None:
            k, v = torch.cat([past[layer][0], k], 2), torch.cat([past[layer][1], v], 2)
        presents.append((k, v))
        y = ln(y + lin(attend(heads(lin(y, sd, p + "self_attn.q_proj")), k, v, causal), sd, p + "self_attn.out_proj"), sd, p + "self_attn_layer_norm")
        y = ln(y + lin(attend(heads(lin(y, sd, p + "encoder_attn.q_proj")), cross[layer][0], cross[layer][1], enc_visible), sd, p + "encoder_attn.out_proj"), sd, p + "encoder_attn_layer_norm")
        y = ln(y + lin(torch.nn.functional.gelu(lin(y, sd, p + "fc1")), sd, p + "fc2"), sd, p + "final_layer_norm")
    if at is not None:
        y = y[:, at] if isinstance(at, int) else y[torch.arange(y.shape[0]), at]
    return y @ sd["model.shared.weight"].T + sd["final_logits_bias"], presents


def divergence(a, b):
    la, lb = torch.log_softmax(a, -1), torch.log_softmax(b, -1)
    return float(0.5 * ((la.exp() - lb.exp()) * (la - lb)).sum())


def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows]), torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])


def score_words(group):
    """Each candidate word's divergence, all variants of the group's sentences in one batch per model."""
    variants = [variant for sentence in group for variant in sentence["variants"]]  # [{ids, position}]
    ids, mask = pad([v["ids"] for v in variants], 1)
    cut = max(v["position"] for v in variants) + 1
    shifted, _ = pad([[2] + v["ids"][:-1] for v in variants], 1)
    positions = torch.tensor([v["position"] for v in variants])
    z = [decode(sd, shifted[:, :cut], *encode(sd, ids, mask), at=positions)[0] for sd in (expert, anti)]
    return [divergence(z[0][row], z[1][row]) for row in range(len(variants))]


def combine(logits):
    """The product of experts' scores [b, V] from the base, expert and anti-expert logits."""
    return (settings["alphaBase"] / settings["temperature"]) * logits[0] + settings["alphaExpert"] * logits[1] - settings["alphaAnti"] * logits[2]


def rewrite_batched(group):
    """Greedy KV-cached rewrites of the group's masked sentences in lockstep (finished rows run on, ignored)."""
    rows = [sentence for sentence in group if sentence["masked"] is not None]
    if not rows:
        return []
    x, x_mask = pad([s["ids"] for s in rows], 1)
    xm, xm_mask = pad([s["masked"] for s in rows], 1)
    encodings = [encode(base, x, x_mask), encode(expert, xm, xm_mask), encode(anti, xm, xm_mask)]
    ys, done, caches = [[2, 0] for _ in rows], [False] * len(rows), [None, None, None]
    for _ in range(settings["maxLength"] - 2):
        if all(done):
            break
        feed = torch.tensor(ys) if caches[0] is None else torch.tensor([[y[-1]] for y in ys])
        logits = []
        for index, sd in enumerate((base, expert, anti)):
            out, caches[index] = decode(sd, feed, *encodings[index], caches[index], at=-1)
            logits.append(out)
        chosen = combine(logits).argmax(-1)
        for row, y in enumerate(ys):
            if not done[row]:
                y.append(int(chosen[row]))
                done[row] = y[-1] == 2
    return ys


base, expert, anti = (load(folder) for folder in work["folders"])
settings = work["settings"]
sentences = work["sentences"][: args.sentences]
rewrites = []
start = time.perf_counter()
with torch.no_grad():
    if args.variant != "released":
        # cached is the batched work one sentence at a time.
        size = args.batch if args.variant == "batched" else 1
        for first in range(0, len(sentences), size):
            group = sentences[first : first + size]
            score_words(group)
            rewrites += rewrite_batched(group)
    else:
        for sentence in sentences:
            # As released: one word at a time with full passes; rewriting recomputes the whole prefix every step.
            for variant in sentence["variants"]:  # [{ids, position}] one per candidate word
                ids = torch.tensor([variant["ids"]])
                shifted = torch.tensor([[2] + variant["ids"][:-1]])
                z = [decode(sd, shifted, *encode(sd, ids, torch.ones_like(ids)))[0][0, variant["position"]] for sd in (expert, anti)]
                divergence(*z)
            if sentence["masked"] is None:
                continue
            x, xm = torch.tensor([sentence["ids"]]), torch.tensor([sentence["masked"]])
            y = [2, 0]
            while len(y) < settings["maxLength"]:
                logits = [decode(sd, torch.tensor([y]), *encode(sd, source, torch.ones_like(source)))[0][0, -1] for sd, source in ((base, x), (expert, xm), (anti, xm))]
                y.append(int(torch.argmax(combine(logits))))
                if y[-1] == 2:
                    break
            rewrites.append(y)
seconds = time.perf_counter() - start
result = {"variant": args.variant, "sentences": len(sentences), "seconds": seconds, "sentencesPerSecond": len(sentences) / seconds, "torch": torch.__version__}
if args.variant == "batched":
    result["batch"] = args.batch
if args.print_tokens:
    result["rewrites"] = rewrites
print(json.dumps(result))
