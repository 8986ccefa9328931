"""Independent PyTorch reference for ToxScope's RoPE decoders: Hugging Face LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM and Gemma2ForCausalLM forward passes, written here from the architectures (no transformers package)
and checked line by line against transformers' modeling_llama / mistral / qwen2 / gemma2, modeling_rope_utils and
masking_utils. Writes tiny seeded checkpoints in the real Hugging Face layouts (sharded bf16 safetensors with an index,
fp16 and fp32 safetensors, pytorch_model.bin, a DPO-trainer dpo.pt) and the golden outputs the TypeScript tests
compare against, then runs self-checks showing that each architectural detail moves the logits.

Regenerate (reviewed change):  /usr/bin/python3 test/reference/decoder_reference.py
Needs Debian's python3-torch and python3-numpy. Everything is computed in float32: weights stored in bf16/fp16 are
upcast first, as from_pretrained(torch_dtype=torch.float32) does. Attention is HF's "eager" path.
"""
import copy
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

FORMAT_VERSION = "1"
REGENERATE = "/usr/bin/python3 test/reference/decoder_reference.py"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "fixtures", "decoders")
GOLDEN = os.path.join(ROOT, "golden")
VOCAB = 320
PROMPTS = [
    [1, 17, 240, 5, 99, 314, 63],                        # 7 tokens
    [1, 288, 12, 7, 150, 42, 271, 9, 33, 199, 86],       # 11 tokens; both longer than the sliding windows (4)
]
PAD_ID = 0  # only ever masked out; any id would do
GREEDY_TOKENS = 8

# ---------------------------------------------------------------------------------------------------------------------
# Configs: real Hugging Face config.json keys. Oddities are commented where they are chosen on purpose.

LLAMA3 = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "eos_token_id": [2, 3],  # a list, as Llama-3.1-Instruct has
    "head_dim": 8,
    "hidden_act": "silu",
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 48,
    "max_position_embeddings": 64,
    "mlp_bias": False,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-5,
    # original_max_position_embeddings 16 with head_dim 8 and theta 5e5 puts one frequency in the smoothed band and
    # three in the divided band (asserted in check_llama3_frequencies).
    "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 16, "rope_type": "llama3"},
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": VOCAB,
}

LLAMA2 = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": False,
    "bos_token_id": 1,
    "eos_token_id": 2,
    # no "head_dim" key, as in Llama-2's config: head_dim = hidden_size / num_attention_heads = 4
    "hidden_act": "silu",
    "hidden_size": 16,
    "initializer_range": 0.02,
    "intermediate_size": 40,
    "max_position_embeddings": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 4,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-5,
    "rope_scaling": None,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
    "use_cache": True,
    "vocab_size": VOCAB,
}

# Beyond the four families' usual shapes: Llama-3.2-style tied embeddings, the older rope_scaling key "type" with
# linear scaling, attention_bias and mlp_bias, and an explicit head_dim (12) that is not hidden_size / heads (8).
LLAMA_LINEAR = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": True,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "head_dim": 12,
    "hidden_act": "silu",
    "hidden_size": 16,
    "intermediate_size": 40,
    "max_position_embeddings": 64,
    "mlp_bias": True,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "num_key_value_heads": 1,
    "rms_norm_eps": 1e-5,
    "rope_scaling": {"factor": 2.0, "type": "linear"},
    "rope_theta": 10000.0,
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
    "vocab_size": VOCAB,
}

MISTRAL = {
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "head_dim": 8,
    "hidden_act": "silu",
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 48,
    "max_position_embeddings": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 1,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "sliding_window": 4,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
    "use_cache": True,
    "vocab_size": VOCAB,
}

QWEN2 = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "attention_dropout": 0.0,
    "bos_token_id": 2,
    "eos_token_id": 2,  # Qwen2 uses one id for both
    "hidden_act": "silu",
    "hidden_size": 16,
    "initializer_range": 0.02,
    "intermediate_size": 40,
    "max_position_embeddings": 64,
    "max_window_layers": 2,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-6,
    "rope_scaling": None,
    "rope_theta": 1000000.0,
    # A trap on purpose: Qwen2Config sets sliding_window = None unless use_sliding_window is true, so this 4 is
    # ignored by transformers (and must be ignored by us). Real Qwen2 configs also carry an unused sliding_window.
    "sliding_window": 4,
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": VOCAB,
}

