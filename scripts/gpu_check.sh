#!/usr/bin/env bash
# The GPU check in one command, on a bare GPU machine without network, within one
# 10-minute call (its parts' limits add up to 550 s, kernel compilation included): the
# tests' GPU variants and the whole run on the device, the training-step benchmark on the
# GPU against the same step on the CPU, a sound's step on the GPU, the paper's command, and the GPU's GEMM rate
# through PyTorch where PyTorch with CUDA is present. Ends with one PASS or FAIL line;
# exits non-zero when any part failed.
#
# First it checks what is importable. Packages missing on the GPU machine are installed
# from wheels in .whl/ (ignored by git) when they are there; otherwise the check stops and
# prints the one command that downloads them for that machine's Python, to be run on a
# machine with network and carried over in .whl/.
# Writes two files under ${OUT:-gpu_check}: gpu_check.log and gpu_check.json (every part's
# status and seconds, the benchmarks' records and the paper's command's summary).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_check}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
exec > >(tee "$out/gpu_check.log") 2>&1

py=${PYTHON:-python3}
failed=()

missing() {
    "$py" - <<'PY'
import importlib.util
need = {"numpy": "numpy", "cupy": "cupy-cuda12x", "pytest": "pytest", "hypothesis": "hypothesis",
        "skimage": "scikit-image", "threadpoolctl": "threadpoolctl", "matplotlib": "matplotlib"}
print(" ".join(pkg for mod, pkg in need.items() if importlib.util.find_spec(mod) is None))
PY
}

lacking=$(missing)
if [ -n "$lacking" ] && [ -d .whl ]; then
    echo "installing from .whl/: $lacking"
    "$py" -m pip install -q --no-index --find-links .whl $lacking
    lacking=$(missing)
fi
if [ -n "$lacking" ]; then
    pyver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    echo "missing on this machine (Python $pyver): $lacking. On a machine with network, run"
    echo "  python3 -m pip download --only-binary=:all: --python-version $pyver --platform manylinux2014_x86_64 -d .whl $lacking"
    echo "and carry .whl/ to this machine (it is ignored by git: name it in the device tool's carry)."
    echo "FAIL: missing packages: $lacking"
    exit 2
fi

part() {          # part NAME SECONDS COMMAND...: run one part, remember a failure and its time
    local name=$1 limit=$2 start=$SECONDS status=ok
    shift 2
    echo "== $name"
    if ! timeout "$limit" "$@"; then
        echo "-- $name FAILED"
        failed+=("$name")
        status=failed
    fi
    printf '%s\t%s\t%s\n' "$name" "$status" "$((SECONDS - start))" >> "$work/parts.tsv"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || failed+=("nvidia-smi")
"$py" -c "import cupy; print('cupy', cupy.__version__, 'devices', cupy.cuda.runtime.getDeviceCount())" \
    || failed+=("cupy import")

part "tests: the GPU variants and the whole run on the device" 180 \
    "$py" -m pytest -q -p no:cacheprovider -k "gpu or device" tests
part "training step on the GPU, batch 4096, 512 x 512 camera, float32" 90 \
    "$py" benchmarks/step.py --device gpu --batch 4096 --rounds 5 --steps 50 --json "$work/step_gpu.json"
part "full-image training step on the GPU" 60 \
    "$py" benchmarks/step.py --device gpu --batch 0 --rounds 3 --steps 5 --json "$work/step_gpu_full.json"
part "the same step on the CPU (NumPy), for the ratio" 60 \
    "$py" benchmarks/step.py --batch 4096 --rounds 2 --steps 10 --json "$work/step_cpu.json"
part "a sound's training step on the GPU (chirp, d = 1), batch 4096" 40 \
    "$py" benchmarks/step.py --device gpu --signal chirp --batch 4096 --rounds 3 --steps 20 --json "$work/step_gpu_sound.json"
part "python run.py --grid quadtree --act sine --device gpu" 90 \
    "$py" run.py --grid quadtree --act sine --device gpu --quiet --out "$work/run"

if "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    part "PyTorch on the same GPU: float32 GEMM rate on the step's shapes" 30 "$py" - <<'PY'
import time, torch
P, H = 512 * 512, 64
x, W, g = (torch.randn(P, H, device="cuda"), torch.randn(H, H, device="cuda"), torch.randn(P, H, device="cuda"))
for _ in range(3):
    x @ W
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(100):
    x @ W; x.T @ g; g @ W.T
torch.cuda.synchronize()
print(f"torch GEMM rate {100 * 3 * 2 * P * H * H / (time.perf_counter() - t) / 1e9:.0f} GFLOP/s")
PY
fi

"$py" - "$work" "$out/gpu_check.json" <<'PY'
import json, os, sys
work, target = sys.argv[1], sys.argv[2]
def load(name):
    path = os.path.join(work, name)
    return json.load(open(path)) if os.path.exists(path) else None
parts = [dict(zip(("part", "status", "seconds"), line.rstrip("\n").split("\t")))
         for line in open(os.path.join(work, "parts.tsv"))] if os.path.exists(os.path.join(work, "parts.tsv")) else []
record = {"parts": parts, "step_gpu": load("step_gpu.json"), "step_gpu_full": load("step_gpu_full.json"),
          "step_cpu": load("step_cpu.json"), "step_gpu_sound": load("step_gpu_sound.json"),
          "run_quadtree_sine_gpu": load("run/summary.json")}
json.dump(record, open(target, "w"), indent=2, sort_keys=True)
PY
if [ ${#failed[@]} -eq 0 ]; then
    echo "PASS: every part of the GPU check succeeded (log: $out/gpu_check.log, results: $out/gpu_check.json)"
    exit 0
fi
echo "FAIL: ${failed[*]} (log: $out/gpu_check.log, results: $out/gpu_check.json)"
exit 1
