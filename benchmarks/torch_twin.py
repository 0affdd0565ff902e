#!/usr/bin/env python3
"""Optional side-by-side with a PyTorch twin of the same model (PyTorch is never a dependency).

1. float64: the same parameters and coordinates through loe_ref (hand-written backward)
   and through the twin (autograd): loss and every gradient must agree to 1e-8 relative.
2. float32 timing: full-batch steps (forward, backward, Adam) of both on the 512 x 512
   camera image (loe_ref's ``Trainer.step``, on every usable core), interleaved one by
   one; the median of each and their ratio.
3. float32 timing at the table's protocol (``--batch 4096``): ``Trainer.step`` on every
   usable core against ``BatchTwin``, the paper's network written as a PyTorch user would
   (per-expert ``index_select``, ``matmul``, ``index_copy``; autograd; torch.optim.Adam)
   on as many threads, on the same batches, in alternating rounds; medians and their ratio.

    pip install torch   # only for this script
    python benchmarks/torch_twin.py --steps 7
"""
import argparse
import os
import time

import numpy as np

from loe_ref.blending import blend_forward, coefficients
from loe_ref.fast.network import backward, forward
from loe_ref.fast.routing import plan_for
from loe_ref.grids import pixel_coords
from loe_ref.losses import mse_backward, mse_forward
from loe_ref.network import Config, init_params


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
                self.layers.append(("linear", torch.tensor(coefficients(idx, w, cfg.n_experts))))

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


class BatchTwin:
    """The paper's network for pixel batches, as a PyTorch user would write it.

    Each step computes the batch's experts from its coordinates (floor(alpha p + beta) mod
    T, Eq. (3) with one-hot blending), runs each layer expert by expert (``index_select``,
    ``matmul``, ``index_copy``), lets autograd differentiate the MSE, and steps
    ``torch.optim.Adam`` with the schedule's rate. Nearest blending, no positional encoding.
    """

    def __init__(self, torch, cfg, params, lr, betas):
        if cfg.blend != "nearest" or cfg.pe:
            raise ValueError("BatchTwin writes the paper's network: nearest blending, no positional encoding")
        self.torch, self.cfg = torch, cfg
        self.params = {k: torch.nn.Parameter(torch.tensor(v, dtype=torch.float32)) for k, v in params.items()}
        alpha, beta = cfg.scales()
        self.alpha = torch.tensor(np.asarray(alpha), dtype=torch.float32)[:, None, None]
        self.beta = torch.tensor(np.asarray(beta), dtype=torch.float32)[:, None, None]
        self.opt = torch.optim.Adam(list(self.params.values()), lr=lr, betas=betas, eps=1e-8)

    def experts(self, p):
        """(L, B) expert index of every point in every layer."""
        cells = torch_floor_mod(self.torch, self.alpha * p[None] + self.beta, self.cfg.tile)
        idx = cells[..., 0]
        for k in range(1, p.shape[1]):
            idx = idx + cells[..., k] * self.cfg.tile ** k
        return idx

    def forward(self, p):
        torch, cfg, P = self.torch, self.cfg, self.params
        experts = self.experts(p)
        h = 2.0 * p - 1.0
        for i in range(cfg.layers):
            W, b = P[f"W{i + 1}"], P[f"b{i + 1}"]
            z = torch.zeros(h.shape[0], W.shape[2], dtype=h.dtype)
            for e in range(cfg.n_experts):
                rows = torch.nonzero(experts[i] == e, as_tuple=True)[0]
                if len(rows):
                    z = z.index_copy(0, rows, h.index_select(0, rows) @ W[e])
            z = z + b
            h = torch.sin(cfg.omega0 * z) if cfg.act == "sine" else torch.nn.functional.leaky_relu(z, cfg.slope)
        return h @ P["W_out"] + P["b_out"]

    def step(self, p, target, lr):
        """One Adam step on the batch; returns its loss."""
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.zero_grad()
        loss = ((self.forward(p) - target) ** 2).mean()
        loss.backward()
        self.opt.step()
        return loss.item()

    def step_pixels(self, idx, shape, target, lr):
        """One Adam step on the pixels ``idx`` (host indices) of an image of ``shape``, whose
        targets (pixels, C) are the tensor ``target``; returns the batch's loss."""
        from loe_ref.fast.grid import pixel_coords_at
        p = self.torch.from_numpy(pixel_coords_at(idx, shape, np.float32))
        return self.step(p, target[self.torch.from_numpy(idx)], lr)

    def psnr(self, coords, target, chunk=65536):
        """PSNR (dB) over the whole image, as loe_ref.losses.psnr computes it."""
        with self.torch.no_grad():
            pred = self.torch.cat([self.forward(coords[s:s + chunk]) for s in range(0, coords.shape[0], chunk)])
            a, b = (pred.clamp(-1, 1) + 1) / 2, (target + 1) / 2
            return float(10 * self.torch.log10(1 / ((a - b) ** 2).mean()))


