"""Independent PyTorch reference for ToxScope's toxicity classifiers: BertForSequenceClassification and
RobertaForSequenceClassification in eval mode, written here from the published architecture (transformers'
modeling_bert.py / modeling_roberta.py; no transformers package), the text-classification pipeline's activation
rule, and Detoxify's load_checkpoint + predict (class renaming, sigmoid, first len(classes) outputs).

Writes tiny seeded classifiers in the real layouts under test/fixtures/classifiers/ (safetensors, pytorch_model.bin
with old LayerNorm gamma/beta names, a Detoxify .ckpt with its base model's config.json, and broken ones for the
error tests) and golden outputs test/golden/classifier-*.safetensors: logits and probabilities of single rows and of
a right-padded batch (with RoBERTa's position ids).

Regenerate (reviewed change):  /usr/bin/python3 test/reference/classifier_reference.py
Needs Debian's python3-torch.
"""
import collections
import json
import math
import os
import re
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_reference import write_safetensors  # noqa: E402

FORMAT_VERSION = "1"
REGENERATE = "/usr/bin/python3 test/reference/classifier_reference.py"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "fixtures", "classifiers")
GOLDEN = os.path.join(ROOT, "golden")

# VOCAB covers the tiny tokenizers of test/fixtures/tokenizers (ids up to 400), copied into the fixture folders.
VOCAB, D, HEADS, FFN, LAYERS = 416, 16, 2, 32, 2
TOKENIZERS = os.path.join(ROOT, "fixtures", "tokenizers")


def bert_config(**extra):
    """A config.json as BertForSequenceClassification.save_pretrained writes it (tiny sizes)."""
    return {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": VOCAB,
            "hidden_size": D, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": FFN,
            "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": 24, "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "pad_token_id": 0, "position_embedding_type": "absolute", "classifier_dropout": None, "use_cache": True,
            "torch_dtype": "float32", "transformers_version": "4.40.0", **extra}


def roberta_config(**extra):
    """As RobertaForSequenceClassification saves it: pad 1, positions 2 + 24, one token type, eps 1e-5."""
    return {**bert_config(), "architectures": ["RobertaForSequenceClassification"], "model_type": "roberta",
            "max_position_embeddings": 26, "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
            "bos_token_id": 0, "eos_token_id": 2, **extra}


def labels(*names):
    return {"id2label": {str(i): name for i, name in enumerate(names)},
            "label2id": {name: i for i, name in enumerate(names)}}