GEMMA2 = {
    "architectures": ["Gemma2ForCausalLM"],
    "model_type": "gemma2",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "attn_logit_softcapping": 5.0,
    "bos_token_id": 2,
    "cache_implementation": "hybrid",
    "eos_token_id": 1,
    "final_logit_softcapping": 3.0,
    "head_dim": 16,  # != hidden_size / heads = 8
    "hidden_act": "gelu_pytorch_tanh",
    "hidden_activation": "gelu_pytorch_tanh",  # the key Gemma2Config actually reads
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 48,
    "max_position_embeddings": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 3,
    "num_key_value_heads": 2,
    "pad_token_id": 0,
    "query_pre_attn_scalar": 12,  # != head_dim, so scaling by head_dim**-0.5 is visibly wrong
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "sliding_window": 4,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": VOCAB,
}

STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

# ---------------------------------------------------------------------------------------------------------------------
# Reading a config the way transformers does (defaults per family where a key is absent).


def resolve(config):
    """The numbers the forward pass needs, from a config.json dict, with each family's transformers defaults."""
    family = config["model_type"]
    assert family in ("llama", "mistral", "qwen2", "gemma2"), family
    d_model = config["hidden_size"]
    n_heads = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_heads
    d_head = config.get("head_dim") or d_model // n_heads  # LlamaAttention: getattr(config, "head_dim", d/heads)
    n_layers = config["num_hidden_layers"]
    if family == "gemma2":
        # Gemma2Config.layer_types default: "sliding_attention" if bool((i + 1) % 2), i.e. layers 0, 2, 4, ... slide.
        layer_types = config.get("layer_types") or [
            "sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n_layers)]
        window = config.get("sliding_window", 4096)
    elif family == "mistral":
        # MistralModel: create_sliding_window_causal_mask on every layer when config.sliding_window is not None.
        window = config.get("sliding_window", 4096)
        layer_types = ["sliding_attention" if window is not None else "full_attention"] * n_layers
    elif family == "qwen2":
        # Qwen2Config: sliding_window = sliding_window if use_sliding_window else None; then layers with
        # i >= max_window_layers slide.
        window = config.get("sliding_window", 4096) if config.get("use_sliding_window", False) else None
        max_window_layers = config.get("max_window_layers", 28)
        layer_types = ["sliding_attention" if window is not None and i >= max_window_layers else "full_attention"
                       for i in range(n_layers)]
    else:
        window, layer_types = None, ["full_attention"] * n_layers
    return {
        "family": family,
        "d_model": d_model,
        "n_heads": n_heads,
        "n_kv": n_kv,
        "d_head": d_head,
        "d_mlp": config["intermediate_size"],
        "n_layers": n_layers,
        "eps": config.get("rms_norm_eps", 1e-6),
        # Gemma2Config reads hidden_activation (its hidden_act is ignored); the Llama family reads hidden_act.
        "act": config.get("hidden_activation", "gelu_pytorch_tanh") if family == "gemma2"
        else config.get("hidden_act", "silu"),
        "tied": config.get("tie_word_embeddings", family == "gemma2"),
        "windows": [window if t == "sliding_attention" else None for t in layer_types],
        # Gemma2Attention.scaling = query_pre_attn_scalar ** -0.5; the others head_dim ** -0.5.
        "attn_scale": config.get("query_pre_attn_scalar", 256) ** -0.5 if family == "gemma2" else d_head ** -0.5,
        "attn_softcap": config.get("attn_logit_softcapping", 50.0) if family == "gemma2" else None,
        "final_softcap": config.get("final_logit_softcapping", 30.0) if family == "gemma2" else None,
        "inv_freq": rope_inv_freq(config, d_head),  # [d_head / 2]
    }


def rope_inv_freq(config, d_head):
    """RoPE inverse frequencies as modeling_rope_utils computes them (float32): default, linear and llama3 types."""
    scaling = config.get("rope_parameters") or config.get("rope_scaling") or {}
    base = scaling.get("rope_theta", config.get("rope_theta", 10000.0))
    exponent = torch.arange(0, d_head, 2, dtype=torch.int64).float() / d_head
    inv_freq = 1.0 / (base ** exponent)
    kind = scaling.get("rope_type", scaling.get("type", "default"))  # "type" is the pre-4.45 key
    if kind == "default":
        return inv_freq
    if kind == "linear":
        # Scaling position ids by 1/factor is the same as scaling the frequencies (HF now does the latter).
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_context = scaling.get("original_max_position_embeddings", config.get("max_position_embeddings"))
        wavelen = 2 * math.pi / inv_freq
        # long wavelengths (> old_context / low) are divided by factor; short ones (< old_context / high) are kept;
        # the band between is interpolated with a smooth factor that runs from 0 to 1 across it.
        divided = torch.where(wavelen > old_context / low, inv_freq / factor, inv_freq)
        smooth = (old_context / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * divided / factor + smooth * divided
        in_band = ~(wavelen < old_context / high) & ~(wavelen > old_context / low)
        return torch.where(in_band, smoothed, divided)
    raise ValueError(f"rope type {kind!r} is not supported by this reference")


# ---------------------------------------------------------------------------------------------------------------------
# The forward pass. `mistakes` turns on one of the usual implementation bugs, only for the self-checks below.

MISTAKES = (
    "interleaved_rope",          # GPT-J / Meta-original pairing (2i, 2i+1) instead of HF's rotate_half
    "gqa_tiled",                 # query head h reads kv head h % n_kv instead of h // (n_heads / n_kv)
    "norm_without_plus_one",     # Gemma-2 RMSNorm scaled by w instead of (1 + w)
    "no_embed_scale",            # Gemma-2 embeddings not multiplied by sqrt(hidden_size)
    "head_dim_attn_scale",       # Gemma-2 scores scaled by head_dim**-0.5 instead of query_pre_attn_scalar**-0.5
    "softcap_after_mask",        # Gemma-2 soft-capping applied after the mask (masked keys then leak)
    "sliding_on_odd_layers",     # Gemma-2 sliding window on layers 1, 3, ... instead of 0, 2, ...
)


def rms_norm(x, weight, eps, gemma):
    """RMSNorm in float32: x * rsqrt(mean(x^2) + eps), times w (Llama family) or (1 + w) (Gemma)."""
    normed = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return normed * (1.0 + weight) if gemma else normed * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin, interleaved=False):
    """x: [batch, head, pos, d_head]; cos, sin: [batch, 1, pos, d_head / 2]. HF pairs dim i with dim i + d_head/2."""
    if interleaved:  # the mistake: pairs (2i, 2i+1)
        even, odd = x[..., 0::2], x[..., 1::2]
        return torch.stack((even * cos - odd * sin, odd * cos + even * sin), dim=-1).flatten(-2)
    cos, sin = torch.cat((cos, cos), dim=-1), torch.cat((sin, sin), dim=-1)  # emb = cat(freqs, freqs)
    return x * cos + rotate_half(x) * sin


def activation(name, x):
    if name == "silu":
        return F.silu(x)
    if name == "gelu_pytorch_tanh":
        return F.gelu(x, approximate="tanh")
    if name == "gelu":
        return F.gelu(x)
    raise ValueError(f"activation {name!r} is not supported by this reference")


def attention(a, sd, p, x, cos, sin, visible, mistakes, stats):
    """One self-attention block, HF eager path. x: [batch, pos, d_model]; visible: [batch, 1, pos, pos] bool."""
    batch, pos, _ = x.shape
    n_heads, n_kv, d_head = a["n_heads"], a["n_kv"], a["d_head"]
    q = F.linear(x, sd[p + "q_proj.weight"], sd.get(p + "q_proj.bias"))  # [batch, pos, n_heads * d_head]
    k = F.linear(x, sd[p + "k_proj.weight"], sd.get(p + "k_proj.bias"))  # [batch, pos, n_kv * d_head]
    v = F.linear(x, sd[p + "v_proj.weight"], sd.get(p + "v_proj.bias"))  # [batch, pos, n_kv * d_head]
    q = q.view(batch, pos, n_heads, d_head).transpose(1, 2)  # [batch, n_heads, pos, d_head]
    k = k.view(batch, pos, n_kv, d_head).transpose(1, 2)     # [batch, n_kv, pos, d_head]
    v = v.view(batch, pos, n_kv, d_head).transpose(1, 2)     # [batch, n_kv, pos, d_head]
    interleaved = "interleaved_rope" in mistakes
    q, k = apply_rope(q, cos, sin, interleaved), apply_rope(k, cos, sin, interleaved)
    # repeat_kv: each kv head serves n_heads / n_kv consecutive query heads.
    group = n_heads // n_kv
    kv_of_head = torch.arange(n_heads) % n_kv if "gqa_tiled" in mistakes else torch.arange(n_heads) // group
    k, v = k[:, kv_of_head], v[:, kv_of_head]  # [batch, n_heads, pos, d_head]
    scale = a["d_head"] ** -0.5 if "head_dim_attn_scale" in mistakes else a["attn_scale"]
    scores = (q @ k.transpose(-1, -2)) * scale  # [batch, n_heads, pos, pos]
    if stats is not None:  # for the self-checks: how large visible scores get before any soft-capping
        seen = float(scores.masked_select(visible).abs().max())
        stats["max_abs_score"] = max(stats.get("max_abs_score", 0.0), seen)
    # eager_mask: 0 where visible, finfo(float32).min elsewhere, *added* to the scores (not torch.where), so a row with
    # no visible key (a padding query) becomes uniform over all keys, exactly as transformers' eager path does.
    bias = torch.where(visible, torch.tensor(0.0), torch.tensor(torch.finfo(torch.float32).min))
    cap = a["attn_softcap"]
    if "softcap_after_mask" in mistakes:
        scores = scores + bias
        scores = torch.tanh(scores / cap) * cap
    else:
        if cap is not None:  # Gemma-2: soft-cap the scores, then mask
            scores = torch.tanh(scores / cap) * cap
        scores = scores + bias
    pattern = scores.softmax(dim=-1)  # [batch, n_heads, pos, pos], float32
    z = (pattern @ v).transpose(1, 2).reshape(batch, pos, n_heads * d_head)  # [batch, pos, n_heads * d_head]
    return F.linear(z, sd[p + "o_proj.weight"], sd.get(p + "o_proj.bias"))  # [batch, pos, d_model]


def forward(config, sd, input_ids, attention_mask=None, mistakes=frozenset(), stats=None):
    """*ForCausalLM forward with TransformerLens hook names. input_ids, attention_mask: [batch, pos] (mask 0/1, left
    padding). sd: HF state dict (model. prefix) in float32. Returns {hook name: tensor [batch, pos, width]}."""
    assert set(mistakes) <= set(MISTAKES), mistakes
    a = resolve(config)
    gemma = a["family"] == "gemma2"
    batch, pos = input_ids.shape
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # [batch, pos]
    freqs = position_ids[..., None].float() * a["inv_freq"]      # [batch, pos, d_head / 2], float32 as HF forces
    cos, sin = freqs.cos()[:, None], freqs.sin()[:, None]          # [batch, 1, pos, d_head / 2]

    # Masks over indices in the (left-padded) sequence, as masking_utils builds them from cache positions. For a
    # left-padded row the real tokens are contiguous, so index distance = position-id distance.
    i = torch.arange(pos)[:, None]  # query index
    j = torch.arange(pos)[None, :]  # key index
    causal = (j <= i)[None, None] & attention_mask.bool()[:, None, None, :]  # [batch, 1, pos, pos]

    def visible_for(window):
        # transformers src/transformers/masking_utils.py (read at 00c4411c): sliding_window_causal_mask_function =
        # and_masks(sliding_window_overlay: kv_idx > q_idx - sliding_window, causal_mask_function: kv_idx <= q_idx),
        # i.e. key j is visible to query i iff j <= i and i - j < sliding_window (the query plus window - 1 before it).
        return causal if window is None else causal & (i - j < window)[None, None]

    hooks = {}
    embed = sd["model.embed_tokens.weight"]  # [d_vocab, d_model]
    x = embed[input_ids]                      # [batch, pos, d_model]
    if gemma and "no_embed_scale" not in mistakes:
        # Gemma2Model: hidden * torch.tensor(hidden_size ** 0.5, dtype=hidden.dtype); float32 here.
        x = x * torch.tensor(a["d_model"] ** 0.5, dtype=torch.float32)
    hooks["hook_embed"] = x
    plus_one = gemma and "norm_without_plus_one" not in mistakes
    for layer in range(a["n_layers"]):
        p = f"model.layers.{layer}."
        window = a["windows"][layer]
        if gemma and "sliding_on_odd_layers" in mistakes:
            window = config["sliding_window"] if layer % 2 == 1 else None
        hooks[f"blocks.{layer}.hook_resid_pre"] = x
        h = rms_norm(x, sd[p + "input_layernorm.weight"], a["eps"], plus_one)
        attn_out = attention(a, sd, p + "self_attn.", h, cos, sin, visible_for(window), mistakes, stats)
        if gemma:  # Gemma-2 normalizes what attention writes before adding it
            attn_out = rms_norm(attn_out, sd[p + "post_attention_layernorm.weight"], a["eps"], plus_one)
        hooks[f"blocks.{layer}.hook_attn_out"] = attn_out
        x = x + attn_out
        hooks[f"blocks.{layer}.hook_resid_mid"] = x
        # Llama family: post_attention_layernorm is the pre-MLP norm. Gemma-2: pre_feedforward_layernorm is.
        mlp_norm = "pre_feedforward_layernorm.weight" if gemma else "post_attention_layernorm.weight"
        h = rms_norm(x, sd[p + mlp_norm], a["eps"], plus_one)
        pre = F.linear(h, sd[p + "mlp.gate_proj.weight"], sd.get(p + "mlp.gate_proj.bias"))  # [batch, pos, d_mlp]
        pre_linear = F.linear(h, sd[p + "mlp.up_proj.weight"], sd.get(p + "mlp.up_proj.bias"))  # [batch, pos, d_mlp]
        post = activation(a["act"], pre) * pre_linear  # [batch, pos, d_mlp]
        mlp_out = F.linear(post, sd[p + "mlp.down_proj.weight"], sd.get(p + "mlp.down_proj.bias"))  # [.., d_model]
        if gemma:
            mlp_out = rms_norm(mlp_out, sd[p + "post_feedforward_layernorm.weight"], a["eps"], plus_one)
        hooks[f"blocks.{layer}.mlp.hook_pre"] = pre
        hooks[f"blocks.{layer}.mlp.hook_pre_linear"] = pre_linear
        hooks[f"blocks.{layer}.mlp.hook_post"] = post
        hooks[f"blocks.{layer}.hook_mlp_out"] = mlp_out
        x = x + mlp_out
        hooks[f"blocks.{layer}.hook_resid_post"] = x
    normalized = rms_norm(x, sd["model.norm.weight"], a["eps"], plus_one)  # = HF last_hidden_state
    hooks["ln_final.hook_normalized"] = normalized
    unembed = embed if a["tied"] else sd["lm_head.weight"]  # tied: lm_head.weight is ignored even if present
    logits = normalized @ unembed.T  # [batch, pos, d_vocab]
    if a["final_softcap"] is not None:
        logits = torch.tanh(logits / a["final_softcap"]) * a["final_softcap"]
    hooks["logits"] = logits
    return hooks


def argmax_lowest(row):
    """argmax with ties going to the lowest id, spelled out rather than trusting a kernel's tie rule."""
    return int(torch.nonzero(row == row.max())[0, 0])


def greedy(config, sd, prompt, new_tokens):
    """Uncached greedy decoding (the slow, obvious way): recompute everything each step. Also returns the smallest
    gap between the best and second-best logit, so a golden never hangs on a near-tie."""
    ids, min_gap = list(prompt), float("inf")
    for _ in range(new_tokens):
        last = forward(config, sd, torch.tensor([ids]))["logits"][0, -1]
        top2 = last.topk(2).values
        min_gap = min(min_gap, float(top2[0] - top2[1]))
        ids.append(argmax_lowest(last))
    return ids[len(prompt):], min_gap


# ---------------------------------------------------------------------------------------------------------------------
# Checkpoints.


def weight_shapes(config):
    """Every parameter of the HF model with its shape, in the model's own order."""
    a = resolve(config)
    d, m, hd, family = a["d_model"], a["d_mlp"], a["d_head"], a["family"]
    attention_bias = config.get("attention_bias", False)
    shapes = {"model.embed_tokens.weight": (VOCAB, d)}
    for layer in range(a["n_layers"]):
        p = f"model.layers.{layer}."
        shapes[p + "self_attn.q_proj.weight"] = (a["n_heads"] * hd, d)
        shapes[p + "self_attn.k_proj.weight"] = (a["n_kv"] * hd, d)
        shapes[p + "self_attn.v_proj.weight"] = (a["n_kv"] * hd, d)
        shapes[p + "self_attn.o_proj.weight"] = (d, a["n_heads"] * hd)
        if family == "qwen2" or attention_bias:  # Qwen2: q/k/v always biased, o_proj never
            shapes[p + "self_attn.q_proj.bias"] = (a["n_heads"] * hd,)
            shapes[p + "self_attn.k_proj.bias"] = (a["n_kv"] * hd,)
            shapes[p + "self_attn.v_proj.bias"] = (a["n_kv"] * hd,)
        if family in ("llama", "gemma2") and attention_bias:
            shapes[p + "self_attn.o_proj.bias"] = (d,)
        shapes[p + "mlp.gate_proj.weight"] = (m, d)
        shapes[p + "mlp.up_proj.weight"] = (m, d)
        shapes[p + "mlp.down_proj.weight"] = (d, m)
        if family == "llama" and config.get("mlp_bias", False):
            shapes[p + "mlp.gate_proj.bias"] = (m,)
            shapes[p + "mlp.up_proj.bias"] = (m,)
            shapes[p + "mlp.down_proj.bias"] = (d,)
        norms = ["input_layernorm", "post_attention_layernorm"]
        if family == "gemma2":
            norms += ["pre_feedforward_layernorm", "post_feedforward_layernorm"]
        for norm in norms:
            shapes[p + norm + ".weight"] = (d,)
    shapes["model.norm.weight"] = (d,)
    if not a["tied"]:
        shapes["lm_head.weight"] = (VOCAB, d)
    return shapes


def make_state_dict(config, seed, scales):
    """A seeded HF state dict, rounded to the checkpoint's dtype and returned upcast to float32 (what we compute with)
    alongside the stored-dtype tensors (what we write)."""
    g = torch.Generator().manual_seed(seed)
    gemma = config["model_type"] == "gemma2"
    stored = {}
    for name, shape in weight_shapes(config).items():
        noise = torch.randn(*shape, generator=g)
        if name.endswith("norm.weight"):
            # Llama: weight around 1. Gemma: weight around 0 (the model multiplies by 1 + w).
            value = noise * scales["norm"] + (0.0 if gemma else 1.0)
        elif name.endswith(".bias"):
            value = noise * scales["bias"]
        elif name in ("model.embed_tokens.weight", "lm_head.weight"):
            value = noise * scales["embed"]
        elif ".self_attn." in name:
            value = noise * scales["attn"]
        else:
            value = noise * scales["mlp"]
        stored[name] = value.to(STORAGE_DTYPES[config["torch_dtype"]]).contiguous()
    return stored, {name: t.float() for name, t in stored.items()}


SAFETENSORS_DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.bfloat16: "BF16", torch.float16: "F16"}


