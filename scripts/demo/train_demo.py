"""Rebuilds every demo model of ToxScope from ../shared/data with fixed seeds, on the CPU (issues 6 and 14):
a byte-level BPE tokenizer; gpt2-base (a language model) and its toxicity probe; gpt2-dpo (DPO from gpt2-base on
preference pairs judged by an independent bag-of-words scorer); bart-base (text infilling) and its non-toxic expert
and toxic anti-expert; llama-base, its probe and llama-dpo (the GPT-2 pair's data, tokenizer and recipe on a Llama
architecture); classifier (a small RoBERTa toxicity classifier, issue 15 §6, with the BART demo's tokenizer). Writes
Hugging Face folders to resources/demo/, metrics to resources/demo/training-log.json and the model card
resources/demo/README.md.

Usage: /usr/bin/python3 scripts/demo/train_demo.py [--out resources/demo] [--data ../shared/data/marco] [--only llama|classifier]
`--only llama` retrains the Llama pair and its probe alone: it reads the GPT-2 demo's tokenizer files and
bow-scorer.json from --out, rewrites llama-base/, llama-dpo/ and llama-probe/, updates the Llama steps of
training-log.json and the card, and leaves every other file as it is. `--only classifier` does the same for the
classifier (classifier/), reading the GPT-2 demo's merges for the BART demo's tokenizer.
Needs Debian's python3-torch and python3-numpy (never needed to run ToxScope itself).
"""
import argparse
import copy
import csv
import hashlib
import json
import math
import os
import random
import re
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classifier import train_classifier  # noqa: E402
from models import Bart, Gpt2, Llama  # noqa: E402
from tokenizer import Tokenizer, save_hf, train_bpe  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
parser = argparse.ArgumentParser()
parser.add_argument("--out", default=os.path.join(ROOT, "resources", "demo"))
parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "marco"))
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--only", choices=["llama", "classifier"], help="retrain only the Llama pair and its probe, or only the classifier")
args = parser.parse_args()
torch.set_num_threads(args.threads)
random.seed(0)
torch.manual_seed(0)
LOG = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "steps": []}
T0 = time.time()


def log(step, **values):
    values = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in values.items()}
    LOG["steps"].append({"step": step, "seconds": round(time.time() - T0, 1), **values})
    print(f"[{time.time() - T0:7.1f}s] {step}: {values}", flush=True)


# ---------------------------------------------------------------- data
csv.field_size_limit(10 ** 8)


def rows(name):
    with open(os.path.join(args.data, name), encoding="utf-8") as f:
        return list(csv.DictReader(f))


def clean(text):
    text = re.sub(r"\s+", " ", text).strip()
    return " ".join(text.split(" ")[:48])


def split_data():
    """Training: the dev/train files. Held out: every *test* file (and the Jigsaw file, which is a MaRCo test set)."""
    toxic, clean_texts = [], []
    for r in rows("dynabench-db_dev.csv"):
        (toxic if r["label"] == "hate" else clean_texts).append(r["text"])
    for r in rows("sbf-sbfdev.csv"):
        (toxic if float(r["offensiveYN"] or 0) >= 0.5 else clean_texts).append(r["post"])
    for name in ("microagressions-train.csv", "microagressions-val.csv"):
        toxic += [r["actual_quote"] for r in rows(name)]
    held_toxic, held_clean = [], []
    for r in rows("dynabench-db_test.csv"):
        (held_toxic if r["label"] == "hate" else held_clean).append(r["text"])
    for r in rows("sbf-sbftst.csv"):
        (held_toxic if float(r["offensiveYN"] or 0) >= 0.5 else held_clean).append(r["post"])
    prep = lambda texts: [t for t in (clean(x) for x in texts) if len(t.split()) >= 3]
    return prep(toxic), prep(clean_texts), prep(held_toxic), prep(held_clean), [r["text"] for r in rows("dynabench-db_test.csv") if r["label"] == "hate"]


toxic, nontoxic, held_toxic, held_clean, dynahate_test_hate = split_data()
log("data", toxic=len(toxic), nontoxic=len(nontoxic), held_toxic=len(held_toxic), held_clean=len(held_clean))

# ---------------------------------------------------------------- tokenizer


def read_gpt2_demo_merges():
    """The merges of the shipped GPT-2 demo (for --only llama), checked against its vocab.json."""
    folder = os.path.join(args.out, "gpt2-base")
    with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
        pairs = [tuple(line.split(" ")) for line in f.read().split("\n") if line and not line.startswith("#version")]
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
        assert Tokenizer(pairs, [], ["<|endoftext|>"]).vocab == json.load(f), "gpt2-base/vocab.json does not match merges.txt"
    return pairs