def make_state_dict(seed, arch, cfg, n_outputs, head=True, pooler=True):
    """The state dict *ForSequenceClassification saves, under Hugging Face's key names."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *shape, std=0.3: torch.randn(*shape, generator=g) * std  # noqa: E731
    p = arch + "."
    sd = collections.OrderedDict()
    sd[p + "embeddings.word_embeddings.weight"] = rnd(VOCAB, D)
    sd[p + "embeddings.position_embeddings.weight"] = rnd(cfg["max_position_embeddings"], D, std=0.2)
    sd[p + "embeddings.token_type_embeddings.weight"] = rnd(cfg["type_vocab_size"], D, std=0.2)
    sd[p + "embeddings.LayerNorm.weight"] = 1 + rnd(D, std=0.1)
    sd[p + "embeddings.LayerNorm.bias"] = rnd(D, std=0.1)
    for layer in range(LAYERS):
        q = f"{p}encoder.layer.{layer}."
        for proj in ("query", "key", "value"):
            sd[f"{q}attention.self.{proj}.weight"] = rnd(D, D, std=0.4)
            sd[f"{q}attention.self.{proj}.bias"] = rnd(D, std=0.1)
        sd[q + "attention.output.dense.weight"], sd[q + "attention.output.dense.bias"] = rnd(D, D), rnd(D, std=0.1)
        sd[q + "attention.output.LayerNorm.weight"] = 1 + rnd(D, std=0.1)
        sd[q + "attention.output.LayerNorm.bias"] = rnd(D, std=0.1)
        sd[q + "intermediate.dense.weight"], sd[q + "intermediate.dense.bias"] = rnd(FFN, D), rnd(FFN, std=0.1)
        sd[q + "output.dense.weight"], sd[q + "output.dense.bias"] = rnd(D, FFN), rnd(D, std=0.1)
        sd[q + "output.LayerNorm.weight"] = 1 + rnd(D, std=0.1)
        sd[q + "output.LayerNorm.bias"] = rnd(D, std=0.1)
    if arch == "bert":
        if pooler:
            sd["bert.pooler.dense.weight"], sd["bert.pooler.dense.bias"] = rnd(D, D), rnd(D, std=0.1)
        if head:
            sd["classifier.weight"], sd["classifier.bias"] = rnd(n_outputs, D, std=0.6), rnd(n_outputs, std=0.2)
    elif head:
        sd["classifier.dense.weight"], sd["classifier.dense.bias"] = rnd(D, D), rnd(D, std=0.1)
        sd["classifier.out_proj.weight"] = rnd(n_outputs, D, std=0.6)
        sd["classifier.out_proj.bias"] = rnd(n_outputs, std=0.2)
    return sd


def with_buffers(sd, arch, cfg):
    """Older transformers saved the embeddings' position_ids buffer (int64 [1, max_position_embeddings])."""
    out = collections.OrderedDict(sd)
    out[arch + ".embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"])[None]
    return out