def tensor_bytes(tensor):
    tensor = tensor.contiguous()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: write the raw 16-bit patterns
        return tensor.view(torch.int16).numpy().tobytes()
    return tensor.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format by hand (Debian has no safetensors package): u64 little-endian header length, JSON header
    padded with spaces to 8 bytes, then the raw little-endian data in header order."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, tensor in tensors.items():
        data = tensor_bytes(tensor)
        header[name] = {"dtype": SAFETENSORS_DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def write_json(path, value):
    with open(path, "w") as f:
        f.write(json.dumps(value, indent=2, sort_keys=True) + "\n")  # as save_pretrained writes them


def write_sharded(folder, stored, first_shard_keys):
    """Two safetensors shards plus model.safetensors.index.json, as save_pretrained(max_shard_size=...) writes."""
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    shards = [{k: v for k, v in sorted(stored.items()) if k in first_shard_keys},
              {k: v for k, v in sorted(stored.items()) if k not in first_shard_keys}]
    weight_map = {}
    for name, shard in zip(names, shards):
        write_safetensors(os.path.join(folder, name), shard, {"format": "pt"})
        weight_map.update({k: name for k in shard})
    total = sum(t.numel() * t.element_size() for t in stored.values())
    write_json(os.path.join(folder, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})


# ---------------------------------------------------------------------------------------------------------------------
# Goldens and self-checks.


def batch_inputs():
    """Both prompts left-padded to the longer one: input_ids and attention_mask, [2, 11]."""
    width = max(len(p) for p in PROMPTS)
    ids = torch.tensor([[PAD_ID] * (width - len(p)) + p for p in PROMPTS])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in PROMPTS])
    return ids, mask


