#!/usr/bin/env bash
# The GPU check, in one command (under 8 minutes, no network): the test suite on CuPy,
# the training-step benchmark on the GPU, a short fit with the paper's command, and, when
# PyTorch with CUDA is present, the GEMM rate of the GPU through PyTorch for a ratio.
#
# Where scikit-image or threadpoolctl is missing on the GPU machine (no network there),
# download wheels here first and let them travel in .whl/:
#   python3 -m pip download --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#       -d .whl scikit-image scipy tifffile threadpoolctl
# Writes its log and results under ${OUT:-gpu_check}.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_check}
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1

python3 -c "import skimage" 2>/dev/null || python3 -m pip install -q --no-index --find-links .whl scikit-image threadpoolctl
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import cupy; print('cupy', cupy.__version__, 'devices', cupy.cuda.runtime.getDeviceCount())"

echo "== tests on both backends"
timeout 300 python3 -m pytest -q -p no:cacheprovider

echo "== training step on the GPU, 512 x 512 camera, float32"
timeout 180 python3 benchmarks/step.py --device gpu --steps 20 --json "$out/step_gpu.json"

echo "== python run.py --grid quadtree --act sine --device gpu"
timeout 120 python3 run.py --grid quadtree --act sine --device gpu --iters 300 --eval-every 50 --quiet \
    --out "$out/run_quadtree_sine_gpu"

if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    echo "== PyTorch on the same GPU: float32 GEMM rate on the step's shapes"
    timeout 60 python3 - <<'PY'
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