def forward(sd, arch, cfg, input_ids, attention_mask):
    """*ForSequenceClassification.forward in eval mode: logits [batch, n_outputs] and the position ids used."""
    p = arch + "."
    eps, pad = cfg["layer_norm_eps"], cfg["pad_token_id"]
    dh = D // HEADS
    batch, length = input_ids.shape
    ln = lambda x, name: torch.nn.functional.layer_norm(x, (D,), sd[name + ".weight"], sd[name + ".bias"], eps)  # noqa
    lin = lambda x, name: torch.nn.functional.linear(x, sd[name + ".weight"], sd[name + ".bias"])  # noqa: E731
    if arch == "roberta":  # create_position_ids_from_input_ids
        mask = input_ids.ne(pad).int()
        position_ids = (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + pad
    else:
        position_ids = torch.arange(length)[None].expand(batch, length)
    token_type_ids = torch.zeros_like(input_ids)
    embeddings = sd[p + "embeddings.word_embeddings.weight"][input_ids]
    embeddings = embeddings + sd[p + "embeddings.token_type_embeddings.weight"][token_type_ids]
    embeddings = embeddings + sd[p + "embeddings.position_embeddings.weight"][position_ids]
    x = ln(embeddings, p + "embeddings.LayerNorm")
    # get_extended_attention_mask: 0 where attended, finfo.min where masked, added to the scores.
    extended = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    split = lambda t: t.view(batch, length, HEADS, dh).permute(0, 2, 1, 3)  # noqa: E731
    for layer in range(LAYERS):
        q = f"{p}encoder.layer.{layer}."
        query, key, value = (split(lin(x, f"{q}attention.self.{name}")) for name in ("query", "key", "value"))
        scores = query @ key.transpose(-1, -2) / math.sqrt(dh) + extended
        context = (scores.softmax(-1) @ value).permute(0, 2, 1, 3).reshape(batch, length, D)
        x = ln(lin(context, q + "attention.output.dense") + x, q + "attention.output.LayerNorm")
        intermediate = torch.nn.functional.gelu(lin(x, q + "intermediate.dense"))
        x = ln(lin(intermediate, q + "output.dense") + x, q + "output.LayerNorm")
    first = x[:, 0]
    if arch == "bert":
        logits = lin(torch.tanh(lin(first, "bert.pooler.dense")), "classifier")
    else:
        logits = lin(torch.tanh(lin(first, "classifier.dense")), "classifier.out_proj")
    return logits, position_ids


def pipeline_activation(cfg):
    """The text-classification pipeline's default function_to_apply."""
    n = len(cfg["id2label"]) if "id2label" in cfg else cfg.get("num_labels", 2)
    if cfg.get("problem_type") == "multi_label_classification" or n == 1:
        return "sigmoid"
    return "softmax"


def pad_batch(rows, pad):
    """Right padding, as the tokenizer's padding=True does for BERT and RoBERTa."""
    length = max(len(row) for row in rows)
    ids = torch.full((len(rows), length), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, : len(row)] = torch.tensor(row)
        mask[r, : len(row)] = 1
    return ids, mask


def write_golden(name, sd, arch, cfg, rows, label_names, activation, reported):
    """Each row alone, then all rows as one right-padded batch; probabilities of the reported outputs only."""
    apply = torch.sigmoid if activation == "sigmoid" else (lambda z: z.softmax(-1))
    tensors = {}
    with torch.no_grad():
        for r, row in enumerate(rows):
            ids = torch.tensor([row])
            logits, _ = forward(sd, arch, cfg, ids, torch.ones_like(ids))
            tensors[f"row{r}.input_ids"] = ids[0]
            tensors[f"row{r}.logits"] = logits[0].contiguous()
            tensors[f"row{r}.probabilities"] = apply(logits)[0, :reported].contiguous()
        ids, mask = pad_batch(rows, cfg["pad_token_id"])
        logits, position_ids = forward(sd, arch, cfg, ids, mask)
        tensors["batch.input_ids"] = ids
        tensors["batch.attention_mask"] = mask
        tensors["batch.position_ids"] = position_ids.contiguous()
        tensors["batch.logits"] = logits.contiguous()
        tensors["batch.probabilities"] = apply(logits)[:, :reported].contiguous()
    metadata = {"format_version": FORMAT_VERSION, "regenerate": REGENERATE, "torch": torch.__version__,
                "rows": str(len(rows)), "labels": json.dumps(label_names), "activation": activation}
    write_safetensors(os.path.join(GOLDEN, f"classifier-{name}.safetensors"), tensors, metadata)


# --- Tokenization, written here from the published algorithms (no tokenizers package), for ASCII text only. ---
ASCII_PUNCT = set(chr(c) for c in list(range(33, 48)) + list(range(58, 65)) + list(range(91, 97)) + list(range(123, 127)))


def wordpiece_ids(text, folder, lower):
    """BertTokenizer: basic tokenization (lower-case, split on whitespace and punctuation), then greedy
    longest-match-first WordPiece with ## continuations; [CLS] … [SEP] around the ids."""
    model = json.load(open(os.path.join(folder, "tokenizer.json")))
    vocab = model["model"]["vocab"]
    special = {token["content"]: token["id"] for token in model["added_tokens"]}
    words = []
    for chunk in (text.lower() if lower else text).split():
        current = ""
        for char in chunk:
            if char in ASCII_PUNCT:
                if current:
                    words.append(current)
                words.append(char)
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    ids = []
    for word in words:
        start, pieces = 0, []
        while start < len(word):
            end = len(word)
            while end > start:
                piece = ("##" if start else "") + word[start:end]
                if piece in vocab:
                    break
                end -= 1
            if end == start:
                pieces = [special["[UNK]"]]
                break
            pieces.append(vocab[("##" if start else "") + word[start:end]])
            start = end
        ids.extend(pieces)
    return [special["[CLS]"]] + ids + [special["[SEP]"]]


def byte_level_alphabet():
    """GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to 256 + n."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, n = keep[:], 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, map(chr, chars)))


def byte_level_bpe_ids(text, folder):
    """RobertaTokenizer: GPT-2's pre-tokenization regex (ASCII letters and digits), bytes as characters, merges by
    rank; <s> … </s> around the ids."""
    vocab = json.load(open(os.path.join(folder, "vocab.json")))
    ranks = {}
    for line in open(os.path.join(folder, "merges.txt"), encoding="utf-8").read().split("\n"):
        if line and not line.startswith("#version"):
            ranks[tuple(line.split(" "))] = len(ranks)
    alphabet = byte_level_alphabet()
    pattern = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")
    ids = []
    for piece in pattern.findall(text):
        symbols = [alphabet[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            pairs = [(ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(pairs)
            if rank == math.inf:
                break
            symbols = symbols[:i] + [symbols[i] + symbols[i + 1]] + symbols[i + 2:]
        ids.extend(vocab[symbol] for symbol in symbols)
    return [vocab["<s>"]] + ids + [vocab["</s>"]]


def truncate(ids, max_length):
    """tokenizer(text, truncation=True, max_length=N) for one text: the first N - 2 tokens, then the separator."""
    return ids if len(ids) <= max_length else ids[: max_length - 1] + ids[-1:]


# Texts for the text-to-score goldens: short, mixed case, punctuation, and one longer than every model's positions.
TEXTS = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "They didn't care; the children were asleep.",
    "In the morning the children walked to the school near the river, and in the evening they went home again, "
    "happily running and jumping over the dog.",
]


def write_text_golden(name, sd, arch, cfg, encode, max_lengths, activation, reported):
    """Each text encoded and truncated at each max_length, scored alone and as one right-padded batch."""
    apply = torch.sigmoid if activation == "sigmoid" else (lambda z: z.softmax(-1))
    tensors = {}
    with torch.no_grad():
        for max_length in max_lengths:
            rows = [truncate(encode(text), max_length) for text in TEXTS]
            for r, row in enumerate(rows):
                ids = torch.tensor([row])
                logits, _ = forward(sd, arch, cfg, ids, torch.ones_like(ids))
                tensors[f"max{max_length}.text{r}.input_ids"] = ids[0]
                tensors[f"max{max_length}.text{r}.probabilities"] = apply(logits)[0, :reported].contiguous()
            ids, mask = pad_batch(rows, cfg["pad_token_id"])
            logits, _ = forward(sd, arch, cfg, ids, mask)
            tensors[f"max{max_length}.batch.probabilities"] = apply(logits)[:, :reported].contiguous()
    metadata = {"format_version": FORMAT_VERSION, "regenerate": REGENERATE, "torch": torch.__version__,
                "texts": json.dumps(TEXTS), "max_lengths": json.dumps(max_lengths)}
    write_safetensors(os.path.join(GOLDEN, f"classifier-text-{name}.safetensors"), tensors, metadata)


def copy_tokenizer(name, folder, files):
    for file in files:
        shutil.copy(os.path.join(TOKENIZERS, name, file), os.path.join(folder, file))


def prettier_json(value, depth=0):
    """JSON as Prettier writes it (one key a line, short lists inline, 1e-5 not 1e-05), so format:check passes."""
    if isinstance(value, dict) and value:
        pad = "  " * (depth + 1)
        items = [f"{pad}{json.dumps(key)}: {prettier_json(item, depth + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(value, float):
        return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), repr(value))
    return json.dumps(value)


def write_config(folder, cfg):
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(prettier_json(cfg) + "\n")


def save_folder(name, cfg, sd, weights_file):
    folder = os.path.join(FIXTURES, name)
    os.makedirs(folder, exist_ok=True)
    write_config(folder, cfg)
    if weights_file == "model.safetensors":
        write_safetensors(os.path.join(folder, weights_file), sd, {"format": "pt"})
    else:
        torch.save(sd, os.path.join(folder, weights_file))
    return folder


def legacy_layer_norm_names(sd):
    """Checkpoints from the BERT port name LayerNorm parameters gamma/beta; transformers renames them on load."""
    rename = lambda key: key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")  # noqa
    return collections.OrderedDict((rename(key), value) for key, value in sd.items())


# Token ids without a tokenizer: BERT-like [CLS]=2 … [SEP]=3, pad 0; RoBERTa-like <s>=0 … </s>=2, pad 1.
# The last row fills every position the model has (24 tokens).
BODIES = [[11, 25, 7, 30], [17], [5, 9, 12, 39, 21, 8, 14, 33, 6], list(range(4, 26))]
BERT_ROWS = [[2] + body + [3] for body in BODIES]
ROBERTA_ROWS = [[0] + body + [2] for body in BODIES]

DETOXIFY_CLASSES = ["toxic", "severe_toxic", "obscene", "identity_hate"]
DETOXIFY_CONFIG = {
    "name": "Jigsaw_ROBERTA_bias", "n_gpu": 1, "batch_size": 10, "accumulate_grad_batches": 3, "loss_weight": 0.75,
    "num_main_classes": 4,
    "arch": {"type": "ROBERTA", "args": {"num_classes": 6, "model_type": "tiny-roberta-base",
                                         "model_name": "RobertaForSequenceClassification",
                                         "tokenizer_name": "RobertaTokenizer"}},
    "dataset": {"type": "JigsawDataBias", "args": {
        "train_csv_file": "jigsaw_data/jigsaw-unintended-bias-in-toxicity-classification/train.csv",
        "test_csv_file": None, "val_fraction": 0.1, "create_val_set": True, "classes": DETOXIFY_CLASSES}},
    "optimizer": {"type": "Adam", "args": {"lr": 3e-5, "weight_decay": 3e-6, "amsgrad": True}},
}


def main():
    shutil.rmtree(FIXTURES, ignore_errors=True)
    os.makedirs(FIXTURES)

    # 1. Multi-label BERT (problem_type), model.safetensors with the old position_ids buffer: sigmoid per label.
    names = ["toxic", "severe_toxic", "obscene", "insult"]
    cfg = bert_config(problem_type="multi_label_classification", **labels(*names))
    sd = make_state_dict(11, "bert", cfg, len(names))
    folder = save_folder("bert-multilabel", cfg, with_buffers(sd, "bert", cfg), "model.safetensors")
    write_golden("bert-multilabel", sd, "bert", cfg, BERT_ROWS, names, pipeline_activation(cfg), len(names))
    copy_tokenizer("bert-uncased", folder, ["tokenizer.json", "tokenizer_config.json"])
    uncased = lambda text: wordpiece_ids(text, folder, lower=True)  # noqa: E731
    write_text_golden("bert-multilabel", sd, "bert", cfg, uncased, [24, 8], pipeline_activation(cfg), len(names))

    # 2. Two-label BERT without problem_type, pytorch_model.bin with gamma/beta names: softmax over both labels.
    names = ["non-toxic", "toxic"]
    cfg = bert_config(**labels(*names))
    sd = make_state_dict(12, "bert", cfg, len(names))
    folder = save_folder("bert-softmax", cfg, legacy_layer_norm_names(with_buffers(sd, "bert", cfg)), "pytorch_model.bin")
    write_golden("bert-softmax", sd, "bert", cfg, BERT_ROWS, names, pipeline_activation(cfg), len(names))
    copy_tokenizer("bert-cased", folder, ["tokenizer.json", "tokenizer_config.json"])
    cased = lambda text: wordpiece_ids(text, folder, lower=False)  # noqa: E731
    write_text_golden("bert-softmax", sd, "bert", cfg, cased, [24, 8], pipeline_activation(cfg), len(names))

    # 3. RoBERTa, single_label_classification, with the unused pooler a RobertaModel(add_pooling_layer=True) saves.
    names = ["neutral", "offensive", "hate"]
    cfg = roberta_config(problem_type="single_label_classification", **labels(*names))
    sd = make_state_dict(13, "roberta", cfg, len(names))
    saved = with_buffers(sd, "roberta", cfg)
    g = torch.Generator().manual_seed(99)
    saved["roberta.pooler.dense.weight"] = torch.randn(D, D, generator=g)
    saved["roberta.pooler.dense.bias"] = torch.randn(D, generator=g)
    folder = save_folder("roberta", cfg, saved, "model.safetensors")
    write_golden("roberta", sd, "roberta", cfg, ROBERTA_ROWS, names, pipeline_activation(cfg), len(names))
    # vocab.json + merges.txt here (the RobertaTokenizer files); the Detoxify base below gets tokenizer.json.
    copy_tokenizer("roberta", folder, ["vocab.json", "merges.txt"])
    bpe = lambda text: byte_level_bpe_ids(text, folder)  # noqa: E731
    write_text_golden("roberta", sd, "roberta", cfg, bpe, [24, 8], pipeline_activation(cfg), len(names))

    # 4. Detoxify "unbiased" layout: 6 outputs, 4 classes reported (renamed); the base model's config.json apart.
    base = roberta_config(architectures=["RobertaForMaskedLM"])
    os.makedirs(os.path.join(FIXTURES, "detoxify-base"))
    write_config(os.path.join(FIXTURES, "detoxify-base"), base)
    copy_tokenizer("roberta", os.path.join(FIXTURES, "detoxify-base"), ["tokenizer.json"])
    sd = make_state_dict(14, "roberta", base, 6)
    state_dict = with_buffers(sd, "roberta", base)
    g = torch.Generator().manual_seed(98)
    state_dict["roberta.pooler.dense.weight"] = torch.randn(D, D, generator=g)
    state_dict["roberta.pooler.dense.bias"] = torch.randn(D, generator=g)
    state_dict._metadata = collections.OrderedDict([("", {"version": 1}), ("roberta", {"version": 1})])
    torch.save({"state_dict": state_dict, "config": DETOXIFY_CONFIG}, os.path.join(FIXTURES, "detoxify-unbiased.ckpt"))
    loaded = torch.load(os.path.join(FIXTURES, "detoxify-unbiased.ckpt"))  # as Detoxify's load_checkpoint does
    change_names = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}
    class_names = [change_names.get(name, name) for name in loaded["config"]["dataset"]["args"]["classes"]]
    write_golden("detoxify-unbiased", sd, "roberta", base, ROBERTA_ROWS, class_names, "sigmoid", len(class_names))

    # Broken models for the error tests.
    bad = "bad"
    mlm = make_state_dict(15, "bert", bert_config(), 0, head=False, pooler=False)
    g = torch.Generator().manual_seed(97)
    mlm["cls.predictions.bias"] = torch.zeros(VOCAB)
    mlm["cls.predictions.transform.dense.weight"] = torch.randn(D, D, generator=g)
    mlm["cls.predictions.transform.dense.bias"] = torch.zeros(D)
    save_folder(os.path.join(bad, "no-head"), bert_config(architectures=["BertForMaskedLM"]), mlm, "model.safetensors")
    cfg = bert_config(problem_type="multi_label_classification", **labels("toxic", "insult", "threat"))
    save_folder(os.path.join(bad, "label-mismatch"), cfg, make_state_dict(16, "bert", cfg, 2), "model.safetensors")
    lightning = {
        "epoch": 2, "global_step": 300, "pytorch-lightning_version": "1.2.10",
        "state_dict": collections.OrderedDict(("model." + key, value) for key, value in state_dict.items()),
        "callbacks": {}, "optimizer_states": [{"state": {}, "param_groups": [{"lr": 3e-5, "params": [0, 1]}]}],
        "lr_schedulers": [], "hparams_name": "config", "hyper_parameters": {"config": DETOXIFY_CONFIG},
    }
    torch.save(lightning, os.path.join(FIXTURES, bad, "lightning-raw.ckpt"))
    print("wrote", FIXTURES, "and test/golden/classifier-*.safetensors")


if __name__ == "__main__":
    main()
