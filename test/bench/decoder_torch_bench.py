"""PyTorch eager baseline of the decoder benchmark (issue 14): a Llama built from nn.Modules as Hugging Face's
LlamaForCausalLM is (RMSNorm upcast to float32, rotate-half RoPE with llama3 rope_scaling, grouped-query attention
through repeat_kv, eager softmax in float32, SiLU-gated MLP, a KV cache that grows by concatenation, tied
embeddings), MLP neurons captured with forward hooks on down_proj (its input is mlp.hook_post), timed the same way as
ToxScope's side. Prints one JSON object; the BLAS core OpenBLAS chose is part of it. Usage:
  /usr/bin/python3 test/bench/decoder_torch_bench.py --folder DIR --threads N --mode forward|generate|compare
      [--dpo FILE] [--prompts N]
"""
import argparse
import json
import math
import os
import resource
import statistics
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_blas import blas_info  # noqa: E402


class LazySafetensors:
    """Reads one tensor at a time into memory it owns (the tensor then becomes the parameter: no second copy)."""

    def __init__(self, path):
        self.file = open(path, "rb")
        length = struct.unpack("<Q", self.file.read(8))[0]
        self.header = json.loads(self.file.read(length))
        self.start = 8 + length

    def __getitem__(self, name):
        entry = self.header[name]
        if entry["dtype"] != "F32":
            raise ValueError(f"{name}: this baseline reads float32 checkpoints, got {entry['dtype']}")
        begin, end = entry["data_offsets"]
        self.file.seek(self.start + begin)
        return torch.frombuffer(bytearray(self.file.read(end - begin)), dtype=torch.float32).reshape(entry["shape"])


def llama3_inverse_frequencies(cfg):
    """transformers' _compute_llama3_parameters: long wavelengths divided by factor, a smooth blend in between."""
    d_head = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    inv_freq = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, d_head, 2, dtype=torch.int64).float() / d_head))
    scaling = cfg.get("rope_scaling") or {}
    if scaling.get("rope_type", scaling.get("type")) != "llama3":
        return inv_freq
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old_context = scaling["original_max_position_embeddings"]
    low_freq_wavelen, high_freq_wavelen = old_context / low, old_context / high
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * inv_freq_llama / factor + smooth * inv_freq_llama
    is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, inv_freq_llama)


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(d, device="meta"))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def repeat_kv(x, n_rep):
    """[batch, n_kv_heads, seq, d_head] → [batch, n_kv_heads · n_rep, seq, d_head], as transformers does."""
    b, kv, s, d = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, kv, n_rep, s, d).reshape(b, kv * n_rep, s, d)


def linear(d_in, d_out):
    return torch.nn.Linear(d_in, d_out, bias=False, device="meta")  # weights assigned at load, never initialised


class Attention(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.heads, self.kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.d_head = cfg.get("head_dim") or d // self.heads
        self.q_proj = linear(d, self.heads * self.d_head)
        self.k_proj = linear(d, self.kv_heads * self.d_head)
        self.v_proj = linear(d, self.kv_heads * self.d_head)
        self.o_proj = linear(self.heads * self.d_head, d)

    def forward(self, x, cos, sin, mask, past):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, -1, self.d_head).transpose(1, 2)  # [b, heads, s, d_head]
        k = self.k_proj(x).view(b, s, -1, self.d_head).transpose(1, 2)  # [b, kv_heads, s, d_head]
        v = self.v_proj(x).view(b, s, -1, self.d_head).transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:  # DynamicCache.update: concatenate along the sequence
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        n_rep = self.heads // self.kv_heads
        scores = q @ repeat_kv(k, n_rep).transpose(2, 3) * self.d_head ** -0.5 + mask
        weights = scores.softmax(dim=-1, dtype=torch.float32).to(q.dtype)
        out = (weights @ repeat_kv(v, n_rep)).transpose(1, 2).reshape(b, s, -1)
        return self.o_proj(out), (k, v)


