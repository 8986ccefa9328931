"""GPT-2, Llama and BART as small PyTorch modules whose state dicts use Hugging Face's key names and layouts, so the
demo checkpoints load in ToxScope exactly as users' checkpoints do."""
import math

import torch
from torch import nn


class Conv1D(nn.Module):
    """GPT-2's linear layer: weight stored [in, out], y = x·W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Gpt2Block(nn.Module):
    def __init__(self, d, heads, d_mlp):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.Module()
        self.attn.c_attn = Conv1D(d, 3 * d)
        self.attn.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(d, d_mlp)
        self.mlp.c_proj = Conv1D(d_mlp, d)

    def forward(self, x, visible):
        b, t, d = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(d, dim=2)
        split = lambda z: z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        scores = scores.masked_fill(~visible, torch.finfo(scores.dtype).min)
        x = x + self.attn.c_proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.mlp.c_proj(gelu_new(self.mlp.c_fc(self.ln_2(x))))


class Gpt2(nn.Module):
    def __init__(self, vocab, d=128, layers=4, heads=4, d_mlp=512, n_ctx=128):
        super().__init__()
        self.config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": vocab, "n_positions": n_ctx, "n_embd": d,
                       "n_layer": layers, "n_head": heads, "n_inner": d_mlp, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
                       "bos_token_id": vocab - 1, "eos_token_id": vocab - 1}
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(n_ctx, d)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        self.h = nn.ModuleList(Gpt2Block(d, heads, d_mlp) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, ids, mask=None, residual=False):
        """ids [b, t] left-padded; mask [b, t] (1 = real). Returns logits [b, t, V] (or the last residual)."""
        if mask is None:
            mask = torch.ones_like(ids)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        x = self.wte(ids) + self.wpe(positions)
        t = ids.shape[1]
        visible = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()[None, None] & mask.bool()[:, None, None, :]
        for block in self.h:
            x = block(x, visible)
        if residual:
            return x
        return self.ln_f(x) @ self.wte.weight.T

    def next_token_logits(self, ids, mask):
        """[b, V]. All positions' logits, then the last: how the shipped GPT-2 demo was trained (unembedding only the
        last position rounds differently in float32, so it would not reproduce those files)."""
        return self(ids, mask)[:, -1]

    def state_dict_hf(self):
        return {k: v.detach().contiguous() for k, v in self.state_dict().items()}


class RmsNorm(nn.Module):
    """Llama's RMSNorm: x / sqrt(mean(x²) + eps) · w, no mean subtraction and no bias."""

    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    """Hugging Face's rotary pairing: dimension i turns with dimension i + d_head/2 (not GPT-J's (2i, 2i+1))."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def linear(n_in, n_out):
    layer = nn.Linear(n_in, n_out, bias=False)  # weight [out, in], as Hugging Face stores it
    nn.init.normal_(layer.weight, std=0.02)
    return layer


class LlamaBlock(nn.Module):
    def __init__(self, d, heads, kv_heads, d_mlp, eps):
        super().__init__()
        self.heads, self.kv_heads, self.d_head = heads, kv_heads, d // heads
        self.input_layernorm = RmsNorm(d, eps)
        self.self_attn = nn.Module()
        self.self_attn.q_proj = linear(d, heads * self.d_head)
        self.self_attn.k_proj = linear(d, kv_heads * self.d_head)
        self.self_attn.v_proj = linear(d, kv_heads * self.d_head)
        self.self_attn.o_proj = linear(heads * self.d_head, d)
        self.post_attention_layernorm = RmsNorm(d, eps)  # Llama's name for the norm before the MLP
        self.mlp = nn.Module()
        self.mlp.gate_proj = linear(d, d_mlp)
        self.mlp.up_proj = linear(d, d_mlp)
        self.mlp.down_proj = linear(d_mlp, d)

    def forward(self, x, cos, sin, visible):
        """x [b, t, d]; cos, sin [b, 1, t, d_head]; visible [b, 1, t, t]."""
        b, t, _ = x.shape
        attn = self.self_attn
        h = self.input_layernorm(x)
        q = attn.q_proj(h).view(b, t, self.heads, self.d_head).transpose(1, 2)  # [b, heads, t, d_head]
        k = attn.k_proj(h).view(b, t, self.kv_heads, self.d_head).transpose(1, 2)  # [b, kv_heads, t, d_head]
        v = attn.v_proj(h).view(b, t, self.kv_heads, self.d_head).transpose(1, 2)  # [b, kv_heads, t, d_head]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        # Grouped-query attention (repeat_kv): query head h reads key/value head h // (heads / kv_heads).
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)  # [b, heads, t, d_head]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.d_head)
        scores = scores.masked_fill(~visible, torch.finfo(scores.dtype).min)
        x = x + attn.o_proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, self.heads * self.d_head))
        h = self.post_attention_layernorm(x)
        return x + self.mlp.down_proj(nn.functional.silu(self.mlp.gate_proj(h)) * self.mlp.up_proj(h))


class Llama(nn.Module):
    """LlamaForCausalLM's parameters under `model.`: GQA, SiLU-gated MLP, RMSNorm, rotary positions. The unembedding
    is the token embedding (tie_word_embeddings, as Llama-3.2-1B), which keeps the demo at GPT-2's size."""

    def __init__(self, vocab, d=128, layers=4, heads=4, kv_heads=2, d_mlp=384, n_ctx=128, eps=1e-5, theta=10000.0):
        super().__init__()
        d_head = d // heads
        self.config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": vocab, "hidden_size": d,
                       "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
                       "head_dim": d_head, "intermediate_size": d_mlp, "hidden_act": "silu", "max_position_embeddings": n_ctx,
                       "rms_norm_eps": eps, "rope_theta": theta, "rope_scaling": None, "attention_bias": False, "mlp_bias": False,
                       "tie_word_embeddings": True, "bos_token_id": vocab - 1, "eos_token_id": vocab - 1, "torch_dtype": "float32"}
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(vocab, d)
        nn.init.normal_(self.model.embed_tokens.weight, std=0.02)
        self.model.layers = nn.ModuleList(LlamaBlock(d, heads, kv_heads, d_mlp, eps) for _ in range(layers))
        self.model.norm = RmsNorm(d, eps)
        # Not saved: Hugging Face recomputes it from rope_theta and head_dim.
        self.register_buffer("inv_freq", 1.0 / theta ** (torch.arange(0, d_head, 2).float() / d_head), persistent=False)

    def forward(self, ids, mask=None, residual=False):
        """ids [b, t] left-padded; mask [b, t] (1 = real). Returns logits [b, t, V] (or the last residual)."""
        if mask is None:
            mask = torch.ones_like(ids)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # [b, t], as generate() computes position_ids
        freqs = positions[..., None].float() * self.inv_freq  # [b, t, d_head / 2]
        angles = torch.cat((freqs, freqs), dim=-1)[:, None]  # [b, 1, t, d_head]
        cos, sin = angles.cos(), angles.sin()
        t = ids.shape[1]
        visible = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()[None, None] & mask.bool()[:, None, None, :]
        x = self.model.embed_tokens(ids)
        for block in self.model.layers:
            x = block(x, cos, sin, visible)
        if residual:
            return x
        return self.model.norm(x) @ self.model.embed_tokens.weight.T

    def next_token_logits(self, ids, mask):
        """[b, V]: only the last position is unembedded (most of a step's work at this size otherwise)."""
        return self.model.norm(self(ids, mask, residual=True)[:, -1]) @ self.model.embed_tokens.weight.T

    def state_dict_hf(self):
        return {k: v.detach().contiguous() for k, v in self.state_dict().items()}


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, memory, visible):
        b, t, d = x.shape
        split = lambda z: z.view(b, z.shape[1], self.heads, d // self.heads).transpose(1, 2)
        q = split(self.q_proj(x) * (d // self.heads) ** -0.5)
        k, v = split(self.k_proj(memory)), split(self.v_proj(memory))
        scores = (q @ k.transpose(-1, -2)).masked_fill(~visible, torch.finfo(x.dtype).min)
        return self.out_proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))


class BartLayer(nn.Module):
    def __init__(self, d, heads, ffn, decoder):
        super().__init__()
        self.self_attn = Attention(d, heads)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        if decoder:
            self.encoder_attn = Attention(d, heads)
            self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, x, visible, memory=None, memory_visible=None):
        x = self.self_attn_layer_norm(x + self.self_attn(x, x, visible))
        if memory is not None:
            x = self.encoder_attn_layer_norm(x + self.encoder_attn(x, memory, memory_visible))
        return self.final_layer_norm(x + self.fc2(nn.functional.gelu(self.fc1(x))))