def golden_tensors(config, sd):
    """Every hook for each prompt (batch dropped), greedy continuations, and the left-padded batch's logits. Asserts
    the padded batch's real positions equal the single-prompt results."""
    tensors, gaps = {}, []
    singles = []
    for index, prompt in enumerate(PROMPTS):
        hooks = forward(config, sd, torch.tensor([prompt]))
        singles.append(hooks)
        tensors[f"prompt{index}.input_ids"] = torch.tensor(prompt)
        for name, value in hooks.items():
            tensors[f"prompt{index}.{name}"] = value[0].contiguous()
        tokens, gap = greedy(config, sd, prompt, GREEDY_TOKENS)
        tensors[f"prompt{index}.greedy8"] = torch.tensor(tokens)
        gaps.append(gap)
    ids, mask = batch_inputs()
    batched = forward(config, sd, ids, mask)
    tensors["batch.input_ids"] = ids
    tensors["batch.attention_mask"] = mask
    tensors["batch.logits"] = batched["logits"].contiguous()
    worst = 0.0  # largest difference relative to the hook's own scale (values reach ~20; float32 sums reorder)
    for row, prompt in enumerate(PROMPTS):
        real = slice(ids.shape[1] - len(prompt), None)
        for name, value in singles[row].items():
            diff = float((batched[name][row, real] - value[0]).abs().max())
            worst = max(worst, diff / max(1.0, float(value.abs().max())))
    assert worst < 1e-5, f"left padding changed real positions by {worst} (relative)"
    return tensors, min(gaps), worst


