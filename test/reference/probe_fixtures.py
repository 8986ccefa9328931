"""Writes the same 8-dimensional probe in every format `toxscope` accepts (spec cli.md §5), with real torch.save and
numpy.save, so the loader is tested on files those libraries made.
Regenerate (reviewed change):  /usr/bin/python3 test/reference/probe_fixtures.py
"""
import json
import os

import numpy
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "probes")
os.makedirs(OUT, exist_ok=True)
w = torch.tensor([0.5, -0.2, 0.1, 0.9, -0.4, 0.3, 0.2, -0.7])
torch.save(w, os.path.join(OUT, "vector.pt"))                       # [d]
torch.save(w.unsqueeze(0), os.path.join(OUT, "row.pt"))             # [1, d], sklearn coef_ (Yang et al.)
torch.save(torch.stack([-w, w], dim=1), os.path.join(OUT, "two-columns.pt"))  # [d, 2], column 1 = toxic (Lee et al.)
torch.save({"weight": w}, os.path.join(OUT, "state-dict.pt"))        # a one-tensor state dict
numpy.save(os.path.join(OUT, "vector.npy"), w.numpy().astype(numpy.float64))
with open(os.path.join(OUT, "vector.json"), "w") as f:
    json.dump(w.tolist(), f)
print("wrote", OUT)