merges = read_gpt2_demo_merges() if args.only else train_bpe(toxic + nontoxic, 8000)
gpt2_tok = Tokenizer(merges, [], ["<|endoftext|>"])  # also the Llama pair's tokenizer
bart_tok = Tokenizer(merges, ["<s>", "<pad>", "</s>", "<unk>"], ["<mask>"])
EOS = gpt2_tok.vocab["<|endoftext|>"]
MASK = bart_tok.vocab["<mask>"]
log("tokenizer", merges=len(merges), gpt2_vocab=len(gpt2_tok.vocab), bart_vocab=len(bart_tok.vocab))

# ---------------------------------------------------------------- independent toxicity scorer (bag of words)
WORD = re.compile(r"[a-z']+")


class BowScorer:
    """Logistic regression on word counts, trained on the labels: the judge of toxicity, independent of the probe."""

    def __init__(self, toxic_texts, clean_texts, size=4000):
        counts = {}
        for t in toxic_texts + clean_texts:
            for w in WORD.findall(t.lower()):
                counts[w] = counts.get(w, 0) + 1
        self.words = {w: i for i, (w, _) in enumerate(sorted(counts.items(), key=lambda x: -x[1])[:size])}
        x = torch.stack([self.features(t) for t in toxic_texts + clean_texts])
        y = torch.tensor([1.0] * len(toxic_texts) + [0.0] * len(clean_texts))
        self.w = torch.zeros(len(self.words), requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([self.w, self.b], max_iter=200)

        def closure():
            opt.zero_grad()
            loss = nn_bce(x @ self.w + self.b, y) + 1e-3 * (self.w ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)

    def features(self, text):
        v = torch.zeros(len(self.words))
        for w in WORD.findall(text.lower()):
            if w in self.words:
                v[self.words[w]] += 1
        return v / max(1.0, float(v.sum()) ** 0.5)

    def score(self, texts):
        with torch.no_grad():
            return torch.sigmoid(torch.stack([self.features(t) for t in texts]) @ self.w + self.b)

    def to_json(self):
        """bow-scorer.json's content, so tests and the app can judge toxicity the way this script did."""
        return {"description": "Bag-of-words logistic regression (lower-cased [a-z']+ words, counts / sqrt(total)); toxicity = sigmoid(w·x + b).",
                "words": sorted(self.words, key=self.words.get), "weights": [round(float(v), 6) for v in self.w.detach()], "bias": float(self.b)}

    @classmethod
    def from_json(cls, data):
        """The scorer as bow-scorer.json stores it (weights rounded to 6 decimals)."""
        scorer = cls.__new__(cls)
        scorer.words = {w: i for i, w in enumerate(data["words"])}
        scorer.w = torch.tensor(data["weights"])
        scorer.b = torch.tensor([data["bias"]])
        return scorer


nn_bce = torch.nn.functional.binary_cross_entropy_with_logits
if args.only:
    with open(os.path.join(args.out, "bow-scorer.json"), encoding="utf-8") as f:
        scorer = BowScorer.from_json(json.load(f))
else:
    scorer = BowScorer(toxic, nontoxic)
# The Llama pair is judged by the scorer exactly as shipped, so a full run and `--only llama` train it alike.
shipped_scorer = BowScorer.from_json(scorer.to_json())
held_scores = scorer.score(held_toxic + held_clean)
held_labels = torch.tensor([1.0] * len(held_toxic) + [0.0] * len(held_clean))
log("bow_scorer", held_out_accuracy=float(((held_scores > 0.5).float() == held_labels).float().mean()))

# ---------------------------------------------------------------- decoder language models (GPT-2, Llama)
# Both decoder pairs go through the same functions: language model, probe, preference pairs, DPO. `model(ids, mask)`
# returns logits and `model(ids, residual=True)` the last block's residual stream, for either architecture.
BLOCK = 64
held_clean_sample = held_clean[:400]


def token_blocks(texts):
    """The texts, shuffled, as one stream of tokens (EOS between texts) cut into BLOCK-token rows."""
    stream = []
    corpus = list(texts)
    random.shuffle(corpus)
    for t in corpus:
        stream += gpt2_tok.encode(t) + [EOS]
    return torch.tensor(stream[: len(stream) // BLOCK * BLOCK]).view(-1, BLOCK)


def train_lm(model, data, epochs, lr, tag, batch=32):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(data) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(data))
        total = 0.0
        for i in range(0, len(data), batch):
            x = data[order[i:i + batch]]
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss) * len(x)
        log(f"{tag}_lm_epoch", epoch=epoch, loss=total / len(data))
    model.eval()


def perplexity(model, texts):
    nll, count = 0.0, 0
    with torch.no_grad():
        for t in texts:
            ids = torch.tensor([[EOS] + gpt2_tok.encode(t)[:BLOCK - 1]])
            logits = model(ids)
            nll += float(torch.nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:], reduction="sum"))
            count += ids.shape[1] - 1
    return math.exp(nll / count)