def max_logit_change(config, sd, mistakes=frozenset(), config_changes=None, sd_changes=None):
    """Largest |logits difference| over both prompts when one detail is done wrong."""
    wrong_config = copy.deepcopy(config)
    wrong_config.update(config_changes or {})
    wrong_sd = dict(sd)
    wrong_sd.update(sd_changes or {})
    worst = 0.0
    for prompt in PROMPTS:
        ids = torch.tensor([prompt])
        right = forward(config, sd, ids)["logits"]
        wrong = forward(wrong_config, wrong_sd, ids, mistakes=frozenset(mistakes))["logits"]
        worst = max(worst, float((right - wrong).abs().max()))
    return worst


def self_checks(name, config, sd):
    """Each detail must move the logits: if a detail did not, a graph that got it wrong would still pass."""
    a = resolve(config)
    zero_biases = lambda part: {k: torch.zeros_like(v) for k, v in sd.items() if part in k and k.endswith(".bias")}
    checks = {"interleaved RoPE instead of rotate_half": max_logit_change(config, sd, {"interleaved_rope"})}
    if a["n_kv"] not in (1, a["n_heads"]):
        checks["GQA heads tiled (h % n_kv) instead of repeated (h // group)"] = max_logit_change(
            config, sd, {"gqa_tiled"})
    if (config.get("rope_scaling") or {}):
        checks["rope_scaling ignored"] = max_logit_change(config, sd, config_changes={"rope_scaling": None})
    if a["family"] == "mistral":
        checks["sliding window ignored"] = max_logit_change(config, sd, config_changes={"sliding_window": None})
        checks["sliding window off by one (i - j <= window)"] = max_logit_change(
            config, sd, config_changes={"sliding_window": config["sliding_window"] + 1})
    if a["family"] == "qwen2":
        checks["sliding_window applied although use_sliding_window is false"] = max_logit_change(
            config, sd, config_changes={"use_sliding_window": True, "max_window_layers": 0})
        checks["q/k/v biases dropped"] = max_logit_change(config, sd, sd_changes=zero_biases(".self_attn."))
    if a["family"] == "llama" and config.get("attention_bias"):
        checks["attention biases dropped"] = max_logit_change(config, sd, sd_changes=zero_biases(".self_attn."))
    if a["family"] == "llama" and config.get("mlp_bias"):
        checks["mlp biases dropped"] = max_logit_change(config, sd, sd_changes=zero_biases(".mlp."))
    if a["family"] == "gemma2":
        checks["scores scaled by head_dim**-0.5, not query_pre_attn_scalar**-0.5"] = max_logit_change(
            config, sd, {"head_dim_attn_scale"})
        checks["RMSNorm weight w instead of (1 + w)"] = max_logit_change(config, sd, {"norm_without_plus_one"})
        checks["no sqrt(hidden_size) embedding scale"] = max_logit_change(config, sd, {"no_embed_scale"})
        checks["no attention soft-capping"] = max_logit_change(
            config, sd, config_changes={"attn_logit_softcapping": None})
        checks["attention soft-capping after the mask"] = max_logit_change(config, sd, {"softcap_after_mask"})
        checks["no final logit soft-capping"] = max_logit_change(
            config, sd, config_changes={"final_logit_softcapping": None})
        checks["no sliding window"] = max_logit_change(config, sd, config_changes={"sliding_window": None})
        checks["sliding window on odd layers"] = max_logit_change(config, sd, {"sliding_on_odd_layers"})
    for what, diff in checks.items():
        print(f"  {name}: {what}: max |d logits| = {diff:.4g}")
        assert diff > 1e-2, f"{name}: '{what}' does not change the logits measurably ({diff})"
    return checks


