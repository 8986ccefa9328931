"""Independent reference for ToxScope's MaRCo (spec marco.md §3–4) in PyTorch on tiny byte-level BART models:
masking by expert/anti-expert divergence (one sentence and one word at a time, teacher-forced, no batching) and
the product-of-experts rewrite (greedy, recomputing every step, no KV cache).

Regenerate (reviewed change):  /usr/bin/python3 test/reference/marco_reference.py
"""
import json
import os
import re
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bart_reference as bart  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "fixtures")
MASK = bart.VOCAB["<mask>"]
SYMBOLS = bart.byte_symbols()
PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
SENTENCES = ["you are a stupid idiot, go away!", "Hey, \"you\" idiot", "I love this lovely day", "what"]
SETTINGS = {"threshold": 1.0, "alphaBase": 1.0, "alphaExpert": 4.25, "alphaAnti": 1.5, "temperature": 2.5, "repetitionPenalty": 1.5, "maxLength": 24}


def encode(text):
    """<s> + bytes + </s>, with <mask> as its own id (whitespace before it already removed)."""
    ids = [0]
    for i, part in enumerate(text.split("<mask>")):
        if i > 0:
            ids.append(MASK)
        ids += [bart.VOCAB[SYMBOLS[b]] for b in part.encode()]
    return ids + [2]


def words(text):
    """Spans of words for these simple sentences (casual_tokenize agrees on them)."""
    return [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z]+(?:'[a-z]+)?|[^\sA-Za-z]", text)]


def mask_words(text, spans, chosen):
    out, cursor = "", 0
    for i in sorted(chosen):
        start, end = spans[i]
        out += text[cursor:start].rstrip() + "<mask>"
        cursor = end
    return out + text[cursor:]


def read_out(sd, ids, position):
    x = torch.tensor([ids])
    out = bart.forward(sd, x, torch.ones_like(x), bart.shift_tokens_right(x))
    return out["logits"][0, position]


def symmetric_kl(a, b):
    la, lb = torch.log_softmax(a.double(), -1), torch.log_softmax(b.double(), -1)
    return float(0.5 * ((la.exp() - lb.exp()) * (la - lb)).sum())


def infill(base, expert, anti, original, masked, s):
    x, xm = torch.tensor([encode(original)]), torch.tensor([encode(masked)])
    y = [2, 0]
    while len(y) < s["maxLength"]:
        yt = torch.tensor([y])
        zb = bart.forward(base, x, torch.ones_like(x), yt)["logits"][0, -1]
        ze = bart.forward(expert, xm, torch.ones_like(xm), yt)["logits"][0, -1]
        za = bart.forward(anti, xm, torch.ones_like(xm), yt)["logits"][0, -1]
        scores = (s["alphaBase"] / s["temperature"]) * zb + s["alphaExpert"] * ze - s["alphaAnti"] * za
        if s["repetitionPenalty"] != 1:
            for u in set(y):
                scores[u] = scores[u] / s["repetitionPenalty"] if scores[u] > 0 else scores[u] * s["repetitionPenalty"]
        nxt = int(torch.argmax(scores))
        y.append(nxt)
        if nxt == 2:
            break
    generated = y[2:]
    return generated[:generated.index(2)] if 2 in generated else generated


def write_model(name, sd):
    folder = os.path.join(FIXTURES, name)
    os.makedirs(folder, exist_ok=True)
    for file in ("config.json", "vocab.json", "merges.txt"):
        shutil.copy(os.path.join(FIXTURES, "bart-tiny", file), os.path.join(folder, file))
    torch.save(sd, os.path.join(folder, "pytorch_model.bin"))


def main():
    base = bart.make_state_dict(99)
    expert, anti = bart.make_state_dict(100), bart.make_state_dict(101)
    write_model("bart-tiny-expert", expert)
    write_model("bart-tiny-anti", anti)
    results = []
    for text in SENTENCES:
        spans = words(text)
        punctuation = [i for i, (a, b) in enumerate(spans) if all(c in PUNCTUATION for c in text[a:b])]
        divergences = {}
        for i, (a, b) in enumerate(spans):
            if i in punctuation:
                continue
            ids = encode(mask_words(text, spans, [i]))
            position = ids.index(MASK)
            divergences[i] = symmetric_kl(read_out(expert, ids, position), read_out(anti, ids, position))
        candidates = [i for i in range(len(spans)) if i not in punctuation]
        mean = sum(divergences.values()) / len(candidates)
        chosen = [candidates[a] for a, i in enumerate(candidates) if divergences[i] / mean >= SETTINGS["threshold"]]
        quirk = [a + sum(1 for p in punctuation if p <= a) for a, i in enumerate(candidates) if divergences[i] / mean >= SETTINGS["threshold"]]
        masked = mask_words(text, spans, chosen)
        results.append({
            "text": text,
            "words": [text[a:b] for a, b in spans],
            "divergence": [divergences.get(i) for i in range(len(spans))],
            "masked": chosen,
            "maskedQuirk": quirk,
            "maskedText": masked,
            "infill": infill(base, expert, anti, text, masked, SETTINGS) if chosen else None,
        })
    with open(os.path.join(ROOT, "golden", "marco-tiny.json"), "w") as f:
        json.dump({"format_version": "1", "regenerate": "/usr/bin/python3 test/reference/marco_reference.py", "settings": SETTINGS, "sentences": results}, f, indent=1)
    print("wrote test/golden/marco-tiny.json and the expert/anti-expert fixtures")


if __name__ == "__main__":
    main()