# ---------------------------------------------------------------- probe (mean last-layer residual)


def residual_means(model, texts):
    out = []
    with torch.no_grad():
        for t in texts:
            ids = torch.tensor([gpt2_tok.encode(t)[:BLOCK]])
            out.append(model(ids, residual=True)[0].mean(0))
    return torch.stack(out)


def train_probe(model, tag):
    """Logistic regression on the mean last-layer residual of each training text; returns (w, b, held-out accuracy)."""
    probe_x = residual_means(model, toxic + nontoxic)
    probe_y = torch.tensor([1.0] * len(toxic) + [0.0] * len(nontoxic))
    probe_w = torch.zeros(probe_x.shape[1], requires_grad=True)
    probe_b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([probe_w, probe_b], max_iter=500)

    def probe_closure():
        opt.zero_grad()
        loss = nn_bce(probe_x @ probe_w + probe_b, probe_y) + 1e-3 * (probe_w ** 2).sum()
        loss.backward()
        return loss

    opt.step(probe_closure)
    held_x = residual_means(model, held_toxic + held_clean)
    accuracy = float((((held_x @ probe_w + probe_b) > 0).float() == held_labels).float().mean())
    log(tag, held_out_accuracy=accuracy, train_examples=len(probe_y), held_out_examples=len(held_labels))
    return probe_w, probe_b, accuracy


# ---------------------------------------------------------------- DPO


def generate(model, prompts, new_tokens, sample, k=40, seed=0):
    """Left-padded batched generation; returns continuation ids per prompt."""
    generator = torch.Generator().manual_seed(seed)
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[EOS] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    out = []
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model.next_token_logits(ids, mask)
            if sample:
                top = logits.topk(k)
                choice = torch.multinomial(top.values.softmax(-1), 1, generator=generator)
                nxt = top.indices.gather(1, choice)
            else:
                nxt = logits.argmax(-1, keepdim=True)
            out.append(nxt)
            ids = torch.cat([ids, nxt], 1)
            mask = torch.cat([mask, torch.ones_like(nxt)], 1)
    return torch.cat(out, 1).tolist()


def text_of(ids):
    if EOS in ids:
        ids = ids[:ids.index(EOS)]
    return gpt2_tok.decode(ids)


def prompt_ids(texts, words=6):
    return [[EOS] + gpt2_tok.encode(" ".join(t.split()[:words])) for t in texts]


def preference_pairs(model, judge, tag):
    """For prompts cut from training texts, the least toxic of four sampled continuations over the most toxic."""
    dpo_prompts = prompt_ids(random.sample(toxic, 900) + random.sample(nontoxic, 300))
    pairs = []
    for i in range(0, len(dpo_prompts), 50):
        batch = dpo_prompts[i:i + 50]
        samples = [generate(model, batch, 20, True, seed=i * 10 + s) for s in range(4)]
        for j, prompt in enumerate(batch):
            options = [samples[s][j] for s in range(4)]
            scores = judge.score([text_of(o) for o in options])
            best, worst = int(scores.argmin()), int(scores.argmax())
            if float(scores[worst] - scores[best]) > 0.1:
                pairs.append((prompt, options[best], options[worst]))
    log(tag, pairs=len(pairs))
    return pairs


def sequence_logp(model, prompt, continuation):
    ids = torch.tensor([prompt + continuation])
    logits = model(ids)[0, len(prompt) - 1:-1]
    return torch.log_softmax(logits, -1).gather(1, torch.tensor(continuation)[:, None]).sum()


held_prompts = prompt_ids(random.Random(1).sample(held_toxic, 200) + random.Random(2).sample(held_clean, 100))


def toxicity(model, judge):
    continuations = []
    for i in range(0, len(held_prompts), 50):
        continuations += generate(model, held_prompts[i:i + 50], 20, False)
    return float(judge.score([text_of(c) for c in continuations]).mean())


BETA = 0.1