def check_llama3_frequencies(config):
    """The llama3 rope_scaling must change some frequencies at this head_dim, else the fixture tests nothing."""
    a = resolve(config)
    plain = rope_inv_freq({**config, "rope_scaling": None}, a["d_head"])
    scaled = a["inv_freq"]
    wavelen = 2 * math.pi / plain
    print(f"  llama3 rope: wavelengths {[round(float(w), 2) for w in wavelen]}, "
          f"scaled/plain {[round(float(r), 4) for r in scaled / plain]}")
    assert (scaled != plain).any(), "llama3 rope_scaling changes no frequency"
    ratio = scaled / plain
    assert ((ratio - 1 / config["rope_scaling"]["factor"]).abs() < 1e-6).any(), "no frequency in the divided band"
    assert ((ratio > 1 / config["rope_scaling"]["factor"] + 1e-6) & (ratio < 1 - 1e-6)).any(), "none smoothed"


def check_gemma2_caps_bite(config, sd):
    """Some visible attention scores and some final logits must exceed their soft-caps before capping."""
    stats, uncapped = {}, 0.0
    for prompt in PROMPTS:
        forward(config, sd, torch.tensor([prompt]), stats=stats)
        logits = forward({**config, "final_logit_softcapping": None}, sd, torch.tensor([prompt]))["logits"]
        uncapped = max(uncapped, float(logits.abs().max()))
    print(f"  gemma2 caps: max visible |score| before cap {stats['max_abs_score']:.3f} "
          f"(cap {config['attn_logit_softcapping']}), max |logit| before cap {uncapped:.3f} "
          f"(cap {config['final_logit_softcapping']})")
    assert stats["max_abs_score"] > config["attn_logit_softcapping"], "attention soft-cap never bites"
    assert uncapped > config["final_logit_softcapping"], "final soft-cap never bites"


