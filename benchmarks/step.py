#!/usr/bin/env python3
"""Time one full-batch training step (forward, backward, Adam) of the paper's model.

Each configuration runs in its own process, so its peak resident memory is its own.
For each: median seconds per step, the step's matrix-product FLOPs, the achieved GFLOP/s,
and that rate as a fraction of NumPy's rate on the same products done as plain
whole-array GEMMs with preallocated outputs (measured in the same process).

    python benchmarks/step.py                 # 512 x 512 camera, float32, all four
    python benchmarks/step.py --steps 9 --configs nearest:sine
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CONFIGS = ("nearest:sine", "nearest:leaky_relu", "linear:sine", "linear:leaky_relu")


def step_flops(cfg, P, in_width):
    """Multiply-add FLOPs of one step's matrix products: 3 GEMMs per layer, K corners each."""
    corners = 1 if cfg.blend == "nearest" else 2 ** cfg.in_dims
    widths = [in_width] + [cfg.hidden] * cfg.layers
    dyn = sum(3 * 2 * P * widths[i] * widths[i + 1] * corners for i in range(cfg.layers))
    return dyn + 3 * 2 * P * cfg.hidden * cfg.out_channels


def gemm_seconds(cfg, P, in_width, dtype, xp, sync, repeats=5):
    """Median time of the step's products as whole-array GEMMs into preallocated outputs.

    The same shapes as the step: with linear blending a layer's inner size is N Ci.
    """
    rng = np.random.default_rng(0)
    widths = [in_width] + [cfg.hidden] * cfg.layers + [cfg.out_channels]
    inner = cfg.n_experts if cfg.blend == "linear" else 1
    total = 0.0
    for k, (ci, co) in enumerate(zip(widths[:-1], widths[1:])):
        ci = ci * inner if k < cfg.layers else ci
        x = xp.asarray(rng.standard_normal((P, ci)).astype(dtype))
        g = xp.asarray(rng.standard_normal((P, co)).astype(dtype))
        W = xp.asarray(rng.standard_normal((ci, co)).astype(dtype))
        y, dW, dx = xp.empty((P, co), dtype), xp.empty((ci, co), dtype), xp.empty((P, ci), dtype)
        times = []
        for _ in range(repeats + 1):
            sync()
            t0 = time.perf_counter()
            xp.matmul(x, W, out=y)
            xp.matmul(x.T, g, out=dW)
            xp.matmul(g, W.T, out=dx)
            sync()
            times.append(time.perf_counter() - t0)
        times = times[1:]
        total += float(np.median(times))
    return total


def run_one(spec, size, steps, dtype, device="cpu"):
    from loe_ref.data import image_target, load_image
    from loe_ref.grids import pixel_coords
    from loe_ref.losses import mse_backward, mse_forward
    from loe_ref.network import Config, backward, forward, init_params, plan_for
    from loe_ref.optim import Adam
    from loe_ref.backend import get_xp

    xp = get_xp(device)
    sync = xp.cuda.Device().synchronize if device == "gpu" else (lambda: None)

    blend, act = spec.split(":")
    cfg = Config(blend=blend, act=act)
    img = load_image("camera")
    if img.shape != (size, size):
        from skimage.transform import resize
        img = resize(img, (size, size), order=1)
    target = xp.asarray(image_target(img).astype(dtype))
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    params = {k: xp.asarray(v.astype(dtype)) for k, v in init_params(cfg, 0).items()}
    plan = plan_for(cfg, xp.asarray(pixel_coords(img.shape)), dtype)
    opt = Adam(params, lr=1e-4)
    times = []
    for i in range(steps + 2):
        sync()
        t0 = time.perf_counter()
        pred, cache = forward(params, plan, cfg)
        loss, lc = mse_forward(pred, target)
        grads = backward(mse_backward(lc), cache, cfg)
        del cache, pred
        opt.step(params, grads)
        sync()
        times.append(time.perf_counter() - t0)
        del grads
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    P = target.shape[0]
    flops = step_flops(cfg, P, 2)
    ref = gemm_seconds(cfg, P, 2, dtype, xp, sync)
    med = float(np.median(times[2:]))
    return {"config": spec, "device": device, "size": size, "dtype": np.dtype(dtype).name, "steps": steps,
            "median_s": round(med, 4), "min_s": round(min(times[2:]), 4),
            "gflop": round(flops / 1e9, 2), "gflops_achieved": round(flops / med / 1e9, 1),
            "gflops_gemm": round(flops / ref / 1e9, 1), "fraction_of_gemm": round(ref / med, 3),
            "peak_rss_gib": round(peak / 2 ** 20, 3), "rss_before_model_gib": round(base_rss / 2 ** 20, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=512, help="image side (default 512)")
    ap.add_argument("--steps", type=int, default=7, help="timed steps after 2 warm-up steps (default 7)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--configs", default=",".join(CONFIGS), help="blend:act list (default all four)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"], help="cpu (NumPy) or gpu (CuPy)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the records to this file")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.size, args.steps, np.dtype(args.dtype), args.device)))
        return
    records = []
    print(f"{'config':22s} {'median s':>9s} {'GFLOP':>7s} {'GFLOP/s':>8s} {'GEMM GFLOP/s':>13s} "
          f"{'fraction':>9s} {'peak GiB':>9s}")
    for spec in args.configs.split(","):
        out = subprocess.run([sys.executable, __file__, "--one", spec, "--size", str(args.size),
                              "--steps", str(args.steps), "--dtype", args.dtype, "--device", args.device],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        records.append(r)
        print(f"{spec:22s} {r['median_s']:9.3f} {r['gflop']:7.1f} {r['gflops_achieved']:8.1f} "
              f"{r['gflops_gemm']:13.1f} {r['fraction_of_gemm']:9.2f} {r['peak_rss_gib']:9.2f}", flush=True)
    if args.json:
        from loe_ref.outputs import write_json
        write_json(args.json, records)


if __name__ == "__main__":
    main()
