"""Compares two compare-output folders (CPU against GPU): neuron means, Δ, the reductions and the continuations."""
import csv, json, sys
a, b = sys.argv[1], sys.argv[2]
rows = lambda d: list(csv.DictReader(open(f"{d}/neurons.csv")))
ra, rb = rows(a), rows(b)
for column in ("mean_act_pre", "mean_act_dpo", "delta"):
    diff = max(abs(float(x[column]) - float(y[column])) for x, y in zip(ra, rb))
    scale = max(abs(float(x[column])) for x in ra)
    print(f"{column}: max |diff| {diff:.3g} (max |value| {scale:.3g})")
sa, sb = (json.load(open(f"{d}/summary.json")) for d in (a, b))
for key in ("netReduction", "grossReduction"):
    print(f"{key}: {sa[key]:.6g} vs {sb[key]:.6g}")
ga, gb = ([json.loads(line) for line in open(f"{d}/generations.jsonl")] for d in (a, b))
same = sum(x["base"] == y["base"] for x, y in zip(ga, gb)) + sum(x["dpo"] == y["dpo"] for x, y in zip(ga, gb))
print(f"identical continuations: {same} of {2 * len(ga)}")
print("devices:", json.load(open(f"{a}/manifest.json"))["device"], json.load(open(f"{b}/manifest.json"))["device"])