def train_dpo(base, pairs, judge, tag):
    """DPO (Rafailov et al.; β = 0.1, spec dpo-neurons.md §1.2) with a small learning rate, checked every quarter epoch
    on held-out prompts: training stops at the first checkpoint that lowers the scorer's toxicity by ≥ 30% while
    keeping held-out perplexity within +20% (the demo's stated targets), else keeps the best trade-off seen."""
    dpo = copy.deepcopy(base)
    reference = base
    opt = torch.optim.AdamW(dpo.parameters(), lr=3e-5)
    with torch.no_grad():
        ref_logps = [(float(sequence_logp(reference, p, c)), float(sequence_logp(reference, p, r))) for p, c, r in pairs]
    base_toxicity, base_ppl = toxicity(base, judge), perplexity(base, held_clean_sample)
    best = None
    order = []
    for step in range(1, 4 * 8 + 1):  # at most 8 epochs, in quarters
        if not order:
            order = list(range(len(pairs)))
            random.shuffle(order)
        quarter, order = order[: len(pairs) // 4], order[len(pairs) // 4:]
        dpo.train()
        for start in range(0, len(quarter), 16):
            loss = 0.0
            for i in quarter[start:start + 16]:
                p, c, r = pairs[i]
                margin = (sequence_logp(dpo, p, c) - sequence_logp(dpo, p, r)) - (ref_logps[i][0] - ref_logps[i][1])
                loss = loss - torch.nn.functional.logsigmoid(BETA * margin)
            loss = loss / len(quarter[start:start + 16])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(dpo.parameters(), 1.0)
            opt.step()
        dpo.eval()
        tox, ppl = toxicity(dpo, judge), perplexity(dpo, held_clean_sample)
        reduction, rise = 1 - tox / base_toxicity, ppl / base_ppl - 1
        log(f"{tag}_checkpoint", epochs=step / 4, loss=float(loss), relative_reduction=reduction, perplexity_rise=rise)
        if rise <= 0.2 and (best is None or reduction > best[0]):
            best = (reduction, copy.deepcopy(dpo.state_dict()), step / 4)
        if reduction >= 0.3 and rise <= 0.2:
            break
    if best is not None:
        dpo.load_state_dict(best[1])
    dpo_toxicity, dpo_ppl = toxicity(dpo, judge), perplexity(dpo, held_clean_sample)
    log(f"{tag}_effect", epochs=best[2] if best else None, base_toxicity=base_toxicity, dpo_toxicity=dpo_toxicity, relative_reduction=1 - dpo_toxicity / base_toxicity,
        base_perplexity=base_ppl, dpo_perplexity=dpo_ppl, perplexity_rise=dpo_ppl / base_ppl - 1)
    return dpo


def train_decoder_pair(base, name, judge):
    """Language model on all training texts, its probe, then DPO from it. GPT-2's log steps keep their first names
    (gpt2_lm_epoch, probe, dpo_pairs, ...); the Llama pair's carry the prefix llama_."""
    prefix = "" if name == "gpt2" else f"{name}_"
    blocks = token_blocks(toxic + nontoxic)
    train_lm(base, blocks, epochs=6, lr=2e-3, tag=name)
    log(f"{name}_base", held_out_clean_perplexity=perplexity(base, held_clean_sample))
    probe = train_probe(base, f"{prefix}probe")
    pairs = preference_pairs(base, judge, f"{prefix}dpo_pairs")
    dpo = train_dpo(base, pairs, judge, f"{prefix}dpo")
    return dpo, probe


if not args.only:
    gpt2 = Gpt2(len(gpt2_tok.vocab))
    dpo, (probe_w, probe_b, probe_accuracy) = train_decoder_pair(gpt2, "gpt2", scorer)

# ---------------------------------------------------------------- BART (text infilling), expert, anti-expert
BART_MAX = 64


def infilling_example(text, rng):
    """30% of the words masked in Poisson(3) spans, each span one <mask> (BART's text infilling)."""
    words = text.split()
    budget = max(1, round(0.3 * len(words)))
    masked = [False] * len(words)
    while budget > 0:
        length = max(1, min(budget, int(torch.poisson(torch.tensor(3.0), generator=rng))))
        start = int(torch.randint(0, max(1, len(words) - length + 1), (1,), generator=rng))
        for i in range(start, min(len(words), start + length)):
            if not masked[i]:
                masked[i] = True
                budget -= 1
    out, previous = [], False
    for word, m in zip(words, masked):
        if m and not previous:
            out.append("<mask>")
        elif not m:
            out.append(word)
        previous = m
    return " ".join(out)


def bart_ids(text):
    ids = []
    for i, part in enumerate(text.split("<mask>")):
        if i > 0:
            ids.append(MASK)
        part = part.rstrip() if i < len(text.split("<mask>")) - 1 else part
        ids += bart_tok.encode(part)
    return [0] + ids[:BART_MAX - 2] + [2]


def pad(seqs, value):
    width = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (width - len(s)) for s in seqs]), torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])