class Mlp(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, d_mlp = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj, self.up_proj, self.down_proj = linear(d, d_mlp), linear(d, d_mlp), linear(d_mlp, d)
        self.act_fn = torch.nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class Layer(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.mlp = Mlp(cfg)

    def forward(self, x, cos, sin, mask, past):
        attn, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + attn
        return x + self.mlp(self.post_attention_layernorm(x)), present


class Llama(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = torch.nn.Embedding(cfg["vocab_size"], cfg["hidden_size"], device="meta")
        self.layers = torch.nn.ModuleList(Layer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.lm_head = linear(cfg["hidden_size"], cfg["vocab_size"])
        self.register_buffer("inv_freq", llama3_inverse_frequencies(cfg), persistent=False)
        self.tied = cfg.get("tie_word_embeddings", False)

    def load(self, sd):
        """Each checkpoint tensor becomes its parameter as read (what from_pretrained does with safetensors)."""
        for name, _ in list(self.named_parameters()):
            key = "model." + name if not name.startswith("lm_head") else name
            if name == "lm_head.weight" and self.tied:
                continue
            module_name, _, attribute = name.rpartition(".")
            setattr(self.get_submodule(module_name), attribute, torch.nn.Parameter(sd[key], requires_grad=False))
        if self.tied:
            self.lm_head.weight = self.embed_tokens.weight

    def forward(self, ids, attention_mask, past=None, last_only=False):
        b, s = ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        # generate()'s position ids: real tokens before each one; padding gets 1 (never read).
        positions = (attention_mask.long().cumsum(-1) - 1).masked_fill(attention_mask == 0, 1)[:, past_len:]
        x = self.embed_tokens(ids)
        freqs = (self.inv_freq[None, :, None].float().expand(b, -1, 1) @ positions[:, None, :].float()).transpose(1, 2)
        angles = torch.cat((freqs, freqs), dim=-1)  # [b, s, d_head]
        cos, sin = angles.cos(), angles.sin()
        visible = torch.ones(s, past_len + s, dtype=torch.bool).tril(past_len)[None, None] & attention_mask.bool()[:, None, None, :]
        mask = torch.zeros(visible.shape, dtype=x.dtype).masked_fill(~visible, torch.finfo(x.dtype).min)  # [b, 1, s, total]
        presents = []
        for i, layer in enumerate(self.layers):
            x, present = layer(x, cos, sin, mask, None if past is None else past[i])
            presents.append(present)
        x = self.norm(x)
        if last_only:  # generate(): logits_to_keep=1
            x = x[:, -1:]
        return self.lm_head(x), presents


def capture_hooks(model, last_only):
    """Forward hooks on every down_proj, keeping its input (mlp.hook_post): how nnsight/baukit users capture it."""
    captured = []

    def hook(_module, inputs, _output):
        captured.append((inputs[0][:, -1] if last_only else inputs[0]).detach().clone())
    handles = [layer.mlp.down_proj.register_forward_hook(hook) for layer in model.layers]
    return captured, handles


def median_ms(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def load_model(cfg, path):
    model = Llama(cfg)
    model.load(LazySafetensors(path))
    return model.eval()


def greedy(model, prompts, mask, steps, times=None):
    """Greedy decoding with the KV cache, as generate() does; `times` gets each forward's milliseconds. Returns the
    generated ids [batch, steps]."""
    ids, past, generated = prompts, None, []
    for _ in range(steps):
        start = time.perf_counter()
        logits, past = model(ids, mask, past, last_only=True)
        ids = logits[:, -1].argmax(-1, keepdim=True)
        mask = torch.cat([mask, torch.ones_like(ids)], dim=1)
        generated.append(ids)
        if times is not None:
            times.append((time.perf_counter() - start) * 1000)
    return torch.cat(generated, dim=1).tolist()


def check_prompt():
    """The batch-1 generation prompt, the same formula as decoder-ort.bench.ts (greedy tokens are checked across)."""
    return [(index * 7919 + 13) % 128000 for index in range(20)]


def prompt_lengths(count):
    """The compare prompts' token counts, 8–32, the same formula as decoder-ort.bench.ts."""
    return [8 + (7 * index) % 25 for index in range(count)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--dpo", help="the second weights file (compare)")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--mode", choices=["forward", "generate", "compare"], required=True)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16, help="compare's prompts per batch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(args.folder, "config.json")))
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "coretypeEnv": os.environ.get("OPENBLAS_CORETYPE", ""), **blas_info()}
    vocab = cfg["vocab_size"]

    started = time.perf_counter()
    model = load_model(cfg, os.path.join(args.folder, "model.safetensors"))
    result["loadMs"] = (time.perf_counter() - started) * 1000

    with torch.no_grad():
        if args.mode == "forward":
            for batch, length, repeats in ((1, 32, 5), (8, 128, 3)):  # 8×128: three, as decoder-ort.bench.ts
                ids = torch.randint(0, vocab, (batch, length))
                mask = torch.ones_like(ids)
                captured, handles = capture_hooks(model, last_only=False)

                def run():
                    captured.clear()
                    model(ids, mask)  # all logits, as LlamaForCausalLM.forward computes them by default
                result[f"forward_{batch}x{length}_ms"] = median_ms(run, repeats)
                for handle in handles:
                    handle.remove()
        elif args.mode == "generate":
            for batch in (1, 16):
                prompts = torch.tensor([check_prompt()]) if batch == 1 else torch.randint(0, vocab, (batch, 20))
                captured, handles = capture_hooks(model, last_only=True)
                times, tokens = [], []

                def run(steps=20):
                    captured.clear()
                    times.clear()
                    tokens[:] = greedy(model, prompts, torch.ones_like(prompts), steps, times)
                run(3)  # warm-up: the prefill and two steps at this batch
                started = time.perf_counter()
                run()
                result[f"generate20_batch{batch}_ms"] = (time.perf_counter() - started) * 1000
                if batch == 1:
                    result["greedyTokens"] = " ".join(str(token) for token in tokens[0])
                result[f"prefill_batch{batch}_ms"] = times[0]
                result[f"decodeStep_batch{batch}_ms"] = statistics.median(times[1:])
                for handle in handles:
                    handle.remove()
        else:
            result.update(compare(cfg, args.dpo, model, args.prompts, args.batch, result["loadMs"] / 1000))
    result["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


def compare(cfg, dpo_path, base, prompt_count, batch_size, base_load_seconds):
    """The compare job written with PyTorch: both models greedily continue each prompt (batch_size prompts at a time,
    left padding, KV cache); a forward hook adds the last position's MLP activations of every pass to float64 running
    sums.
    compareSeconds counts loading both models, as ToxScope's does; generationSeconds only the generation."""
    load_started = time.perf_counter()
    dpo = load_model(cfg, dpo_path)
    dpo_load_seconds = time.perf_counter() - load_started
    generator = torch.Generator().manual_seed(1)
    prompts = [torch.randint(0, 128000, (length,), generator=generator).tolist() for length in prompt_lengths(prompt_count)]
    pad = cfg["eos_token_id"]
    start = time.perf_counter()
    with torch.no_grad():
        for model in (base, dpo):
            sums = torch.zeros(len(model.layers), cfg["intermediate_size"], dtype=torch.float64)

            def hook(_module, inputs, _output, index):
                sums[index] += inputs[0][:, -1].double().sum(0)
            handles = [layer.mlp.down_proj.register_forward_hook(lambda m, i, o, index=index: hook(m, i, o, index))
                       for index, layer in enumerate(model.layers)]
            for offset in range(0, len(prompts), batch_size):
                batch = prompts[offset:offset + batch_size]
                width = max(len(p) for p in batch)
                ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch])
                mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch])
                greedy(model, ids, mask, 20)
            for handle in handles:
                handle.remove()
    seconds = time.perf_counter() - start
    total = base_load_seconds + dpo_load_seconds + seconds
    return {
        "compareSeconds": total,
        "compareTokensPerSecond": 2 * prompt_count * 20 / total,
        "generationSeconds": seconds,
        "generationTokensPerSecond": 2 * prompt_count * 20 / seconds,
        "loadSecondsBoth": base_load_seconds + dpo_load_seconds,
        "batch": batch_size,
    }


if __name__ == "__main__":
    main()
