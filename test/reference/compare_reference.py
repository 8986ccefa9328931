"""Independent reference for `toxscope compare` (spec dpo-neurons.md §4–5), in PyTorch/NumPy on the tiny fixtures:
each model greedily continues each prompt one sequence at a time (no batching, no padding, no KV cache), the last
position's hook_post of each of the 20 forward passes is averaged, then s, cos, P, Δ, the groups and their shares.

Regenerate (reviewed change):  /usr/bin/python3 test/reference/compare_reference.py
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_reference as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "fixtures")
FORMAT_VERSION = "1"
REGENERATE = "/usr/bin/python3 test/reference/compare_reference.py"
BOS = 50256
MAX_PROMPT, NEW_TOKENS = 32, 20


def load_dpo_state():
    checkpoint = torch.load(os.path.join(FIXTURES, "gpt2-tiny", "dpo.pt"))
    return {k[len("transformer."):]: v for k, v in checkpoint["state"].items() if k.startswith("transformer.")}


def collect(sd, prompts, unit):
    layers = ref.CONFIG["n_layer"]
    sums = torch.zeros(layers, ref.CONFIG["n_inner"], dtype=torch.float64)
    out_projection = torch.zeros(layers, dtype=torch.float64)
    out_mean = torch.zeros(layers, dtype=torch.float64)
    positions = 0
    for prompt in prompts:
        ids = [BOS] + prompt[:MAX_PROMPT]
        for _ in range(NEW_TOKENS):
            hooks = ref.forward(sd, torch.tensor([ids]))
            for layer in range(layers):
                sums[layer] += hooks[f"blocks.{layer}.mlp.hook_post"][0, -1].double()
                out = hooks[f"blocks.{layer}.hook_mlp_out"][0, -1].double()
                out_projection[layer] += out @ unit
                out_mean[layer] += out.mean()
            positions += 1
            ids.append(int(hooks["logits"][0, -1].argmax()))
    return sums / positions, out_projection / positions, out_mean / positions, positions


def static(sd, unit, center):
    layers = ref.CONFIG["n_layer"]
    s, cos, bias = [], [], []
    for layer in range(layers):
        w_out = sd[f"h.{layer}.mlp.c_proj.weight"].double()  # [d_mlp, d_model]
        b_out = sd[f"h.{layer}.mlp.c_proj.bias"].double()
        if center:
            w_out = w_out - w_out.mean(dim=1, keepdim=True)
            b_out = b_out - b_out.mean()
        s.append(w_out @ unit)
        cos.append((w_out @ unit) / w_out.norm(dim=1))
        bias.append(b_out @ unit)
    return torch.stack(s), torch.stack(cos), torch.stack(bias)


def group_v1(c, m, dm):
    if c == 0 or dm == 0:
        return ""
    if c > 0:
        return ("TP-" if dm > 0 else "TP+") if m >= 0 else ("TN+" if dm > 0 else "TN-")
    return ("AP-" if dm > 0 else "AP+") if m >= 0 else ("AN+" if dm > 0 else "AN-")


def group_v3(c, m, delta):
    if not delta > 0:
        return ""
    if c > 0:
        return "TP↓" if m > 0 else "TN↓"
    return "AP↓" if m > 0 else "AN↓"


def main():
    probe = torch.tensor(json.load(open(os.path.join(FIXTURES, "compare", "probe8.json"))), dtype=torch.float64)
    unit = probe / probe.norm()
    prompts = json.load(open(os.path.join(FIXTURES, "compare", "prompt-ids.json")))
    base = ref.make_state_dict(1234)
    dpo = load_dpo_state()
    golden = {"format_version": FORMAT_VERSION, "regenerate": REGENERATE, "torch": torch.__version__}
    m_pre, l_pre, mean_pre, positions = collect(base, prompts, unit)
    m_dpo, l_dpo, mean_dpo, _ = collect(dpo, prompts, unit)
    for processing in ("none", "center"):
        center = processing == "center"
        s_pre, cos_pre, b_pre = static(base, unit, center)
        s_dpo, cos_dpo, b_dpo = static(dpo, unit, center)
        p_pre, p_dpo = m_pre * s_pre, m_dpo * s_dpo
        delta = p_pre - p_dpo
        dm = m_pre - m_dpo
        groups1 = [group_v1(float(c), float(m), float(d)) for c, m, d in zip(cos_pre.flatten(), m_pre.flatten(), dm.flatten())]
        groups3 = [group_v3(float(c), float(m), float(d)) for c, m, d in zip(cos_pre.flatten(), m_pre.flatten(), delta.flatten())]
        flat = delta.flatten()
        sums = {g: float(sum(float(flat[i]) for i, x in enumerate(groups1) if x == g)) for g in ["TP-", "TN+", "AP+", "AN-", "TP+", "TN-", "AP-", "AN+"]}
        reduction = sum(sums[g] for g in ["TP-", "TN+", "AP+", "AN-"])
        gross = float(flat[flat > 0].sum())
        unit_sum = float(unit.sum())
        layer_pre = (l_pre - (mean_pre * unit_sum if center else 0)).tolist()
        layer_dpo = (l_dpo - (mean_dpo * unit_sum if center else 0)).tolist()
        golden[processing] = {
            "s_pre": s_pre.flatten().tolist(), "cos_pre": cos_pre.flatten().tolist(),
            "s_dpo": s_dpo.flatten().tolist(), "cos_dpo": cos_dpo.flatten().tolist(),
            "mean_act_pre": m_pre.flatten().tolist(), "mean_act_dpo": m_dpo.flatten().tolist(),
            "delta": flat.tolist(), "group": groups1, "group_v3": groups3,
            "grossReduction": gross, "netReduction": float(flat.sum()),
            "shareV1": {g: sums[g] / reduction for g in ["TP-", "TN+", "AP+", "AN-"]},
            "layerProjectionPre": layer_pre, "layerProjectionDpo": layer_dpo,
            "biasPre": b_pre.tolist(),
        }
    golden["positions"] = positions
    with open(os.path.join(ROOT, "golden", "compare-tiny.json"), "w") as f:
        json.dump(golden, f)
    print("wrote test/golden/compare-tiny.json")


if __name__ == "__main__":
    main()