def train_bart(model, texts, epochs, lr, tag, batch=32):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    rng = torch.Generator().manual_seed(7)
    model.train()
    for epoch in range(epochs):
        random.shuffle(texts)
        total, count = 0.0, 0
        for i in range(0, len(texts), batch):
            chunk = texts[i:i + batch]
            source, source_mask = pad([bart_ids(infilling_example(t, rng)) for t in chunk], 1)
            target, target_mask = pad([bart_ids(t) for t in chunk], 1)
            decoder_in = torch.cat([torch.full((len(chunk), 1), 2), target[:, :-1]], 1)
            logits = model(source, source_mask, decoder_in)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.masked_fill(target_mask == 0, -100).reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += float(loss) * len(chunk)
            count += len(chunk)
        log(f"{tag}_epoch", epoch=epoch, loss=total / count)
    model.eval()


if not args.only:
    bart = Bart(len(bart_tok.vocab))
    train_bart(bart, toxic + nontoxic, epochs=8, lr=2e-3, tag="bart_base")
    expert, anti = copy.deepcopy(bart), copy.deepcopy(bart)
    train_bart(expert, list(nontoxic), epochs=4, lr=1e-3, tag="bart_expert")
    train_bart(anti, list(toxic), epochs=4, lr=1e-3, tag="bart_anti_expert")