def torch_floor_mod(torch, q, tile):
    return torch.remainder(torch.floor(q).long(), tile)


def time_batch_steps(torch, cfg, batch, rounds, steps):
    """Median ms per batch step of loe_ref's Trainer and of BatchTwin, alternating rounds."""
    from loe_ref.fast.cpu import usable_cpus
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    opts = TrainOptions(batch=batch, lr=3e-3, schedule="cosine", beta2=0.99, iters=10 ** 6)
    trainer = Trainer(cfg, opts)                   # forks its workers before torch starts threads
    torch.set_num_threads(usable_cpus())
    twin = BatchTwin(torch, cfg, init_params(cfg, opts.seed), opts.learning_rate(cfg), (0.9, opts.beta2))
    target = torch.from_numpy(trainer.target)

    def twin_step(it):
        return twin.step_pixels(trainer.batch_indices(it), trainer.shape, target, opts.lr_at(cfg, it))

    it = 0
    for _ in range(3):                             # the same batches, the same losses (float32)
        ours, theirs = float(trainer.step(it)), twin_step(it)
        if abs(ours - theirs) > 1e-4 * ours:
            raise SystemExit(f"the twin's loss {theirs} differs from loe_ref's {ours} at step {it}")
        it += 1
    ours, theirs = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for k in range(steps):
            trainer.step(it + k)
        ours.append((time.perf_counter() - t0) / steps * 1e3)
        t0 = time.perf_counter()
        for k in range(steps):
            twin_step(it + k)
        theirs.append((time.perf_counter() - t0) / steps * 1e3)
        it += steps
    trainer.close()
    return float(np.median(ours)), float(np.median(theirs)), usable_cpus()


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
    """Median seconds of a full-image step of loe_ref (``Trainer.step``: shards, worker
    processes) and of the twin, interleaved one by one."""
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    trainer = Trainer(cfg, TrainOptions(batch=0, lr=1e-4, iters=10 ** 6))
    p = pixel_coords(trainer.shape)
    twin = Twin(torch, cfg, init_params(cfg, 0), p).to(torch.float32)
    topt = torch.optim.Adam(list(twin.params.values()), lr=1e-4)
    ttarget = torch.tensor(trainer.target)
    ours_t, twin_t = [], []
    for it in range(steps + 1):
        t0 = time.perf_counter()
        trainer.step(it)
        ours_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        topt.zero_grad()
        loss = ((twin.forward() - ttarget) ** 2).mean()
        loss.backward()
        topt.step()
        twin_t.append(time.perf_counter() - t0)
    trainer.close()
    return float(np.median(ours_t[1:])), float(np.median(twin_t[1:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=7)
    ap.add_argument("--check-size", type=int, default=32, help="image side of the float64 check")
    ap.add_argument("--batch", type=int, default=0,
                    help="only the batch-step comparison, at this batch (e.g. 4096, the table's)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds of the batch comparison (default 7)")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed; this optional comparison is skipped")
        return
    if args.batch:
        from loe_ref.fast.cpu import blas_info, cpu_name
        ours, twin, cores = time_batch_steps(torch, Config(), args.batch, args.rounds, 40)
        blas = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}" for b in blas_info())
        print(f"{cpu_name()}, {cores} cores; BLAS {blas}; PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        print(f"float32 step, batch {args.batch}, nearest sine: loe_ref {ours:.2f} ms, PyTorch twin {twin:.2f} ms, "
              f"loe_ref / twin {ours / twin:.2f}", flush=True)
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
