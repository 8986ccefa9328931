"""Writes a BERT-base-shaped toxicity classifier folder with random weights, for `npm run bench -- --only classifier`:
config.json as unitary/toxic-bert's (BertForSequenceClassification, 12 layers, d_model 768, 12 heads, 3072 neurons,
vocab 30,522, 512 positions, six sigmoid labels, problem_type multi_label_classification), model.safetensors
(438 MB of float32 in Hugging Face's key layout, seeded, initialised as BertPreTrainedModel._init_weights does), and
an uncased WordPiece vocab.txt of 30,522 entries built from the words of ../shared/data, with a
tokenizer_config.json (no tokenizer.json: ToxScope converts vocab.txt as transformers does). Usage:
  /usr/bin/python3 test/bench/make_bert_base_random.py DIR
"""
import collections
import csv
import json
import os
import struct
import sys
import unicodedata

import torch

D, D_MLP, LAYERS, HEADS, VOCAB, POSITIONS, TYPES = 768, 3072, 12, 12, 30522, 512, 2
LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")
# (file, text column) of every text file of the shared data: the vocabulary's words come from all of them.
SOURCES = [("marco/jigsaw_full_30-test_toxic.csv", "comment_text"), ("marco/sbf-sbfdev.csv", "post"),
           ("marco/sbf-sbftst.csv", "post"), ("marco/dynabench-db_dev.csv", "text"),
           ("marco/dynabench-db_test.csv", "text"), ("marco/microagressions-train.csv", "actual_quote"),
           ("marco/microagressions-val.csv", "actual_quote"), ("marco/microagressions-test.csv", "actual_quote")]
SUFFIX_PIECES = 4000  # "##" continuation pieces beside the characters' own, as bert-base-uncased has several thousand

CONFIG = {
    "_name_or_path": "toxscope-bench-bert-base (random weights, unitary/toxic-bert's shapes)",
    "architectures": ["BertForSequenceClassification"],
    "model_type": "bert",
    "attention_probs_dropout_prob": 0.1,
    "classifier_dropout": None,
    "gradient_checkpointing": False,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": D,
    "id2label": {str(i): name for i, name in enumerate(LABELS)},
    "initializer_range": 0.02,
    "intermediate_size": D_MLP,
    "label2id": {name: i for i, name in enumerate(LABELS)},
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": POSITIONS,
    "num_attention_heads": HEADS,
    "num_hidden_layers": LAYERS,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "problem_type": "multi_label_classification",
    "torch_dtype": "float32",
    "type_vocab_size": TYPES,
    "use_cache": True,
    "vocab_size": VOCAB,
}


def shapes():
    """BertForSequenceClassification's state dict keys and shapes, in save_pretrained's order."""
    result = {"bert.embeddings.word_embeddings.weight": (VOCAB, D),
              "bert.embeddings.position_embeddings.weight": (POSITIONS, D),
              "bert.embeddings.token_type_embeddings.weight": (TYPES, D),
              "bert.embeddings.LayerNorm.weight": (D,), "bert.embeddings.LayerNorm.bias": (D,)}
    for i in range(LAYERS):
        p = f"bert.encoder.layer.{i}."
        for proj in ("query", "key", "value"):
            result[f"{p}attention.self.{proj}.weight"], result[f"{p}attention.self.{proj}.bias"] = (D, D), (D,)
        result.update({
            p + "attention.output.dense.weight": (D, D), p + "attention.output.dense.bias": (D,),
            p + "attention.output.LayerNorm.weight": (D,), p + "attention.output.LayerNorm.bias": (D,),
            p + "intermediate.dense.weight": (D_MLP, D), p + "intermediate.dense.bias": (D_MLP,),
            p + "output.dense.weight": (D, D_MLP), p + "output.dense.bias": (D,),
            p + "output.LayerNorm.weight": (D,), p + "output.LayerNorm.bias": (D,),
        })
    result.update({"bert.pooler.dense.weight": (D, D), "bert.pooler.dense.bias": (D,),
                   "classifier.weight": (len(LABELS), D), "classifier.bias": (len(LABELS),)})
    return result