class BartStack(nn.Module):
    def __init__(self, d, heads, ffn, layers, positions, decoder):
        super().__init__()
        self.embed_positions = nn.Embedding(positions + 2, d)
        nn.init.normal_(self.embed_positions.weight, std=0.01)
        self.layernorm_embedding = nn.LayerNorm(d)
        self.layers = nn.ModuleList(BartLayer(d, heads, ffn, decoder) for _ in range(layers))


class Bart(nn.Module):
    """BartForConditionalGeneration's parameters under `model.`, the tied lm_head, and final_logits_bias."""

    def __init__(self, vocab, d=128, layers=2, heads=4, ffn=512, positions=128):
        super().__init__()
        self.config = {"model_type": "bart", "architectures": ["BartForConditionalGeneration"], "vocab_size": vocab, "d_model": d,
                       "encoder_layers": layers, "decoder_layers": layers, "encoder_attention_heads": heads, "decoder_attention_heads": heads,
                       "encoder_ffn_dim": ffn, "decoder_ffn_dim": ffn, "max_position_embeddings": positions, "activation_function": "gelu",
                       "scale_embedding": False, "normalize_before": False, "add_final_layer_norm": False, "bos_token_id": 0,
                       "pad_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 2, "forced_eos_token_id": 2}
        self.model = nn.Module()
        self.model.shared = nn.Embedding(vocab, d)
        nn.init.normal_(self.model.shared.weight, std=0.02)
        self.model.encoder = BartStack(d, heads, ffn, layers, positions, False)
        self.model.decoder = BartStack(d, heads, ffn, layers, positions, True)
        self.register_buffer("final_logits_bias", torch.zeros(1, vocab))

    def encode(self, ids, mask):
        enc = self.model.encoder
        x = enc.layernorm_embedding(self.model.shared(ids) + enc.embed_positions(torch.arange(ids.shape[1]) + 2))
        visible = mask.bool()[:, None, None, :]
        for layer in enc.layers:
            x = layer(x, visible)
        return x, visible

    def decode(self, decoder_ids, memory, memory_visible):
        dec = self.model.decoder
        t = decoder_ids.shape[1]
        y = dec.layernorm_embedding(self.model.shared(decoder_ids) + dec.embed_positions(torch.arange(t) + 2))
        causal = torch.ones(t, t, dtype=torch.bool).tril()[None, None]
        for layer in dec.layers:
            y = layer(y, causal, memory, memory_visible)
        return y @ self.model.shared.weight.T + self.final_logits_bias

    def forward(self, ids, mask, decoder_ids):
        memory, visible = self.encode(ids, mask)
        return self.decode(decoder_ids, memory, visible)

    def state_dict_hf(self):
        sd = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        return sd
