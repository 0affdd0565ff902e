#!/usr/bin/env python3
"""A training step of the paper's model against the floor of its own work, per core count.

The step is ``Trainer.step`` at the table's protocol (camera 512 x 512, float32, Adam, a
batch drawn by the epoch sampler, or every pixel with --batch 0). The floor is what the
step cannot avoid: its matrix products (three per layer: x W, x^T g, g W^T, with the
step's shapes, as whole-array GEMMs into preallocated outputs) and the sine and cosine of
every pre-activation, nothing else, with the rows shared evenly among the same threads.
Both are timed in one process, in alternating rounds (the machine is noisy), and their
medians compared. Each core count n runs in its own process: the step uses n processes
(loe_ref/fast/workers.py), the floor n threads (its work holds no interpreter lock); "1" is
pinned to one core.

    python benchmarks/step.py --batch 4096            # the table's step
    python benchmarks/step.py --signal chirp          # a sound's step (d = 1); ellipsoids: a volume's (d = 3)
    python benchmarks/step.py --batch 0 --rounds 5    # the full-image step
    taskset -c 0 python benchmarks/step.py --parts    # one shard's parts and Adam, one process
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


class Floor:
    """The step's GEMMs and sin/cos on preallocated arrays, rows split among ``threads``."""

    def __init__(self, cfg, P, threads, dtype=np.float32, xp=np):
        from loe_ref.encoding import encoded_dims
        rng = np.random.default_rng(0)
        self.xp = xp
        widths = [encoded_dims(cfg.in_dims, cfg.pe)] + [cfg.hidden] * cfg.layers + [cfg.out_channels]
        self.layers = []
        for ci, co in zip(widths[:-1], widths[1:]):
            x, g = rng.standard_normal((P, ci)).astype(dtype), rng.standard_normal((P, co)).astype(dtype)
            W = rng.standard_normal((ci, co)).astype(dtype)
            self.layers.append(tuple(xp.asarray(a) for a in (x, g, W)) + (
                xp.empty((P, co), dtype), xp.empty((ci, co), dtype), xp.empty((P, ci), dtype)))
        self.z = [xp.asarray(rng.standard_normal((P, cfg.hidden)).astype(dtype)) for _ in range(cfg.layers)]
        self.out = xp.empty((P, cfg.hidden), dtype)
        self.threads = threads
        self.parts = [(P * k // threads, P * (k + 1) // threads) for k in range(threads)]
        self.dW = [[xp.empty_like(layer[4]) for layer in self.layers] for _ in self.parts]
        if threads > 1:
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(threads)

    def part(self, k):
        s, t = self.parts[k]
        xp = self.xp
        for (x, g, W, y, _, dx), dW in zip(self.layers, self.dW[k]):
            xp.matmul(x[s:t], W, out=y[s:t])
            xp.matmul(x[s:t].T, g[s:t], out=dW)
            xp.matmul(g[s:t], W.T, out=dx[s:t])
        for z in self.z:
            xp.sin(z[s:t], out=self.out[s:t])
            xp.cos(z[s:t], out=self.out[s:t])

    def run(self):
        if self.threads == 1:
            self.part(0)
        else:
            list(self.pool.map(self.part, range(self.threads)))


def run_one(batch, threads, rounds, steps, blend, act, device="cpu", signal="camera"):
    """Median ms of the step and of the floor, alternating ``rounds`` rounds of ``steps`` each,
    on ``signal`` (any kind: the network reads its coordinate dims and gives its channels)."""
    from loe_ref.fast.cpu import blas_info, cpu_name
    from loe_ref.network import Config
    from loe_ref.training.data import KINDS, prepare_signal
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    os.environ["LOE_REF_CPUS"] = str(threads)
    fitted = prepare_signal(signal)
    d = KINDS[fitted.kind]
    cfg = Config(blend=blend, act=act, in_dims=d,
                 out_channels=1 if fitted.values.ndim == d else fitted.values.shape[d])
    opts = TrainOptions(image=signal, batch=batch, lr=3e-3, schedule="cosine", beta2=0.99, iters=10 ** 6,
                        device=device)
    trainer = Trainer(cfg, opts, fitted)
    floor = Floor(cfg, batch or trainer.target.shape[0], threads, xp=trainer.xp)
    sync = trainer.xp.cuda.Device().synchronize if device == "gpu" else (lambda: None)
    it = 0
    for _ in range(3):                                  # warm up both
        trainer.step(it)
        it += 1
        floor.run()
    step_ms, floor_ms = [], []
    for _ in range(rounds):
        sync()
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.step(it)
            it += 1
        sync()
        step_ms.append((time.perf_counter() - t0) / steps * 1e3)
        t0 = time.perf_counter()
        for _ in range(steps):
            floor.run()
        sync()
        floor_ms.append((time.perf_counter() - t0) / steps * 1e3)
    trainer.close()
    step, low = float(np.median(step_ms)), float(np.median(floor_ms))
    return {"batch": batch, "threads": threads, "device": device, "config": f"{blend}:{act}", "signal": signal,
            "kind": fitted.kind, "in_dims": d, "channels": cfg.out_channels, "step_ms": round(step, 3),
            "floor_ms": round(low, 3), "ratio": round(step / low, 3), "rounds": rounds, "steps": steps,
            "cpu": cpu_name(), "blas": blas_info()}


def parts(batch, repeats=200):
    """ms of the parts of a batch step in one process: drawing the batch, one shard's plan,
    forward and backward pass, the whole batch's gradients, and Adam."""
    os.environ["LOE_REF_CPUS"] = "1"
    from loe_ref.fast.network import backward, forward
    from loe_ref.fast.routing import plan_for
    from loe_ref.fast.shards import SHARD_ROWS, sse_and_grads
    from loe_ref.fast.grid import pixel_coords_at
    from loe_ref.network import Config
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    t = Trainer(Config(), TrainOptions(batch=batch, lr=3e-3, schedule="cosine", beta2=0.99, iters=10 ** 6))
    for it in range(20):
        t.step(it)
    idx = t.batch_indices(20)
    p, target, experts = pixel_coords_at(idx, t.shape, np.float32), t.target[idx], t.engine.experts[idx]
    rows = slice(0, min(SHARD_ROWS, batch))
    plan = plan_for(t.cfg, p[rows], np.float32, experts[rows])
    pred, cache = forward(t.params, plan, t.cfg)
    dpred = (pred - target[rows]) * (2.0 / target.size)
    grads = sse_and_grads(t.params, t.cfg, p, target, experts=experts)[1]

    def ms(f):
        f()
        t0 = time.perf_counter()
        for _ in range(repeats):
            f()
        return (time.perf_counter() - t0) / repeats * 1e3

    return {"step": ms(lambda: t.step(21)),
            "batch (indices, coordinates, targets, experts)":
                ms(lambda: (t.batch_indices(20), pixel_coords_at(idx, t.shape, np.float32), t.target[idx],
                            t.engine.experts[idx])),
            "plan, one shard": ms(lambda: plan_for(t.cfg, p[rows], np.float32, experts[rows])),
            "forward, one shard": ms(lambda: forward(t.params, plan, t.cfg)),
            "backward, one shard": ms(lambda: backward(dpred, cache, t.cfg)),
            "gradients of the batch": ms(lambda: sse_and_grads(t.params, t.cfg, p, target, experts=experts)),
            "Adam": ms(lambda: t.opt.step(t.params, grads, 1e-12))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=4096, help="pixels per step, 0 = the whole image (default 4096)")
    ap.add_argument("--threads", default="", help="core counts, e.g. 1,2 (default: 1 and every usable core)")
    ap.add_argument("--rounds", type=int, default=9, help="alternating rounds (default 9)")
    ap.add_argument("--steps", type=int, default=0, help="steps per round (default 50, 2 with --batch 0)")
    ap.add_argument("--config", default="nearest:sine", help="blend:act (default nearest:sine, the paper's)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"], help="cpu (NumPy) or gpu (CuPy; one process)")
    ap.add_argument("--signal", default="camera",
                    help="the signal, any kind (default camera; chirp: a sound, ellipsoids: a volume, "
                         "astronaut_pan: a video)")
    ap.add_argument("--json", help="also write the records to this file")
    ap.add_argument("--parts", action="store_true",
                    help="only time the parts of one process's step (pin it to a core with taskset)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.parts:
        from loe_ref.fast.cpu import cpu_name
        print(f"{cpu_name()}; batch {args.batch}, one process")
        for name, value in parts(args.batch or 4096).items():
            print(f"{name:48s} {value:8.3f} ms")
        return
    steps = args.steps or (50 if args.batch else 2)
    blend, act = args.config.split(":")
    if args.one:
        print(json.dumps(run_one(args.batch, args.one, args.rounds, steps, blend, act, args.device, args.signal)))
        return
    from loe_ref.fast.cpu import usable_cpus
    counts = [int(t) for t in args.threads.split(",")] if args.threads else sorted({1, usable_cpus()})
    if args.device == "gpu":
        counts = [1]
    records = []
    for n in counts:
        cmd = [sys.executable, __file__, "--one", str(n), "--batch", str(args.batch), "--rounds",
               str(args.rounds), "--steps", str(steps), "--config", args.config, "--device", args.device,
               "--signal", args.signal]
        if n == 1 and args.device == "cpu" and hasattr(os, "sched_getaffinity"):
            cmd = ["taskset", "-c", str(min(os.sched_getaffinity(0)))] + cmd
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        records.append(r)
        if len(records) == 1:
            blas = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}" for b in r["blas"])
            print(f"{r['cpu']}; BLAS {blas}; {r['signal']} ({r['kind']}, d = {r['in_dims']}, {r['channels']} channel"
                  f"{'s' if r['channels'] > 1 else ''}); batch {args.batch or 'whole signal'}, {args.config}, float32")
            print(f"{'threads':>7s} {'step ms':>9s} {'floor ms':>9s} {'ratio':>6s}")
        print(f"{n:7d} {r['step_ms']:9.2f} {r['floor_ms']:9.2f} {r['ratio']:6.2f}", flush=True)
    if args.json:
        from loe_ref.runs.files import write_json
        write_json(args.json, records)


if __name__ == "__main__":
    main()