# ---------------------------------------------------------------------------------------------------------------------

VARIANTS = {
    # name: (config, weight seed, weight standard deviations, layout)
    "llama3": (LLAMA3, 3001, {"embed": 0.8, "attn": 0.3, "mlp": 0.25, "norm": 0.15, "bias": 0.2}, "sharded"),
    "llama2": (LLAMA2, 3002, {"embed": 0.8, "attn": 0.4, "mlp": 0.3, "norm": 0.15, "bias": 0.2}, "bin"),
    "llama-linear": (LLAMA_LINEAR, 3013, {"embed": 0.8, "attn": 0.4, "mlp": 0.3, "norm": 0.15, "bias": 0.3},
                     "safetensors"),
    "mistral": (MISTRAL, 3004, {"embed": 0.8, "attn": 0.3, "mlp": 0.25, "norm": 0.15, "bias": 0.2}, "safetensors"),
    "qwen2": (QWEN2, 3005, {"embed": 0.8, "attn": 0.4, "mlp": 0.3, "norm": 0.15, "bias": 0.5}, "safetensors"),
    "gemma2": (GEMMA2, 3009, {"embed": 0.2, "attn": 0.3, "mlp": 0.5, "norm": 0.5, "bias": 0.2}, "safetensors"),
}
DPO_SEED = 4001


