"""PyTorch baseline of the classifier benchmark (issue 15): Detoxify-style batched inference with a BERT-base-shaped
BertForSequenceClassification in eval mode, written as Hugging Face's eager modeling_bert.py computes it (word +
token-type + position embeddings and LayerNorm, eager softmax attention with the extended mask of finfo.min, exact
GELU, pooler tanh on [CLS], classifier), then torch.sigmoid as Detoxify.predict does, under torch.no_grad.

It scores the token ids ToxScope's tokenizer produced (one JSON list per line), in input order, `batch` rows at a
time, each batch right-padded to its own longest row with an attention mask — what `Detoxify.predict(texts)` does
per call — so its tokenization time is not counted. With several --batches it first times each size on the first
--sweep rows (each warmed up on its first batch), then all rows at the fastest size, its best; --sorted-batch also
times all rows sorted by length in windows, as ToxScope does.
Prints one JSON object; the BLAS core OpenBLAS chose is part of it. Usage:
  /usr/bin/python3 test/bench/classifier_torch_bench.py --folder DIR --ids FILE --count N --threads N
      --batches 8,32,128 [--sweep 250] [--sorted-batch B --window W] [--scores FILE]
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_blas import blas_info  # noqa: E402


def read_state_dict(path):
    """model.safetensors, one tensor at a time into memory it owns (as from_pretrained ends up holding it)."""
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        start = 8 + length
        result = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            if entry["dtype"] != "F32":
                raise ValueError(f"{name}: this baseline reads float32 checkpoints, got {entry['dtype']}")
            begin, end = entry["data_offsets"]
            f.seek(start + begin)
            result[name] = torch.frombuffer(bytearray(f.read(end - begin)), dtype=torch.float32).reshape(entry["shape"])
    return result


class Bert:
    """BertForSequenceClassification.forward in eval mode (dropout is the identity), sigmoid on top."""

    def __init__(self, sd, cfg):
        self.sd, self.cfg = sd, cfg
        self.d, self.heads = cfg["hidden_size"], cfg["num_attention_heads"]
        self.d_head = self.d // self.heads
        self.eps = cfg["layer_norm_eps"]

    def linear(self, x, name):
        return torch.nn.functional.linear(x, self.sd[name + ".weight"], self.sd[name + ".bias"])

    def layer_norm(self, x, name):
        return torch.nn.functional.layer_norm(x, (self.d,), self.sd[name + ".weight"], self.sd[name + ".bias"],
                                              self.eps)

    def heads_of(self, x):
        """transpose_for_scores: [batch, pos, d_model] → [batch, n_heads, pos, d_head]."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.heads, self.d_head).permute(0, 2, 1, 3)

    def __call__(self, input_ids, attention_mask):
        sd = self.sd
        batch, length = input_ids.shape
        # BertEmbeddings: token types are the zeros buffer, positions 0 … length − 1.
        x = sd["bert.embeddings.word_embeddings.weight"][input_ids]
        x = x + sd["bert.embeddings.token_type_embeddings.weight"][torch.zeros_like(input_ids)]
        x = x + sd["bert.embeddings.position_embeddings.weight"][torch.arange(length)[None]]
        x = self.layer_norm(x, "bert.embeddings.LayerNorm")  # [batch, pos, d_model]
        # get_extended_attention_mask: 0 where attended, finfo.min where padding, added to every query's scores.
        extended = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in range(self.cfg["num_hidden_layers"]):
            p = f"bert.encoder.layer.{layer}."
            q, k, v = (self.heads_of(self.linear(x, f"{p}attention.self.{name}")) for name in ("query", "key", "value"))
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head) + extended  # [batch, n_heads, pos, pos]
            context = (scores.softmax(dim=-1) @ v).permute(0, 2, 1, 3).contiguous().view(batch, length, self.d)
            x = self.layer_norm(self.linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            intermediate = torch.nn.functional.gelu(self.linear(x, p + "intermediate.dense"))  # [batch, pos, d_mlp]
            x = self.layer_norm(self.linear(intermediate, p + "output.dense") + x, p + "output.LayerNorm")
        pooled = torch.tanh(self.linear(x[:, 0], "bert.pooler.dense"))
        return torch.sigmoid(self.linear(pooled, "classifier"))  # [batch, labels]


def padded(rows, pad):
    """The tokenizer's padding=True: right padding to the longest row, attention mask 1 on real tokens."""
    length = max(len(row) for row in rows)
    ids = torch.full((len(rows), length), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = torch.tensor(row)
        mask[r, :len(row)] = 1
    return ids, mask


def score(model, rows, batch, pad, order=None):
    """Every row's probabilities, `batch` rows per forward in `order` (default: input order), returned in input order."""
    order = list(range(len(rows))) if order is None else order
    scores = [None] * len(rows)
    with torch.no_grad():
        for offset in range(0, len(order), batch):
            picked = order[offset:offset + batch]
            probabilities = model(*padded([rows[i] for i in picked], pad))
            for i, values in zip(picked, probabilities.tolist()):
                scores[i] = values
    return scores


def length_order(rows, window):
    """ToxScope's order: each window of rows longest first, ties in input order."""
    order = []
    for start in range(0, len(rows), window):
        indexes = range(start, min(start + window, len(rows)))
        order.extend(sorted(indexes, key=lambda i: (-len(rows[i]), i)))
    return order


def timed(model, rows, batch, pad, order=None):
    """Seconds to score all rows, after a warm-up forward on the first batch at this size."""
    with torch.no_grad():
        model(*padded(rows[:batch], pad))
    started = time.perf_counter()
    scores = score(model, rows, batch, pad, order)
    return time.perf_counter() - started, scores


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--ids", required=True, help="token ids of ToxScope's tokenizer, one JSON list per line")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--batches", required=True, help="comma-separated batch sizes; the fastest is reported")
    parser.add_argument("--sweep", type=int, default=250, help="rows the batch sizes are compared on")
    parser.add_argument("--sorted-batch", type=int)
    parser.add_argument("--window", type=int)
    parser.add_argument("--scores", help="write the scores at the best batch here (one JSON list per row)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "coretypeEnv": os.environ.get("OPENBLAS_CORETYPE", ""), **blas_info()}
    with open(args.ids) as f:
        rows = [json.loads(line) for _, line in zip(range(args.count), f)]
    cfg = json.load(open(os.path.join(args.folder, "config.json")))
    pad = cfg["pad_token_id"]

    started = time.perf_counter()
    model = Bert(read_state_dict(os.path.join(args.folder, "model.safetensors")), cfg)
    result["loadMs"] = (time.perf_counter() - started) * 1000

    batches = [int(value) for value in args.batches.split(",")]
    if len(batches) > 1:
        sample = rows[:args.sweep]
        for batch in batches:
            result[f"sweepSentencesPerSecond_batch{batch}"] = len(sample) / timed(model, sample, batch, pad)[0]
    best = max(batches, key=lambda batch: result.get(f"sweepSentencesPerSecond_batch{batch}", 0))
    seconds, scores = timed(model, rows, best, pad)
    result["bestBatch"], result["seconds"], result["sentencesPerSecond"] = best, seconds, len(rows) / seconds
    if args.sorted_batch:
        seconds, _ = timed(model, rows, args.sorted_batch, pad, length_order(rows, args.window or len(rows)))
        result["sortedSentencesPerSecond"] = len(rows) / seconds
    if args.scores:
        with open(args.scores, "w") as f:
            f.write("".join(json.dumps(values) + "\n" for values in scores))
    result["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