def initial(name, shape, generator):
    """_init_weights: matrices and embeddings Normal(0, 0.02), biases 0, LayerNorm weight 1, the padding row 0."""
    if name.endswith("LayerNorm.weight"):
        return torch.ones(shape)
    if name.endswith(".bias"):
        return torch.zeros(shape)
    t = torch.randn(shape, generator=generator) * 0.02
    if name == "bert.embeddings.word_embeddings.weight":
        t[CONFIG["pad_token_id"]] = 0
    return t


def write_weights(path, seed=0):
    """model.safetensors written tensor by tensor, renamed into place when complete."""
    generator = torch.Generator().manual_seed(seed)
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes().items():
        count = 1
        for dim in shape:
            count *= dim
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + 4 * count]}
        offset += 4 * count
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for name, shape in shapes().items():
            f.write(initial(name, shape, generator).numpy().tobytes())
    os.replace(temporary, path)


def is_punctuation(char):
    """BERT's BasicTokenizer: ASCII symbols and every Unicode P* category split off as their own words."""
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def basic_words(text):
    """BasicTokenizer(do_lower_case=True) in short: clean, lower-case, strip accents, split on spaces and punctuation."""
    text = unicodedata.normalize("NFD", text.lower())
    words, current = [], []
    for char in text:
        category = unicodedata.category(char)
        if category == "Mn" or char == "\ufffd" or (category.startswith("C") and char not in "\t\n\r"):
            continue
        if char.isspace() or is_punctuation(char):
            if current:
                words.append("".join(current))
                current = []
            if not char.isspace():
                words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


def texts():
    csv.field_size_limit(1 << 30)
    for name, column in SOURCES:
        with open(os.path.join(DATA, name), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                yield row[column]
    with open(os.path.join(DATA, "rtp", "challenge_prompts.jsonl"), encoding="utf-8") as f:
        for line in f:
            prompt = json.loads(line)["prompt"]
            yield prompt if isinstance(prompt, str) else prompt.get("text", "")


def build_vocab():
    """bert-base-uncased's layout: [PAD], [unused0–98], [UNK], [CLS], [SEP], [MASK], [unused99–993] (ids 0–998), then
    every character of the data and its "##" form, the most frequent words, and the most frequent word endings of the
    words left out as "##" pieces, so that rare words split as WordPiece splits them."""
    words = collections.Counter(word for text in texts() for word in basic_words(text))
    chars = collections.Counter()
    for word, count in words.items():
        for char in word:
            chars[char] += count
    vocab = {"[PAD]": None, **{f"[unused{i}]": None for i in range(99)}, "[UNK]": None, "[CLS]": None, "[SEP]": None,
             "[MASK]": None, **{f"[unused{i}]": None for i in range(99, 994)}}
    for char, _ in chars.most_common():
        vocab.setdefault(char, None)
    for char, _ in chars.most_common():
        vocab.setdefault("##" + char, None)
    ranked = [word for word, _ in words.most_common()]
    whole = VOCAB - SUFFIX_PIECES - len(vocab)
    kept = ranked[:whole]
    for word in kept:
        vocab.setdefault(word, None)
    endings = collections.Counter()
    for word in ranked[whole:]:
        for size in (2, 3, 4):
            if len(word) > size + 1:
                endings["##" + word[-size:]] += words[word]
    for piece, _ in endings.most_common():
        if len(vocab) == VOCAB:
            break
        vocab.setdefault(piece, None)
    filler = 994
    while len(vocab) < VOCAB:  # only when the data has too few distinct words and endings
        vocab.setdefault(f"[unused{filler}]", None)
        filler += 1
    assert len(vocab) == VOCAB, len(vocab)
    return list(vocab)


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": POSITIONS, "tokenizer_class": "BertTokenizer",
                   "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                   "mask_token": "[MASK]"}, f, indent=2)
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(token + "\n" for token in build_vocab()))
    if not os.path.exists(os.path.join(folder, "model.safetensors")):
        write_weights(os.path.join(folder, "model.safetensors"))
    print(folder)


if __name__ == "__main__":
    main()
