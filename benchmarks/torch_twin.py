#!/usr/bin/env python3
"""Optional side-by-side with a PyTorch twin of the same model (PyTorch is never a dependency).

1. float64: the same parameters and coordinates through loe_ref (hand-written backward)
   and through the twin (autograd): loss and every gradient must agree to 1e-8 relative.
2. float32 timing: full-batch steps (forward, backward, Adam) of both on the 512 x 512
   camera image, interleaved one by one; the median of each and their ratio.

    pip install torch   # only for this script
    python benchmarks/torch_twin.py --steps 7
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from loe_ref.blending import blend_forward, dense_coefficients   # noqa: E402
from loe_ref.data import image_target, load_image                # noqa: E402
from loe_ref.grids import pixel_coords                           # noqa: E402
from loe_ref.losses import mse_backward, mse_forward             # noqa: E402
from loe_ref.network import Config, backward, forward, init_params, plan_for   # noqa: E402
from loe_ref.optim import Adam                                   # noqa: E402


class Twin:
    """The same network in PyTorch: experts picked per point by index, or blended densely."""

    def __init__(self, torch, cfg, params, p):
        self.torch, self.cfg = torch, cfg
        self.params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        alpha, beta = cfg.scales()
        self.p = torch.tensor(p)
        self.layers = []
        for a, b in zip(alpha, beta):
            idx, w, _ = blend_forward(cfg.blend, p, float(a), float(b), cfg.tile)
            if cfg.blend == "nearest":
                rows = [torch.tensor(np.flatnonzero(idx[:, 0] == e)) for e in range(cfg.n_experts)]
                self.layers.append(("nearest", rows))
            else:
                self.layers.append(("linear", torch.tensor(dense_coefficients(idx, w, cfg.n_experts))))

    def to(self, dtype):
        for k in self.params:
            self.params[k] = self.params[k].detach().to(dtype).requires_grad_(True)
        self.p = self.p.to(dtype)
        self.layers = [(kind, data if kind == "nearest" else data.to(dtype)) for kind, data in self.layers]
        return self

    def forward(self):
        torch, cfg, P = self.torch, self.cfg, self.params
        h = 2.0 * self.p - 1.0
        for i, (kind, data) in enumerate(self.layers):
            W, b = P[f"W{i + 1}"], P[f"b{i + 1}"]
            if kind == "nearest":
                z = torch.zeros(h.shape[0], W.shape[2], dtype=h.dtype)
                for e, rows in enumerate(data):
                    if len(rows):
                        z = z.index_copy(0, rows, h.index_select(0, rows) @ W[e])
            else:
                z = sum(data[:, j:j + 1] * (h @ W[j]) for j in range(W.shape[0]))
            z = z + b
            h = torch.sin(cfg.omega0 * z) if cfg.act == "sine" else torch.nn.functional.leaky_relu(z, cfg.slope)
        return h @ P["W_out"] + P["b_out"]


def compare_float64(torch, cfg, size):
    p = pixel_coords((size, size))
    target = np.random.default_rng(1).uniform(-1, 1, (p.shape[0], 1))
    params = init_params(cfg, 0)
    pred, cache = forward(params, plan_for(cfg, p), cfg)
    loss, lc = mse_forward(pred, target)
    ours = backward(mse_backward(lc), cache, cfg)
    twin = Twin(torch, cfg, params, p)
    tl = ((twin.forward() - torch.tensor(target)) ** 2).mean()
    tl.backward()
    worst = max(float(np.abs(twin.params[k].grad.numpy() - ours[k]).max() / np.abs(ours[k]).max()) for k in ours)  # per tensor, relative to its largest entry
    return abs(float(tl.detach()) - float(loss)) / float(loss), worst


def time_steps(torch, cfg, steps):
    img = load_image("camera")
    p = pixel_coords(img.shape)
    target = image_target(img).astype(np.float32)
    params = {k: v.astype(np.float32) for k, v in init_params(cfg, 0).items()}
    plan = plan_for(cfg, p, np.float32)
    opt = Adam(params, lr=1e-4)
    twin = Twin(torch, cfg, init_params(cfg, 0), p).to(torch.float32)
    topt = torch.optim.Adam(list(twin.params.values()), lr=1e-4)
    ttarget = torch.tensor(target)
    ours_t, twin_t = [], []
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        pred, cache = forward(params, plan, cfg)
        _, lc = mse_forward(pred, target)
        grads = backward(mse_backward(lc), cache, cfg)
        del cache
        opt.step(params, grads)
        ours_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        topt.zero_grad()
        loss = ((twin.forward() - ttarget) ** 2).mean()
        loss.backward()
        topt.step()
        twin_t.append(time.perf_counter() - t0)
    return float(np.median(ours_t[1:])), float(np.median(twin_t[1:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=7)
    ap.add_argument("--check-size", type=int, default=32, help="image side of the float64 check")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed; this optional comparison is skipped")
        return
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    for blend in ("nearest", "linear"):
        for act in ("sine", "leaky_relu"):
            cfg = Config(blend=blend, act=act)
            dl, dg = compare_float64(torch, cfg, args.check_size)
            print(f"float64 {blend:7s} {act:10s}: loss rel diff {dl:.1e}, worst gradient rel diff {dg:.1e}"
                  f" {'OK' if max(dl, dg) < 1e-8 else 'MISMATCH'}", flush=True)
    for act in ("sine", "leaky_relu"):
        ours, twin = time_steps(torch, Config(act=act), args.steps)
        print(f"float32 step, nearest {act:10s}: loe_ref {ours:.3f} s, PyTorch twin {twin:.3f} s, "
              f"ratio twin / loe_ref {twin / ours:.2f}", flush=True)


if __name__ == "__main__":
    main()
