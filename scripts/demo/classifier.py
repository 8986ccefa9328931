"""The demo toxicity classifier (issue 15 §6): a small RobertaForSequenceClassification in eval-mode Hugging Face
semantics (post-LN encoder, exact GELU, position ids from pad_token_id + 1 skipping padding, head dense → tanh →
out_proj on <s>), trained on the demo's training texts with the BART demo's byte-level BPE tokenizer, and scored on
the held-out test files by ROC-AUC. Used by train_demo.py; its state dict has Hugging Face's key names."""
import math
import random

import torch
from torch import nn

MAX_LENGTH = 64  # tokens per training text, <s> and </s> included (truncated as tokenizer(..., truncation=True) does)


class Layer(nn.Module):
    def __init__(self, d, heads, d_mlp, eps):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.attention_out = nn.Linear(d, d)
        self.attention_norm = nn.LayerNorm(d, eps=eps)
        self.intermediate = nn.Linear(d, d_mlp)
        self.output = nn.Linear(d_mlp, d)
        self.output_norm = nn.LayerNorm(d, eps=eps)

    def forward(self, x, bias):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731  [b, heads, t, d_head]
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + bias  # [b, heads, t, t]
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = self.attention_norm(x + self.attention_out(attended))
        return self.output_norm(x + self.output(nn.functional.gelu(self.intermediate(x))))


class RobertaClassifier(nn.Module):
    def __init__(self, vocab, labels, d=128, layers=2, heads=4, d_mlp=512, positions=MAX_LENGTH + 2, pad=1):
        super().__init__()
        eps = 1e-5
        self.pad = pad
        self.word = nn.Embedding(vocab, d)
        self.position = nn.Embedding(positions, d)
        self.token_type = nn.Embedding(1, d)
        self.embedding_norm = nn.LayerNorm(d, eps=eps)
        self.layers = nn.ModuleList(Layer(d, heads, d_mlp, eps) for _ in range(layers))
        self.dense = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, len(labels))
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
        self.config = {
            "architectures": ["RobertaForSequenceClassification"], "model_type": "roberta", "vocab_size": vocab,
            "hidden_size": d, "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": d_mlp,
            "hidden_act": "gelu", "max_position_embeddings": positions, "type_vocab_size": 1, "layer_norm_eps": eps,
            "pad_token_id": pad, "bos_token_id": 0, "eos_token_id": 2, "problem_type": "multi_label_classification",
            "id2label": {str(i): name for i, name in enumerate(labels)},
            "label2id": {name: i for i, name in enumerate(labels)},
        }

    def forward(self, ids, mask):
        positions = torch.cumsum(mask, 1) * mask + self.pad  # RoBERTa: from pad + 1, padding stays at pad
        x = self.embedding_norm(self.word(ids) + self.position(positions) + self.token_type(torch.zeros_like(ids)))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min  # [b, 1, 1, t]
        for layer in self.layers:
            x = layer(x, bias)
        return self.out_proj(torch.tanh(self.dense(x[:, 0])))  # [b, labels]

    def state_dict_hf(self):
        p, sd = "roberta.", {}
        sd[p + "embeddings.word_embeddings.weight"] = self.word.weight
        sd[p + "embeddings.position_embeddings.weight"] = self.position.weight
        sd[p + "embeddings.token_type_embeddings.weight"] = self.token_type.weight
        sd[p + "embeddings.LayerNorm.weight"] = self.embedding_norm.weight
        sd[p + "embeddings.LayerNorm.bias"] = self.embedding_norm.bias
        for i, layer in enumerate(self.layers):
            q = f"{p}encoder.layer.{i}."
            for name, module in [("attention.self.query", layer.query), ("attention.self.key", layer.key),
                                 ("attention.self.value", layer.value), ("attention.output.dense", layer.attention_out),
                                 ("attention.output.LayerNorm", layer.attention_norm),
                                 ("intermediate.dense", layer.intermediate), ("output.dense", layer.output),
                                 ("output.LayerNorm", layer.output_norm)]:
                sd[q + name + ".weight"] = module.weight
                sd[q + name + ".bias"] = module.bias
        for name, module in [("classifier.dense", self.dense), ("classifier.out_proj", self.out_proj)]:
            sd[name + ".weight"] = module.weight
            sd[name + ".bias"] = module.bias
        return {key: value.detach() for key, value in sd.items()}


def encode(tok, text):
    """<s> … </s>, truncated to MAX_LENGTH keeping the final separator."""
    ids = [0] + tok.encode(text) + [2]
    return ids if len(ids) <= MAX_LENGTH else ids[: MAX_LENGTH - 1] + [2]


def batches(rows, size, pad=1):
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in chunk])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in chunk])
        yield ids, mask, torch.tensor([[label] for _, label in chunk], dtype=torch.float32)


def roc_auc(scores, labels):
    """Probability that a random toxic text scores above a random clean one (ties count half)."""
    ranked = sorted(zip(scores, labels))
    positives = sum(labels)
    negatives = len(labels) - positives
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        rank_sum += sum(label for _, label in ranked[i:j]) * (i + j + 1) / 2  # mean 1-based rank of the tie group
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def score(model, tok, texts, batch=64):
    model.eval()
    out = []
    with torch.no_grad():
        for ids, mask, _ in batches([(encode(tok, text), 0) for text in texts], batch):
            out += torch.sigmoid(model(ids, mask))[:, 0].tolist()
    return out


def train_classifier(tok, toxic, nontoxic, held_toxic, held_clean, log, epochs=4, lr=5e-4, batch=32):
    """Trains on the training texts only; returns the model and its held-out ROC-AUC and accuracy."""
    model = RobertaClassifier(len(tok.vocab), ["toxicity"])
    rows = [(encode(tok, text), 1.0) for text in toxic] + [(encode(tok, text), 0.0) for text in nontoxic]
    weight = torch.tensor([len(nontoxic) / len(toxic)])  # balance the classes
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(rows) / batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.1)
    rng = random.Random(0)
    for epoch in range(epochs):
        model.train()
        rng.shuffle(rows)
        total = 0.0
        for ids, mask, labels in batches(rows, batch):
            loss = nn.functional.binary_cross_entropy_with_logits(model(ids, mask), labels, pos_weight=weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss) * len(ids)
        log("classifier_epoch", epoch=epoch, loss=total / len(rows))
    scores = score(model, tok, held_toxic + held_clean)
    labels = [1] * len(held_toxic) + [0] * len(held_clean)
    auc = roc_auc(scores, labels)
    accuracy = sum((s > 0.5) == bool(y) for s, y in zip(scores, labels)) / len(labels)
    log("classifier", held_out_roc_auc=auc, held_out_accuracy=accuracy, held_toxic=len(held_toxic),
        held_clean=len(held_clean), parameters=sum(p.numel() for p in model.parameters()))
    return model, auc, accuracy
