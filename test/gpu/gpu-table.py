"""Prints the GPU check's one table (markdown) from the files `gpu-check.sh run` left in OUT and its timings."""
import json, os, subprocess, sys

out, demo_cpu, demo_cuda, medium_cold, medium_cuda, medium_cpu = sys.argv[1:7]


def read(name):
    path = os.path.join(out, name)
    return open(path).read() if os.path.exists(path) else ""


def gpu_name():
    try:
        query = ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
        return subprocess.run(query, capture_output=True, text=True, timeout=20).stdout.strip() or "none"
    except (OSError, subprocess.SubprocessError):
        return "none (nvidia-smi not found)"


def library(report, family):
    """A family's most specific file name in the first folder (search order) that has one, as `file (folder)`."""
    found = [entry for entry in (report.get("cuda") or {}).get("libraries", []) if entry["family"] == family]
    if not found:
        return "not found"
    best = max((entry for entry in found if entry["folder"] == found[0]["folder"]), key=lambda entry: len(entry["file"]))
    return f"{best['file']} ({best['folder']})"


def diff_summary(text):
    """compare-diff.py's lines folded into one cell: the largest mean difference and the identical continuations."""
    lines = [line for line in text.splitlines() if "max |diff|" in line or "identical" in line]
    return "; ".join(lines) if lines else "not run (see the log)"


try:
    doctor = json.loads(read("doctor.json") or "{}")
except json.JSONDecodeError:
    doctor = {}
cuda = next((p for p in doctor.get("providers", []) if p["provider"] == "cuda"), None)
provider = (doctor.get("cuda") or {}).get("provider", {})
diagnosis = (doctor.get("cuda") or {}).get("diagnosis") or {}
try:
    torch = json.loads(read("torch.json").strip().splitlines()[-1])
except (json.JSONDecodeError, IndexError):
    torch = {}

rows = [
    ("GPU (nvidia-smi)", gpu_name()),
    ("onnxruntime-node / provider", f"{doctor.get('onnxruntime', '?')} / {provider.get('onnxruntimeVersion', '?')} "
     f"for CUDA {provider.get('cudaMajor', '?')} ({provider.get('source', '?')})"),
    ("CUDA provider loads", "yes" if cuda and cuda["loads"] else f"no: {diagnosis.get('text') or (cuda or {}).get('detail', '?')}"),
    ("CUDA runtime", library(doctor, "cudart")),
    ("cuBLAS / cuBLASLt", f"{library(doctor, 'cublas')} / {library(doctor, 'cublasLt')}"),
    ("cuDNN", library(doctor, "cudnn")),
    ("demo: CPU vs CUDA", diff_summary(read("demo-diff.txt"))),
    ("demo compare, CPU / CUDA", f"{demo_cpu} / {demo_cuda}"),
    ("medium: CPU vs CUDA", diff_summary(read("medium-diff.txt"))),
    ("medium compare, CUDA first use / CUDA / CPU", f"{medium_cold} / {medium_cuda} / {medium_cpu}"),
    ("medium compare, PyTorch CUDA (whole / generation)",
     f"{torch['compareSeconds']:.1f} s / {torch['generationSeconds']:.1f} s" if "compareSeconds" in torch else "failed"),
]
print("| check | result |\n| --- | --- |")
for name, value in rows:
    print(f"| {name} | {value.replace('|', '/')} |")
