#!/usr/bin/env python3
"""The method beyond one 512 x 512 picture: retina at full resolution, a video and a sound.

Four networks of the same depth and about the same parameter count: L position-dependent
layers, 9 or, for a larger image, as many as its longest side needs (2^L >= the side, so
the finest grid has a cell per pixel: 11 for 1411):

- LoE sine and LoE leaky ReLU: the paper's network (64 hidden, T = 2, fine_to_coarse,
  nearest experts), sine at omega0 1 and leaky ReLU, the grids' stretch of the signal's
  kind (recipes.axis_scale_for);
- SIREN: one expert (a plain MLP), sine with SIREN's initialisation;
- MLP: one expert, leaky ReLU, positional encoding of 8 octaves;

the widths of SIREN and the MLP chosen for the parameter count nearest LoE's.

Signals: scikit-image's ``retina`` (1411 x 1411 RGB) whole and resized to 512 x 512 (does
LoE's advantage grow or shrink with resolution?), the made video ``astronaut_pan`` (32
frames of 128 x 128) and sound ``chirp`` (24,000 samples) (and with dimension?). LoE takes
the grids' stretch of its kind (docs/signals.md).

Three phases, under the short recipe (batches of 4,096, linear decay to 0, beta2 0.8):
- iters: every network for the same iterations, at each signal's two budgets in
  full-signal equivalents (SIGNALS);
- time: every other network for the CPU seconds the LoE sine run of its signal and budget
  took (``seconds`` of its summary), its iterations from its own seconds per iteration in
  the iters phase (so this phase follows it, and its iteration counts depend on the
  machine: each row records its own); LoE sine's row is its run of the iters phase;
- rate: the runs of RATE_RUNS, a row of the iters phase at another rate (is its standing
  the rate's doing?).

Finished runs are reused and unfinished ones resume; ``--part k/n`` takes every n-th run
from the k-th (one process per core); --report only tabulates. Records: results/high_res/.

    taskset -c 0 python scripts/high_res.py --phase iters --part 0/2
    taskset -c 1 python scripts/high_res.py --phase iters --part 1/2
    python scripts/high_res.py --phase time          # after the iters phase
    python scripts/high_res.py --phase rate
    python scripts/high_res.py --report
"""
import functools
import itertools
import math
import os
import sys

from loe_ref.network import Config, param_count
from loe_ref.runs import studies
from loe_ref.training import recipes
from loe_ref.training.data import KINDS, prepare_signal
from loe_ref.training.options import TrainOptions

OUT = "results/high_res"
#: name: Config keywords (the baselines' width is matched to LoE's parameter count).
MODELS = {
    "LoE sine": dict(act="sine"),
    "LoE leaky_relu": dict(act="leaky_relu"),
    "SIREN": dict(tile=1, act="sine", init="siren", omega0=30.0),
    "MLP PE-8": dict(tile=1, act="leaky_relu", pe=8),
}
#: The rate phase: (model, signal, budget, lr) runs at another rate than the recipe's, to
#: tell whether a row's standing is the rate's doing.
RATE_RUNS = [("LoE sine", "retina 1411", 80, 3e-3)]
#: The network whose CPU seconds the time phase gives every other one.
REFERENCE = "LoE sine"
#: name: (signal, size or None, budgets in full-signal equivalents).
SIGNALS = {
    "retina 512": ("retina", [512, 512], (20, 80)),
    "chirp sound": ("chirp", None, (300, 1200)),
    "astronaut_pan video": ("astronaut_pan", None, (20, 80)),
    "retina 1411": ("retina", None, (20, 80)),
}


@functools.lru_cache(maxsize=None)
def shape_of(name):
    """(kind, grid shape, channels, grid as recorded) of signal ``name`` (loaded once)."""
    source, size, _ = SIGNALS[name]
    signal = prepare_signal(source, size)
    d = KINDS[signal.kind]
    channels = 1 if signal.values.ndim == d else signal.values.shape[d]
    return signal.kind, signal.values.shape[:d], channels, signal.recorded


def config(model, name):
    kind, grid, channels, recorded = shape_of(name)
    layers = max(9, math.ceil(math.log2(max(grid)))) if kind == "image" else 9
    base = dict(in_dims=KINDS[kind], out_channels=channels, layers=layers)
    loe = Config(**base, **MODELS["LoE sine"])
    if MODELS[model].get("tile", 2) != 1:
        return Config(**base, **MODELS[model], axis_scale=recipes.axis_scale_for(kind, recorded, loe))
    target = param_count(loe)
    hidden = min(range(8, 1025), key=lambda h: abs(param_count(Config(**base, **MODELS[model], hidden=h)) - target))
    return Config(**base, **MODELS[model], hidden=hidden)