# ---------------------------------------------------------------- detox check (MaRCo §3–4 with τ 1.2, MAgr weights)
WORDS = re.compile(r"[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def mask_sentence(text, threshold=1.2):
    spans = [(m.start(), m.end()) for m in WORDS.finditer(text)]
    candidates = [i for i, (a, b) in enumerate(spans) if not all(c in PUNCT for c in text[a:b])]
    if not candidates:
        return text, 0
    variants = []
    for i in candidates:
        a, b = spans[i]
        ids = bart_ids(text[:a].rstrip() + "<mask>" + text[b:])
        variants.append((ids, ids.index(MASK) if MASK in ids else len(ids) - 1))
    source, source_mask = pad([v[0] for v in variants], 1)
    decoder_in = torch.cat([torch.full((len(variants), 1), 2), source[:, :-1]], 1)
    positions = torch.tensor([v[1] for v in variants])
    with torch.no_grad():
        le = torch.log_softmax(expert(source, source_mask, decoder_in)[torch.arange(len(variants)), positions], -1)
        la = torch.log_softmax(anti(source, source_mask, decoder_in)[torch.arange(len(variants)), positions], -1)
    d = 0.5 * ((le.exp() - la.exp()) * (le - la)).sum(-1)
    chosen = [candidates[j] for j in range(len(candidates)) if float(d[j] / d.mean()) >= threshold]
    out, cursor = "", 0
    for i in chosen:
        a, b = spans[i]
        out += text[cursor:a].rstrip() + "<mask>"
        cursor = b
    return out + text[cursor:], len(chosen)


def rewrite(original, masked, alpha_b=1.0, alpha_e=4.25, alpha_a=1.5, temperature=2.5, max_length=64):
    x, xm = torch.tensor([bart_ids(original)]), torch.tensor([bart_ids(masked)])
    with torch.no_grad():
        mems = [bart.encode(x, torch.ones_like(x)), expert.encode(xm, torch.ones_like(xm)), anti.encode(xm, torch.ones_like(xm))]
        y = [2, 0]
        while len(y) < max_length:
            yt = torch.tensor([y])
            z = [m.decode(yt, *mem)[0, -1] for m, mem in zip((bart, expert, anti), mems)]
            s = (alpha_b / temperature) * z[0] + alpha_e * z[1] - alpha_a * z[2]
            nxt = int(s.argmax())
            y.append(nxt)
            if nxt == 2:
                break
    ids = [i for i in y[2:] if i != 2]
    return bart_tok.decode(ids, skip={0, 1, 2, 3, MASK}).strip()


if not args.only:
    sample = [clean(t) for t in random.Random(3).sample(dynahate_test_hate, 120)]
    masked_count, originals, rewrites = 0, [], []
    for text in sample:
        masked, n = mask_sentence(text)
        masked_count += 1 if n else 0
        if n:
            originals.append(text)
            rewrites.append(rewrite(text, masked))
    log("detox_effect", sentences=len(sample), masked_fraction=masked_count / len(sample),
        original_toxicity=float(scorer.score(originals).mean()), rewrite_toxicity=float(scorer.score(rewrites).mean()),
        examples=[{"original": o, "rewrite": r} for o, r in list(zip(originals, rewrites))[:5]])

# ---------------------------------------------------------------- Llama pair (issue 14 §8)
# The GPT-2 pair's data, tokenizer, language-model recipe, probe and DPO recipe on a Llama architecture (GQA with 4
# query and 2 key/value heads, SiLU-gated MLP, RMSNorm, rotary positions), judged by the scorer as shipped. Seeded
# afresh, so a full run and `--only llama` train it alike.
llama_started = time.time()
if args.only != "classifier":
    random.seed(0)
    torch.manual_seed(0)
    llama = Llama(len(gpt2_tok.vocab))
    llama_dpo, (llama_probe_w, llama_probe_b, llama_probe_accuracy) = train_decoder_pair(llama, "llama", shipped_scorer)
llama_seconds = time.time() - llama_started

# ---------------------------------------------------------------- toxicity classifier (issue 15 §6)
# Seeded afresh, so a full run and `--only classifier` train it alike; the held-out files give its ROC-AUC.
classifier_started = time.time()
if args.only != "llama":
    random.seed(0)
    torch.manual_seed(0)
    classifier, classifier_auc, classifier_accuracy = train_classifier(bart_tok, toxic, nontoxic, held_toxic, held_clean, log, epochs=2)
classifier_seconds = time.time() - classifier_started

# ---------------------------------------------------------------- save in Hugging Face layout


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        data = tensors[name].float().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def save_model(name, model, tok, kind):
    folder = os.path.join(args.out, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(model.config, f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), model.state_dict_hf(), {"format": "pt", "producer": "scripts/demo/train_demo.py"})
    save_hf(tok, folder, kind)


def save_probe(name, w, b, accuracy, n_layers, model):
    """probe.safetensors and the sidecar `toxscope probe train` writes: the hook is the last block's residual."""
    os.makedirs(os.path.join(args.out, name), exist_ok=True)
    probe_path = os.path.join(args.out, name, "probe.safetensors")
    hook = f"blocks.{n_layers - 1}.hook_resid_post"
    write_safetensors(probe_path, {"probe": w.detach()}, {"producer": "scripts/demo/train_demo.py", "hook": hook})
    with open(probe_path + ".json", "w") as f:
        json.dump({"hook": hook, "bias": float(b), "heldOutAccuracy": accuracy, "trainExamples": len(toxic) + len(nontoxic),
                   "heldOutExamples": len(held_labels), "dataSha256": "", "model": model}, f, indent=2)


if not args.only:
    save_model("gpt2-base", gpt2, gpt2_tok, "gpt2")
    save_model("gpt2-dpo", dpo, gpt2_tok, "gpt2")
    save_model("bart-base", bart, bart_tok, "bart")
    save_model("bart-expert", expert, bart_tok, "bart")
    save_model("bart-anti-expert", anti, bart_tok, "bart")
    save_probe("probe", probe_w, probe_b, probe_accuracy, gpt2.config["n_layer"], "demo:gpt2-base")
    # The independent scorer, so tests and the app can judge toxicity the way this script did.
    with open(os.path.join(args.out, "bow-scorer.json"), "w") as f:
        json.dump(scorer.to_json(), f)
# The GPT-2 demo's tokenizer files, byte for byte: the pairs differ only in architecture.
if args.only != "classifier":
    save_model("llama-base", llama, gpt2_tok, "gpt2")
    save_model("llama-dpo", llama_dpo, gpt2_tok, "gpt2")
    save_probe("llama-probe", llama_probe_w, llama_probe_b, llama_probe_accuracy, llama.config["num_hidden_layers"], "demo:llama-base")
# The BART demo's tokenizer files: RoBERTa's byte-level BPE with <s> … </s>.
if args.only != "llama":
    save_model("classifier", classifier, bart_tok, "bart")

# A full run writes the log anew; --only llama keeps the last full run's other steps and replaces its Llama steps
# (their "seconds" then count from the start of the --only run).
log_path = os.path.join(args.out, "training-log.json")
if args.only:
    with open(log_path, encoding="utf-8") as f:
        previous = json.load(f)
    earlier = previous.get("partSeconds", {"gpt2_bart": previous["totalSeconds"]})
    part = args.only  # "llama" or "classifier": its steps are named part_…, "classifier" itself included
    mine = lambda s: s["step"] == part or s["step"].startswith(part + "_")  # noqa: E731
    LOG = {**previous, "steps": [s for s in previous["steps"] if not mine(s)] + [s for s in LOG["steps"] if mine(s)],
           f"{part}Retrained": {"command": f"--only {part}", "threads": args.threads, "started": LOG["started"], "finished": time.strftime("%Y-%m-%d %H:%M:%S")},
           "partSeconds": {**earlier, part: round(llama_seconds if part == "llama" else classifier_seconds, 1)}}
else:
    LOG["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    LOG["partSeconds"] = {"gpt2_bart": round(llama_started - T0, 1), "llama": round(llama_seconds, 1), "classifier": round(classifier_seconds, 1)}
LOG["totalSeconds"] = round(sum(LOG["partSeconds"].values()), 1)
with open(log_path, "w") as f:
    json.dump(LOG, f, indent=2)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def step(name):
    return next(s for s in reversed(LOG["steps"]) if s["step"] == name)


models = ("gpt2-base", "gpt2-dpo", "llama-base", "llama-dpo", "bart-base", "bart-expert", "bart-anti-expert")
files = [f"{m}/{f}" for m in models for f in ("model.safetensors", "config.json", "tokenizer.json")]
files += ["classifier/model.safetensors", "classifier/config.json", "classifier/tokenizer.json"]
files += ["probe/probe.safetensors", "llama-probe/probe.safetensors", "bow-scorer.json"]
dpo_step, detox_step, llama_dpo_step = step("dpo_effect"), step("detox_effect"), step("llama_dpo_effect")
with open(os.path.join(args.out, "llama-base", "config.json"), encoding="utf-8") as f:
    lc = json.load(f)  # as saved, so that `--only classifier` describes the shipped Llama
with open(os.path.join(args.out, "classifier", "config.json"), encoding="utf-8") as f:
    cc = json.load(f)
minutes = {part: value / 60 for part, value in LOG["partSeconds"].items()}
card = f"""# ToxScope demo models

**These are demonstration models, not tools for real moderation decisions.** They are tiny (about two million
parameters each), trained for minutes on a few thousand sentences, and they exist so that ToxScope shows its whole
job on first start, offline: the same architectures, file formats and phenomena as the real checkpoints, at toy
scale. Do not use them to judge real text.

| model | what it is |
| --- | --- |
| `demo:gpt2-base` | GPT-2 architecture (4 layers, d_model 128, 512 neurons per layer, 8k byte-level BPE vocabulary, 128 positions), trained as a language model on all training texts |
| `demo:gpt2-dpo` | DPO (β = 0.1) from `gpt2-base` on {step("dpo_pairs")["pairs"]} preference pairs: for prompts cut from training texts, the least toxic of four sampled continuations preferred over the most toxic, judged by the bag-of-words scorer below (not the probe) |
| `demo:probe` | logistic regression on `gpt2-base`'s mean last-layer residual (`blocks.3.hook_resid_post`), toxic vs non-toxic |
| `demo:llama-base` | Llama architecture ({lc["num_hidden_layers"]} layers, d_model {lc["hidden_size"]}, {lc["num_attention_heads"]} query heads sharing {lc["num_key_value_heads"]} key/value heads, SiLU-gated MLP with {lc["intermediate_size"]} neurons per layer, RMSNorm, rotary positions with θ {lc["rope_theta"]:.0f}, unembedding tied to the embedding, {lc["max_position_embeddings"]} positions) with the GPT-2 demo's tokenizer (the same files), trained as `gpt2-base` on all training texts |
| `demo:llama-dpo` | DPO from `llama-base` with `gpt2-dpo`'s recipe (β = 0.1, pairs judged by the same scorer) on {step("llama_dpo_pairs")["pairs"]} preference pairs sampled from `llama-base` |
| `demo:llama-probe` | logistic regression on `llama-base`'s mean last-layer residual (`blocks.{lc["num_hidden_layers"] - 1}.hook_resid_post`), toxic vs non-toxic |
| `demo:bart-base` | BART architecture (2+2 layers, d_model 128, 512 neurons), trained with text infilling (30% of words, Poisson(3) spans) on all training texts |
| `demo:bart-expert` / `demo:bart-anti-expert` | `bart-base` continued on the non-toxic / the toxic training texts |
| `demo:classifier` | toxicity classifier: RobertaForSequenceClassification ({cc["num_hidden_layers"]} layers, d_model {cc["hidden_size"]}, {cc["num_attention_heads"]} heads, {cc["intermediate_size"]} neurons, one sigmoid label `toxicity`, {cc["max_position_embeddings"] - 2} tokens) with the BART demo's tokenizer, trained on the toxic vs non-toxic training texts; `toxscope classify` and the detox gate use it |
| `bow-scorer.json` | the independent judge: logistic regression on word counts, trained on the labels |
| `wiki-text.txt`, `wiki-f1.jsonl` | 40 plain encyclopedic sentences written for the demo (not from any dataset): the perplexity text and the F1 prompts (first half of each sentence, the whole sentence as `gold`) that the Interventions page fills in for the demo pair, so its perplexity and F1 columns have numbers. The paper's WikiText-2 and Wikipedia prompts are not bundled |

## Data
Training uses only dev/train files of `../shared/data/marco` (MaRCo's release, MIT): toxic = DynaHate dev `hate`, SBF
dev posts with offensiveYN ≥ 0.5, and the microaggressions train and validation quotes; non-toxic = DynaHate dev
`nothate` and SBF dev posts with offensiveYN < 0.5 ({step("data")["toxic"]} toxic and {step("data")["nontoxic"]} non-toxic texts). Every `*test*` file (DynaHate, SBF,
microaggressions, and the Jigsaw toxic set, which is a MaRCo test set) is held out for the numbers below. DynaHate:
Vidgen et al. 2021; Social Bias Frames: Sap et al. 2020; microaggressions: Breitfeller et al. 2019. The data contain
offensive and hateful language.

## Measured behaviour (held-out data)
- Bag-of-words scorer: held-out accuracy {step("bow_scorer")["held_out_accuracy"]:.3f}. Probe: held-out accuracy {step("probe")["held_out_accuracy"]:.3f}.
- Classifier (`demo:classifier`): held-out ROC-AUC {step("classifier")["held_out_roc_auc"]:.3f} and accuracy at 0.5 {step("classifier")["held_out_accuracy"]:.3f} on the
  DynaHate and SBF test files ({step("classifier")["held_toxic"]} toxic, {step("classifier")["held_clean"]} non-toxic texts) — a toy: it ranks toxic text above clean text
  well short of a real Detoxify checkpoint.
- DPO: mean scorer toxicity of greedy 20-token continuations of 300 held-out prompts {dpo_step["base_toxicity"]:.3f} (base) →
  {dpo_step["dpo_toxicity"]:.3f} (DPO), a relative reduction of {100 * dpo_step["relative_reduction"]:.1f}%; perplexity on held-out non-toxic text
  {dpo_step["base_perplexity"]:.1f} → {dpo_step["dpo_perplexity"]:.1f} ({100 * dpo_step["perplexity_rise"]:+.1f}%).
- Llama pair, on the same held-out prompts and text: probe held-out accuracy {step("llama_probe")["held_out_accuracy"]:.3f}; DPO: mean scorer toxicity
  {llama_dpo_step["base_toxicity"]:.3f} (base) → {llama_dpo_step["dpo_toxicity"]:.3f} (DPO), a relative reduction of {100 * llama_dpo_step["relative_reduction"]:.1f}%; perplexity
  {llama_dpo_step["base_perplexity"]:.1f} → {llama_dpo_step["dpo_perplexity"]:.1f} ({100 * llama_dpo_step["perplexity_rise"]:+.1f}%).
- Detox (MAgr settings, τ 1.2, greedy): of {detox_step["sentences"]} held-out DynaHate test `hate` sentences, {100 * detox_step["masked_fraction"]:.1f}% get at least
  one masked word; the scorer's mean toxicity of those sentences goes {detox_step["original_toxicity"]:.3f} → {detox_step["rewrite_toxicity"]:.3f} after rewriting.
- At this size the rewrites are often ungrammatical, repeat words, and sometimes swap one insult for another: the
  mean toxicity falls, but the demo shows MaRCo's mechanism (which words the experts disagree on, how they are
  rewritten), not the quality of the real bart-base experts.

## Rebuilding
`npm run demo:train` (Debian's `python3-torch`, seeds fixed; the recorded runs took {minutes["gpt2_bart"]:.0f} minutes for GPT-2 and BART and
{minutes["llama"]:.0f} for the Llama pair and {minutes.get("classifier", 0):.0f} for the classifier, wall time on 2 CPU cores shared with other work) rewrites this folder and `training-log.json`. `npm run demo:train -- --only llama`
retrains only the Llama pair and its probe, from the GPT-2 demo's tokenizer files and `bow-scorer.json` as shipped,
and leaves every other file as it is; `--only classifier` does the same for the classifier. Files and their sha256 (checked by `test/integration/demo/demo-models.test.ts`):

| file | sha256 |
| --- | --- |
""" + "\n".join(f"| `{f}` | `{sha256(os.path.join(args.out, f))}` |" for f in files) + "\n"
with open(os.path.join(args.out, "README.md"), "w") as f:
    f.write(card)
print("done in", LOG["totalSeconds"], "s")
