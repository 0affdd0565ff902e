#!/usr/bin/env python3
"""Seconds and iterations to 30, 35 and 39.05 dB for the default command's configuration.

The paper's network (fine_to_coarse, sine, nearest, 2 x 2 tiles, default init) on camera
512 x 512 under the short recipe (loe_ref/recipes.py), trained by ``Trainer.step`` and
evaluated over the whole image every ``--eval-every`` iterations; the clock runs during
training steps only, so the seconds are those of training, whatever the evaluations cost.
The first evaluation at or above each PSNR is reported. Where PyTorch is installed, the
PyTorch twin of benchmarks/torch_twin.py (``BatchTwin``) trains under the same recipe, on
the same batches, with as many threads as loe_ref has cores, and its figures and the
ratios of the seconds follow.

    python benchmarks/time_to_psnr.py
    python benchmarks/time_to_psnr.py --eval-every 200 --equivalents 100
"""
import argparse
import json
import os
import time

from loe_ref.fast.cpu import blas_info, cpu_name, usable_cpus
from loe_ref.network import Config
from loe_ref.training import recipes
from loe_ref.training.loop import Trainer
from loe_ref.training.options import TrainOptions

LEVELS = (30.0, 35.0, 39.05)


def crossings(curve):
    """{level: (iteration, seconds)} of the first evaluation at or above each level."""
    out = {}
    for it, seconds, value in curve:
        for level in LEVELS:
            if level not in out and value >= level:
                out[level] = (it, round(seconds, 2))
    return out


def run_loe(equivalents, eval_every):
    cfg = Config()
    opts = TrainOptions(**recipes.recipe_options("short", 512 * 512, equivalents=equivalents, eval_every=eval_every,
                                          checkpoint_every=10 ** 9))
    trainer = Trainer(cfg, opts)
    curve, seconds = [], 0.0
    for it in range(opts.iters):
        t0 = time.perf_counter()
        trainer.step(it)
        seconds += time.perf_counter() - t0
        if (it + 1) % eval_every == 0 or it + 1 == opts.iters:
            curve.append((it + 1, seconds, trainer.psnr()))
    trainer.close()
    return curve, opts


def _sibling(name):
    """benchmarks/<name>.py as a module, however this file was started (as a script or imported)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                     f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_twin(equivalents, eval_every):
    """The same run with the PyTorch twin; None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    import numpy as np
    BatchTwin = _sibling("torch_twin").BatchTwin
    from loe_ref.grids import pixel_coords
    from loe_ref.network import init_params
    from loe_ref.training.data import load_image, signal_target
    from loe_ref.training.sampler import PixelSampler
    cfg = Config()
    opts = TrainOptions(**recipes.recipe_options("short", 512 * 512, equivalents=equivalents, eval_every=eval_every,
                                          checkpoint_every=10 ** 9))
    torch.set_num_threads(usable_cpus())
    img = load_image(opts.image)
    target = torch.from_numpy(signal_target(img, 2).astype(np.float32))
    coords = torch.from_numpy(pixel_coords(img.shape[:2], np.float32))
    sampler = PixelSampler(opts.sampler, target.shape[0], opts.batch, opts.seed)
    twin = BatchTwin(torch, cfg, init_params(cfg, opts.seed), opts.learning_rate(cfg), (0.9, opts.beta2))
    curve, seconds = [], 0.0
    for it in range(opts.iters):
        idx = sampler.indices(it)
        t0 = time.perf_counter()
        twin.step_pixels(idx, img.shape[:2], target, opts.lr_at(cfg, it))
        seconds += time.perf_counter() - t0
        if (it + 1) % eval_every == 0 or it + 1 == opts.iters:
            curve.append((it + 1, seconds, twin.psnr(coords, target)))
    return curve, torch.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--equivalents", type=float, default=recipes.RECIPES["short"]["equivalents"],
                    help="budget in full-image equivalents (default: the short recipe's)")
    ap.add_argument("--eval-every", type=int, default=100, help="iterations between evaluations (default 100)")
    ap.add_argument("--json", help="also write the record to this file")
    args = ap.parse_args()
    curve, opts = run_loe(args.equivalents, args.eval_every)
    blas = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}" for b in blas_info())
    print(f"{cpu_name()}, {usable_cpus()} cores; BLAS {blas}")
    print(f"short recipe: batch {opts.batch}, lr {opts.lr:g}, {opts.schedule}, beta2 {opts.beta2:g}, "
          f"{opts.iters} iterations ({args.equivalents:g} equivalents); peak {max(v for *_, v in curve):.2f} dB")
    record = {"cpu": cpu_name(), "cores": usable_cpus(), "blas": blas_info(), "iters": opts.iters,
              "eval_every": args.eval_every, "loe_ref": {"curve": curve, "first": crossings(curve)}}
    print(f"{'PSNR':>6s} {'iteration':>10s} {'seconds':>8s}")
    first = crossings(curve)
    for level in LEVELS:
        it, s = first.get(level, ("-", float("nan")))
        print(f"{level:6.2f} {it!s:>10s} {s:8.1f}")
    twin = run_twin(args.equivalents, args.eval_every)
    if twin is not None:
        curve_t, version = twin
        first_t = crossings(curve_t)
        record["pytorch_twin"] = {"torch": version, "curve": curve_t, "first": first_t}
        print(f"PyTorch twin (torch {version}, {usable_cpus()} threads), same recipe and batches; "
              f"peak {max(v for *_, v in curve_t):.2f} dB")
        print(f"{'PSNR':>6s} {'iteration':>10s} {'seconds':>8s} {'loe_ref / twin':>15s}")
        for level in LEVELS:
            it, s = first_t.get(level, ("-", float("nan")))
            ratio = first[level][1] / s if level in first and level in first_t else float("nan")
            print(f"{level:6.2f} {it!s:>10s} {s:8.1f} {ratio:15.2f}")
    if args.json:
        from loe_ref.runs.files import write_json
        write_json(args.json, json.loads(json.dumps(record, default=str)))


if __name__ == "__main__":
    main()