def options(model, name, budget, iters=None, lr=None):
    source, size, _ = SIGNALS[name]
    _, grid, _, _ = shape_of(name)
    samples = math.prod(grid)
    init = MODELS[model].get("init", "default")
    o = recipes.recipe_options("short", samples, init, equivalents=None if iters else budget, iters=iters, lr=lr)
    o["eval_every"] = max(1, o["iters"] // 10)
    o["checkpoint_every"] = max(1, o["iters"] // 5)
    return TrainOptions(image=source, size=size or [], **o)


def folder(phase, name, budget, model, lr=None):
    rate = "" if lr is None else f"_lr{lr:g}"
    return os.path.join(OUT, phase, f"{name.replace(' ', '_')}_E{budget}{rate}", model.replace(" ", "_"))


def iters_runs():
    return [(m, n, b) for n in SIGNALS for b, m in itertools.product(SIGNALS[n][2], MODELS)]


def result(phase, model, name, budget):
    """The summary of a finished run of the study, else None (not begun, or stopped); the
    reference's row of the time phase is its run of the iters phase."""
    iters = None
    if phase == "time" and model == REFERENCE:
        phase = "iters"
    elif phase == "time":
        iters = time_iters(model, name, budget)
        if iters is None:
            return None
    return studies.finished(folder(phase, name, budget, model), config(model, name), options(model, name, budget, iters))


def time_iters(model, name, budget):
    """Iterations of ``model`` that take the seconds of the reference's run (None until both ran)."""
    reference = result("iters", REFERENCE, name, budget)
    own = result("iters", model, name, budget)
    if reference is None or own is None:
        return None
    return max(1, round(reference["seconds"] * own["iterations"] / own["seconds"]))


def report():
    rows = []
    for phase in ("iters", "time"):
        for model, name, budget in iters_runs():
            s = result(phase, model, name, budget)
            rows.append(row(phase, name, budget, model, s))
    for model, name, budget, lr in RATE_RUNS:
        s = studies.finished(folder("rate", name, budget, model, lr), config(model, name),
                             options(model, name, budget, lr=lr))
        rows.append(row(f"rate {lr:g}", name, budget, model, s))
    studies.write_table(OUT, "high_res", rows,
                        ["phase", "signal", "budget (equivalents)", "model", "parameters", "iterations",
                         "peak PSNR (dB)", "seconds", "of them training"],
                        lambda r: [r["phase"], r["signal"], r["equivalents"], r["model"]] + [
                            "-" if r[k] is None else f"{r[k]:.2f}" if k == "peak_psnr" else f"{r[k]:.0f}"
                            if k in ("seconds", "training_seconds") else r[k]
                            for k in ("parameters", "iterations", "peak_psnr", "seconds", "training_seconds")])
    studies.write_table(OUT, "high_res_by_model", by_model(rows),
                        ["signal", "equivalents", "phase"] + list(MODELS),
                        lambda r: [r["signal"], r["equivalents"], r["phase"]] + r["cells"])


def row(phase, name, budget, model, s):
    """A row of the table from summary ``s`` (None: not finished); ``training_seconds``
    leaves the evaluations out."""
    return {"phase": phase, "signal": name, "equivalents": budget, "model": model,
            "parameters": s and s["parameters"], "iterations": s and s["iterations"],
            "peak_psnr": s and s["peak_psnr"], "seconds": s and s["seconds"],
            "training_seconds": s and s["seconds"] - s["evaluation_seconds"], "cpu": s and s["cpu"]}


def by_model(rows):
    """One row per signal, budget and phase, a cell per model: peak PSNR (dB), and in the
    time phase the iterations it took, the other way round from the iters phase."""
    table = {}
    for r in rows:
        cells = table.setdefault((r["signal"], r["equivalents"], r["phase"]), {})
        psnr = "-" if r["peak_psnr"] is None else f"{r['peak_psnr']:.2f}"
        cells[r["model"]] = psnr if r["phase"] != "time" or r["iterations"] is None else f"{psnr} ({r['iterations']})"
    return [{"signal": name, "equivalents": budget, "phase": phase, "cells": [cells.get(m, "") for m in MODELS]}
            for (name, budget, phase), cells in table.items()]


def main():
    args = studies.parser(__doc__, ["iters", "time", "rate"]).parse_args()
    if args.report or args.phase is None:
        report()
        return
    if args.phase == "rate":
        for model, name, budget, lr in studies.share(RATE_RUNS, args.part):
            studies.train_row(folder("rate", name, budget, model, lr), config(model, name),
                              options(model, name, budget, lr=lr), f"rate {model} {name} E{budget} lr {lr:g}")
        report()
        return
    for model, name, budget in studies.share(iters_runs(), args.part):
        iters = None
        if args.phase == "time":
            if model == REFERENCE:
                continue
            iters = time_iters(model, name, budget)
            if iters is None:
                print(f"skipped {model} on {name} E{budget}: its iters phase has not finished", flush=True)
                continue
        studies.train_row(folder(args.phase, name, budget, model), config(model, name),
                          options(model, name, budget, iters), f"{args.phase} {model} {name} E{budget}")
    report()


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
