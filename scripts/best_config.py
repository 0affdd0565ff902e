#!/usr/bin/env python3
"""Screen model configurations for Table I's "best configuration" row at 512 x 512.

Every candidate has at most the paper's 132,225 parameters and trains under the table's
recipe (loe_ref/training/recipes.py, "table"; the options below default to it) for a short budget
in full-image equivalents, evaluated every 5; the leader then becomes the table's
best-configuration row. Runs resume from their checkpoints; finished runs are reused.

    python scripts/best_config.py --equivalents 150
"""
import argparse
import os
import sys

from loe_ref.network import Config, param_count
from loe_ref.runs import studies
from loe_ref.runs.figures import plot_curves
from loe_ref.training import recipes
from loe_ref.training.options import TrainOptions

PIXELS = 512 * 512
TABLE = recipes.RECIPES["table"]
PAPER_PARAMS = 132225
# name, Config keywords, learning rate (None: --lr)
CANDIDATES = [
    ("f2c sine default-init", dict(grid="fine_to_coarse", act="sine"), None),
    ("f2c sine linear", dict(grid="fine_to_coarse", act="sine", blend="linear"), None),
    ("f2c sine siren-init w30 lr1e-4", dict(grid="fine_to_coarse", act="sine", init="siren", omega0=30.0), 1e-4),
    ("f2c sine siren-init w30 lr3e-4", dict(grid="fine_to_coarse", act="sine", init="siren", omega0=30.0), 3e-4),
    ("f2c sine pe2 hidden63", dict(grid="fine_to_coarse", act="sine", pe=2, hidden=63), None),
    ("f2c sine siren-init w30 lr1e-3", dict(grid="fine_to_coarse", act="sine", init="siren", omega0=30.0), 1e-3),
    ("quadtree sine siren-init w30 lr3e-4", dict(grid="quadtree", act="sine", init="siren", omega0=30.0), 3e-4),
]


def options(args, lr):
    """The table's recipe over ``args.equivalents``, with the batch, rate, schedule and beta2 of ``args``."""
    iters = recipes.iterations(args.equivalents, PIXELS, args.batch)
    evals = recipes.every(5, PIXELS, args.batch)
    return TrainOptions(image="camera", iters=iters, eval_every=evals, checkpoint_every=5 * evals, batch=args.batch,
                        lr=lr or args.lr, schedule=args.schedule, beta2=args.beta2, sampler=TABLE["sampler"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--equivalents", type=int, default=150, help="full-image equivalents per candidate (default 150)")
    ap.add_argument("--batch", type=int, default=TABLE["batch"], help="default %(default)s")
    ap.add_argument("--lr", type=float, default=TABLE["lr"],
                    help="learning rate of candidates without their own (default %(default)s)")
    ap.add_argument("--schedule", default=TABLE["schedule"], help="default %(default)s")
    ap.add_argument("--beta2", type=float, default=TABLE["beta2"], help="default %(default)s")
    ap.add_argument("--rows", help="comma-separated candidate numbers (1-based) to train; the table "
                                   "also lists every other candidate already finished; '' trains none")
    ap.add_argument("--out", default="results/best_config_512")
    args = ap.parse_args()
    chosen = range(len(CANDIDATES)) if args.rows is None else studies.select(args.rows, len(CANDIDATES))
    tag = f"E{args.equivalents}_b{args.batch}"
    records, curves = [], {}
    for i, (name, model, lr) in enumerate(CANDIDATES):     # the table covers every candidate finished in --out
        folder = os.path.join(args.out, tag, studies.folder_name(name))
        cfg, opts = Config(**model), options(args, lr)
        params = param_count(cfg)
        if params > PAPER_PARAMS:
            raise ValueError(f"candidate {name!r} has {params} parameters, over the paper's {PAPER_PARAMS}")
        summary = studies.train_row(folder, cfg, opts, name) if i in chosen else studies.finished(folder, cfg, opts)
        if summary is None:
            continue
        records.append({"candidate": name, **model, "lr": opts.learning_rate(cfg), "parameters": params,
                        "batch": args.batch, "schedule": args.schedule, "beta2": args.beta2,
                        "equivalents": args.equivalents, "peak_psnr": round(summary["peak_psnr"], 2),
                        "seconds": summary["seconds"], "cpu": summary.get("cpu")})
        curves[name] = ([h["iteration"] * args.batch / PIXELS for h in summary["history"]],
                        [h["psnr"] for h in summary["history"]])
    records.sort(key=lambda r: -r["peak_psnr"])
    studies.write_table(args.out, f"candidates_{tag}", records,
                        ["candidate", "lr", "parameters", "peak PSNR (dB)", "seconds"],
                        lambda r: [r["candidate"], f"{r['lr']:g}", r["parameters"], f"{r['peak_psnr']:.2f}",
                                   f"{r['seconds']:.0f}"])
    plot_curves(os.path.join(args.out, f"candidates_{tag}.png"), curves, xlabel="full-image equivalents",
                title="camera 512 x 512: candidates for the best configuration")


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