def write_golden(label, config, sd):
    tensors, gap, pad_diff = golden_tensors(config, sd)
    print(f"  {label}: smallest greedy top-2 gap {gap:.4g}, padded-vs-single max diff {pad_diff:.3g}")
    assert gap > 1e-2, f"{label}: greedy decoding hangs on a near-tie ({gap}); pick other prompts or seeds"
    write_safetensors(os.path.join(GOLDEN, f"decoder-{label}.safetensors"), tensors,
                      {"format_version": FORMAT_VERSION, "regenerate": REGENERATE, "torch": torch.__version__,
                       "fixture": f"test/fixtures/decoders/{label.replace('-dpo', '')}"})


def main():
    torch.manual_seed(0)
    os.makedirs(GOLDEN, exist_ok=True)
    for name, (config, seed, scales, layout) in VARIANTS.items():
        print(name)
        folder = os.path.join(FIXTURES, name)
        os.makedirs(folder, exist_ok=True)
        stored, sd = make_state_dict(config, seed, scales)
        write_json(os.path.join(folder, "config.json"), config)
        if layout == "sharded":
            first = {k for k in stored if k.startswith("model.embed_tokens.") or k.startswith("model.layers.0.")}
            write_sharded(folder, stored, first)
        elif layout == "bin":
            torch.save(dict(sorted(stored.items())), os.path.join(folder, "pytorch_model.bin"))
        else:
            write_safetensors(os.path.join(folder, "model.safetensors"), dict(sorted(stored.items())), {"format": "pt"})
        if name == "llama3":
            check_llama3_frequencies(config)
        if name == "gemma2":
            check_gemma2_caps_bite(config, sd)
        self_checks(name, config, sd)
        write_golden(name, config, sd)
        if name == "llama3":
            # A DPO-trainer checkpoint of the same architecture with other weights, float32, as dpo.pt is.
            _, dpo_sd = make_state_dict({**config, "torch_dtype": "float32"}, DPO_SEED, scales)
            torch.save({"step_idx": 100, "state": dict(sorted(dpo_sd.items())),
                        "metrics": {"loss/train": 0.6125, "rewards_train/accuracies": 0.75}},
                       os.path.join(folder, "dpo.pt"))
            write_golden("llama3-dpo", config, dpo_sd)
    print("wrote fixtures to", os.path.normpath(FIXTURES), "and goldens to", os.path.normpath(GOLDEN))


if __name__ == "__main__":
    sys.exit(main())
