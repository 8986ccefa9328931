"""PyTorch eager baseline for `npm run bench`: a GPT-2 built from nn.Modules as Hugging Face's GPT2LMHeadModel is
(Conv1D layouts, gelu_new, KV cache), activations captured with forward hooks, timed the same way as ToxScope's
side. Prints one JSON object. Usage:
  /usr/bin/python3 test/bench/gpt2_torch_bench.py --folder DIR --threads N --mode load|forward|generate|compare|activations
      [--prompts N] [--batch B] [--ids 1,2,3 --out FILE]
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import struct
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_blas import blas_info  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from gpt2_reference import write_safetensors  # noqa: E402


class LazySafetensors:
    """Reads one tensor at a time (as safetensors' own loader does), so loading never holds the file twice."""

    def __init__(self, path):
        self.file = open(path, "rb")
        length = struct.unpack("<Q", self.file.read(8))[0]
        self.header = json.loads(self.file.read(length))
        self.start = 8 + length

    def __getitem__(self, name):
        entry = self.header[name]
        begin, end = entry["data_offsets"]
        self.file.seek(self.start + begin)
        tensor = torch.empty(entry["shape"], dtype=torch.float32)
        self.file.readinto(memoryview(tensor.numpy()).cast("B"))  # one copy, file → tensor, as safetensors reads
        return tensor


class NoInitWeights:
    """Modules built without their random initialisation, as transformers' from_pretrained builds them
    (`no_init_weights`): load() overwrites every parameter, so initialising 355M values first only measures a mistake."""

    classes = (torch.nn.Linear, torch.nn.Embedding, torch.nn.LayerNorm)

    def __enter__(self):
        self.saved = {cls: cls.reset_parameters for cls in self.classes}
        for cls in self.classes:
            cls.reset_parameters = lambda module: None

    def __exit__(self, *_exception):
        for cls, reset in self.saved.items():
            cls.reset_parameters = reset


def build(cfg, folder):
    """A GPT-2 with the folder's weights, in eval mode."""
    with NoInitWeights():
        model = Gpt2(cfg)
    model.load(LazySafetensors(os.path.join(folder, "model.safetensors")))
    return model.eval()


class GeluNew(torch.nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Block(torch.nn.Module):
    def __init__(self, d, heads, d_mlp):
        super().__init__()
        self.heads, self.d = heads, d
        self.ln_1 = torch.nn.LayerNorm(d, eps=1e-5)
        self.c_attn = torch.nn.Linear(d, 3 * d)
        self.c_proj = torch.nn.Linear(d, d)
        self.ln_2 = torch.nn.LayerNorm(d, eps=1e-5)
        self.c_fc = torch.nn.Linear(d, d_mlp)
        self.act = GeluNew()
        self.mlp_proj = torch.nn.Linear(d_mlp, d)

    def forward(self, x, mask, past):
        b, s, d = x.shape
        dh = d // self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        split = lambda t: t.view(b, s, self.heads, dh).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        scores = torch.where(mask, scores, torch.tensor(torch.finfo(scores.dtype).min))
        a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, d)
        x = x + self.c_proj(a)
        x = x + self.mlp_proj(self.act(self.c_fc(self.ln_2(x))))
        return x, (k, v)


class Gpt2(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, v, n = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
        self.wte = torch.nn.Embedding(v, d)
        self.wpe = torch.nn.Embedding(n, d)
        self.h = torch.nn.ModuleList(Block(d, cfg["n_head"], cfg.get("n_inner") or 4 * d) for _ in range(cfg["n_layer"]))
        self.ln_f = torch.nn.LayerNorm(d, eps=1e-5)

    def load(self, sd):
        """Each checkpoint tensor becomes its parameter as read, no copy (as from_pretrained does with safetensors);
        a Conv1D weight [in, out] becomes nn.Linear's weight as its transposed view, which F.linear multiplies
        without copying (BLAS reads it transposed)."""
        def own(module, name, tensor):
            setattr(module, name, torch.nn.Parameter(tensor, requires_grad=False))
        own(self.wte, "weight", sd["wte.weight"])
        own(self.wpe, "weight", sd["wpe.weight"])
        for i, block in enumerate(self.h):
            p = f"h.{i}."
            for module, key in ((block.ln_1, "ln_1"), (block.ln_2, "ln_2")):
                own(module, "weight", sd[p + key + ".weight"]); own(module, "bias", sd[p + key + ".bias"])
            for module, key in ((block.c_attn, "attn.c_attn"), (block.c_proj, "attn.c_proj"), (block.c_fc, "mlp.c_fc"),
                                (block.mlp_proj, "mlp.c_proj")):
                own(module, "weight", sd[p + key + ".weight"].T); own(module, "bias", sd[p + key + ".bias"])
        own(self.ln_f, "weight", sd["ln_f.weight"]); own(self.ln_f, "bias", sd["ln_f.bias"])

    def forward(self, ids, attention_mask, past=None, last_only=False):
        b, s = ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, past_len:]
        x = self.wte(ids) + self.wpe(positions)
        causal = torch.ones(s, past_len + s, dtype=torch.bool).tril(past_len)
        mask = causal[None, None] & attention_mask.bool()[:, None, None, :]
        presents = []
        for i, block in enumerate(self.h):
            x, present = block(x, mask, None if past is None else past[i])
            presents.append(present)
        x = self.ln_f(x)
        if last_only:
            x = x[:, -1]
        return x @ self.wte.weight.T, presents


def capture_hooks(model, last_only):
    """Forward hooks on every MLP activation: the way TransformerLens/nnsight users capture hook_post."""
    captured = []
    def hook(_module, _inputs, output):
        captured.append((output[:, -1] if last_only else output).detach().clone())
    handles = [block.act.register_forward_hook(hook) for block in model.h]
    return captured, handles


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--mode", choices=["load", "forward", "generate", "compare", "activations"], required=True)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16, help="compare: prompts per batch")
    parser.add_argument("--ids", help="activations: comma-separated token ids")
    parser.add_argument("--out", help="activations: the safetensors file to write")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="cuda: for a GPU check (PyTorch 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        if not hasattr(torch, "set_default_device") or not torch.cuda.is_available():
            parser.error("--device cuda needs PyTorch 2 with CUDA and a GPU")
        torch.set_default_device("cuda")  # modules and tensor factories on the GPU
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(args.folder, "config.json")))
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch,
              "coretypeEnv": os.environ.get("OPENBLAS_CORETYPE", ""), **blas_info()}

    if args.mode == "activations":
        activations(cfg, args.folder, [int(i) for i in args.ids.split(",")], args.out)
        result["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps(result))
        return

    start = time.perf_counter()
    model = build(cfg, args.folder)
    with torch.no_grad():
        ids = torch.randint(0, cfg["vocab_size"], (1, 32))
        model(ids, torch.ones_like(ids), last_only=True)
    result["loadToFirstTokenMs"] = (time.perf_counter() - start) * 1000
    if args.mode == "load":
        result["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps(result))
        return

    with torch.no_grad():
        for batch, length, repeats in ((1, 32, 20), (8, 128, 5)) if args.mode == "forward" else ():
            ids = torch.randint(0, cfg["vocab_size"], (batch, length))
            mask = torch.ones_like(ids)
            captured, handles = capture_hooks(model, last_only=False)
            def run():
                captured.clear()
                model(ids, mask)
            run()
            result[f"forward_{batch}x{length}_ms"] = median_ms(run, repeats)
            for handle in handles:
                handle.remove()

        for batch, repeats in ((1, 3), (8, 3)) if args.mode == "generate" else ():
            prompts = torch.randint(0, cfg["vocab_size"], (batch, 20))
            captured, handles = capture_hooks(model, last_only=True)
            def generate():
                captured.clear()
                ids, mask, past = prompts, torch.ones_like(prompts), None
                for _ in range(20):
                    logits, past = model(ids, mask, past, last_only=True)
                    ids = logits.argmax(-1, keepdim=True)
                    mask = torch.cat([mask, torch.ones_like(ids)], dim=1)
            generate()
            result[f"generate20_batch{batch}_ms"] = median_ms(generate, repeats)
            for handle in handles:
                handle.remove()
    if args.mode == "compare":
        result.update(compare(cfg, args.folder, model, args.prompts, args.batch, result["loadToFirstTokenMs"] / 1000))
    result["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


def activations(cfg, folder, ids, out):
    """What `toxscope activations <model> --ids … --out F` does with its default hooks, as a PyTorch script does it end
    to end: load the model, one forward pass with forward hooks on every MLP activation, write them and the logits."""
    model = build(cfg, folder)
    with torch.no_grad():
        captured, _handles = capture_hooks(model, last_only=False)
        tokens = torch.tensor([ids])
        logits, _ = model(tokens, torch.ones_like(tokens))
    tensors = {f"blocks.{layer}.mlp.hook_post": output[0] for layer, output in enumerate(captured)}
    tensors["logits"] = logits[0]
    tensors["input_ids"] = tokens[0]
    write_safetensors(out, tensors)


def compare(cfg, folder, base, prompt_count, batch_size, base_load_seconds):
    """The compare job written with PyTorch: both models greedily continue each prompt (batch_size, left padding, KV
    cache); a forward hook adds the last position's MLP activations of every pass to float64 running sums.
    compareSeconds counts loading both models, as ToxScope's does; generationSeconds only the generation."""
    load_started = time.perf_counter()
    dpo = build(cfg, folder)
    generator = torch.Generator(device="cpu").manual_seed(1)
    # Prompt p has 8 + (7p mod 25) tokens (8…32), the lengths of the commands bench's prompt file; random ids.
    prompts = [torch.randint(0, cfg["vocab_size"], (8 + (7 * p) % 25,), generator=generator, device="cpu").tolist() for p in range(prompt_count)]
    dpo_load_seconds = time.perf_counter() - load_started
    start = time.perf_counter()
    with torch.no_grad():
        for model in (base, dpo):
            sums = torch.zeros(len(model.h), model.h[0].c_fc.out_features, dtype=torch.float64)
            def hook(module, _inputs, output, index):
                sums[index] += output[:, -1].double().sum(0)
            handles = [block.act.register_forward_hook(lambda m, i, o, index=index: hook(m, i, o, index)) for index, block in enumerate(model.h)]
            for offset in range(0, len(prompts), batch_size):
                batch = prompts[offset:offset + batch_size]
                width = max(len(p) for p in batch)
                ids = torch.tensor([[50256] * (width - len(p)) + p for p in batch])
                mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch])
                past = None
                for _ in range(20):
                    logits, past = model(ids, mask, past, last_only=True)
                    ids = logits.argmax(-1, keepdim=True)
                    mask = torch.cat([mask, torch.ones_like(ids)], dim=1)
            for handle in handles:
                handle.remove()
    if torch.cuda.is_initialized():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    total = base_load_seconds + dpo_load_seconds + seconds
    return {
        "compareSeconds": total,
        "compareTokensPerSecond": 2 * prompt_count * 20 / total,
        "generationSeconds": seconds,
        "generationTokensPerSecond": 2 * prompt_count * 20 / seconds,
    }


if __name__ == "__main__":
    main()
