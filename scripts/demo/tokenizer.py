"""A byte-level BPE trainer and encoder (GPT-2's scheme) for the demo models, with Hugging Face tokenizer files."""
import json
import os
import re
from collections import Counter, defaultdict

# GPT-2's pre-tokenizer, with \p{L} ≈ [^\W\d_] and \p{N} ≈ \d (Python's re has no Unicode classes; ToxScope's
# tokenizer applies the exact pattern at run time, so this only decides which merges are learned).
PRETOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_UNICODE = bytes_to_unicode()


def words_of(text):
    return ["".join(BYTE_TO_UNICODE[b] for b in piece.encode("utf-8")) for piece in PRETOKENIZE.findall(text)]


def merge_pair(symbols, a, b):
    """The symbols with every adjacent (a, b) joined into one, left to right."""
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            merged.append(a + b)
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


def train_bpe(texts, vocab_size):
    """Merges learned greedily by pair frequency over the corpus's word counts, with incremental pair counts."""
    word_counts = Counter(w for text in texts for w in words_of(text))
    words = [list(w) for w in word_counts]
    counts = [word_counts[w] for w in word_counts]
    pairs = Counter()
    where = defaultdict(set)
    for index, symbols in enumerate(words):
        for a, b in zip(symbols, symbols[1:]):
            pairs[(a, b)] += counts[index]
            where[(a, b)].add(index)
    merges = []
    target = vocab_size - 256
    while len(merges) < target and pairs:
        (a, b), frequency = max(pairs.items(), key=lambda item: (item[1], item[0]))
        if frequency < 2:
            break
        merges.append((a, b))
        for index in list(where[(a, b)]):
            symbols, count = words[index], counts[index]
            for x, y in zip(symbols, symbols[1:]):
                pairs[(x, y)] -= count
                if pairs[(x, y)] <= 0:
                    del pairs[(x, y)]
                where[(x, y)].discard(index)
            merged = merge_pair(symbols, a, b)
            words[index] = merged
            for x, y in zip(merged, merged[1:]):
                pairs[(x, y)] += count
                where[(x, y)].add(index)
        pairs.pop((a, b), None)
        where.pop((a, b), None)
    return merges


class Tokenizer:
    """BPE over learned merges; `offset` shifts ids (BART's four specials come first)."""

    def __init__(self, merges, specials_before, specials_after):
        self.merges = merges
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        symbols = [BYTE_TO_UNICODE[b] for b in range(256)] + [a + b for a, b in merges]
        self.vocab = {}
        for token in specials_before:
            self.vocab[token] = len(self.vocab)
        for token in symbols:
            if token not in self.vocab:
                self.vocab[token] = len(self.vocab)
        for token in specials_after:
            self.vocab[token] = len(self.vocab)
        self.inverse = {i: t for t, i in self.vocab.items()}
        self.unicode_to_byte = {u: b for b, u in BYTE_TO_UNICODE.items()}
        self.cache = {}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        symbols = list(word)
        while len(symbols) > 1:
            ranked = [(self.ranks.get((a, b), 1e9), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(ranked)
            if rank == 1e9:
                break
            symbols = merge_pair(symbols, symbols[i], symbols[i + 1])
        ids = [self.vocab[s] for s in symbols]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        return [i for w in words_of(text) for i in self._bpe(w)]

    def decode(self, ids, skip=()):
        data = bytearray()
        for i in ids:
            if i in skip:
                continue
            data += bytes(self.unicode_to_byte[c] for c in self.inverse[i] if c in self.unicode_to_byte)
        return data.decode("utf-8", errors="replace")


def save_hf(tokenizer, folder, kind):
    """tokenizer.json, vocab.json + merges.txt and the special-token files, as transformers writes them."""
    os.makedirs(folder, exist_ok=True)
    merges = [f"{a} {b}" for a, b in tokenizer.merges]
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer.vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    if kind == "gpt2":
        eos = "<|endoftext|>"
        added = [{"id": tokenizer.vocab[eos], "content": eos, "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True}]
        post = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        config = {"bos_token": eos, "eos_token": eos, "unk_token": eos, "model_max_length": 128, "tokenizer_class": "GPT2Tokenizer"}
    else:
        added = [{"id": tokenizer.vocab[t], "content": t, "single_word": False, "lstrip": t == "<mask>", "rstrip": False, "normalized": t != "<mask>", "special": True} for t in ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]]
        post = {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True, "add_prefix_space": False}
        config = {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>", "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>", "model_max_length": 128, "tokenizer_class": "BartTokenizer"}
    tokenizer_json = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": post, "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False, "vocab": tokenizer.vocab, "merges": merges},
    }
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json, f, ensure_ascii=False)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
