#!/usr/bin/env python3
"""Reproduce the paper's Table I on camera, with baselines, under one stated protocol.

Every row trains with the same recipe for the same budget: by default the "table" recipe
of loe_ref/training/recipes.py, the protocol of the 512 x 512 table (docs/results.md, "The 512 x
512 table"): batches of 4096 pixels from the epoch sampler, Adam at lr 3e-3 (1e-4 with
SIREN's init) and beta2 0.99, cosine decay to 1/100, 2,000 full-image equivalents per row,
an evaluation every 5 equivalents. Rows already finished in the output folder are reused
and unfinished ones resume from their checkpoints (loe_ref/runs/studies.py), so an interrupted
table continues where it stopped.

    python scripts/reproduce.py --rows 3,1     # rows 3 and 1 of the 512 x 512 table
    python scripts/reproduce.py --rows ''      # rewrite the table from the finished rows
    python scripts/reproduce.py --size 128 --iters 800 --batch 0 --lr 1e-2 --siren-lr 1e-3 \\
        --schedule constant --beta2 0.999 --out results/table1_128     # the reduced table
"""
import argparse
import os
import sys

from loe_ref.network import Config
from loe_ref.runs import studies
from loe_ref.runs.figures import plot_curves
from loe_ref.training import recipes
from loe_ref.training.options import SCHEDULES, TrainOptions
from loe_ref.training.sampler import SAMPLERS

TABLE = recipes.RECIPES["table"]
#: Equivalents between evaluations, and evaluations between checkpoints.
EVAL_EQUIVALENTS, EVALS_PER_CHECKPOINT = 5, 5


def row_options(args, init="default"):
    """TrainOptions of a row with initialisation ``init`` under the protocol of ``args``."""
    pixels = args.size * args.size
    given = dict(batch=args.batch, sampler=args.sampler, schedule=args.schedule, beta2=args.beta2,
                 lr=args.siren_lr if init == "siren" else args.lr, iters=args.iters)
    o = recipes.recipe_options("table", pixels, init, equivalents=None if args.iters else args.equivalents, **given)
    o["eval_every"] = args.eval_every or (10 if args.iters else recipes.every(EVAL_EQUIVALENTS, pixels, o["batch"]))
    o["checkpoint_every"] = o["iters"] if args.iters else min(o["iters"], EVALS_PER_CHECKPOINT * o["eval_every"])
    return TrainOptions(image="camera", size=[args.size, args.size] if args.size != 512 else [],
                        seed=args.seed, device=args.device, **o)


def record(name, paper, cfg, opts, summary, size):
    """The table's entry of a finished row."""
    return {"row": name, "grid": cfg.grid if cfg.tile > 1 else "none (one expert)", "act": cfg.act,
            "blend": cfg.blend, "tile": cfg.tile, "layers": cfg.layers, "hidden": cfg.hidden,
            "init": cfg.init, "omega0": cfg.omega0, "pe": cfg.pe, "lr": opts.learning_rate(cfg),
            "schedule": opts.schedule, "batch": opts.batch, "sampler": opts.sampler,
            "beta2": opts.beta2, "iterations": opts.iters,
            "equivalents": round(recipes.equivalents(opts.iters, size * size, opts.batch), 2), "size": size,
            "parameters": summary["parameters"], "peak_psnr": round(summary["peak_psnr"], 2),
            "peak_iteration": summary["peak_iteration"], "final_psnr": round(summary["final_psnr"], 2),
            "seconds": summary["seconds"], "seconds_per_iteration": summary["seconds_per_iteration"],
            "cpu": summary.get("cpu"), "paper_psnr": paper}


def write_table(out, records, curves, size):
    """table1.json, table1.md and psnr_curves.png in folder ``out``."""
    first = records[0] if records else None
    recipe = (f"batch {first['batch'] or 'full'}, {first['sampler']} sampler, {first['schedule']} schedule, "
              f"beta2 {first['beta2']:g}, {first['iterations']} iterations = {first['equivalents']} full-image "
              f"equivalents per row") if first else "no finished row"
    studies.write_table(out, "table1", records,
                        ["row", "grid", "act", "blend", "init", "omega0", "lr", "params", "peak PSNR (dB)", "at iter",
                         "paper (dB)", "s/iter", "CPU"],
                        lambda r: [r["row"], r["grid"], r["act"], r["blend"], r["init"], f"{r['omega0']:g}",
                                   f"{r['lr']:g}", r["parameters"], f"{r['peak_psnr']:.2f}", r["peak_iteration"],
                                   r["paper_psnr"] or "-", f"{r['seconds_per_iteration']:.3f}", r["cpu"] or "-"],
                        preface=f"Recipe: {recipe}.\n\n")
    plot_curves(os.path.join(out, "psnr_curves.png"), curves, xlabel="full-image equivalents",
                title=f"camera {size} x {size}: PSNR vs full-image equivalents")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--equivalents", type=float, help="budget per row in full-image equivalents "
                                                       "(iterations x batch / pixels; default %(default)s)")
    ap.add_argument("--iters", type=int, help="iterations per row (replaces --equivalents)")
    ap.add_argument("--size", type=int, default=512, help="image side (default 512, the paper's)")
    ap.add_argument("--batch", type=int, help="pixels per step (default %(default)s; 0: the whole image)")
    ap.add_argument("--sampler", choices=SAMPLERS, help="default %(default)s")
    ap.add_argument("--schedule", choices=SCHEDULES, help="default %(default)s")
    ap.add_argument("--beta2", type=float, help="Adam's second-moment decay (default %(default)s)")
    ap.add_argument("--lr", type=float, help="learning rate of the rows (default %(default)s)")
    ap.add_argument("--siren-lr", type=float, help="learning rate of the rows with SIREN's init (default %(default)s)")
    ap.add_argument("--eval-every", type=int, help=f"iterations between evaluations (default: every "
                                                     f"{EVAL_EQUIVALENTS} equivalents; 10 with --iters)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    ap.add_argument("--rows", help="comma-separated row numbers (1-based) to run, in this order; default all "
                                   "(the table also lists every other row already finished in --out; '' trains none)")
    ap.add_argument("--out", default="results/table1_512", help="output folder (default %(default)s)")
    ap.set_defaults(**{k: TABLE[k] for k in ("equivalents", "batch", "sampler", "lr", "siren_lr", "schedule", "beta2")})
    args = ap.parse_args()
    rows = studies.TABLE_ROWS
    chosen = list(range(len(rows))) if args.rows is None else studies.select(args.rows, len(rows))
    done = {}
    for i in chosen:                                    # in the order given
        name, _, kwargs = rows[i]
        cfg = Config(**kwargs)
        done[i] = studies.train_row(os.path.join(args.out, studies.folder_name(name)), cfg,
                                  row_options(args, cfg.init), name)
    records, curves = [], {}
    for i, (name, paper, kwargs) in enumerate(rows):   # the table lists every row finished in --out
        cfg = Config(**kwargs)
        opts = row_options(args, cfg.init)
        summary = done.get(i) or studies.finished(os.path.join(args.out, studies.folder_name(name)), cfg, opts)
        if summary is None:
            continue
        records.append(record(name, paper, cfg, opts, summary, args.size))
        per_equivalent = args.size * args.size / (opts.batch or args.size * args.size)
        curves[name] = ([h["iteration"] / per_equivalent for h in summary["history"]],
                        [h["psnr"] for h in summary["history"]])
        print(f"{name:34s} peak {summary['peak_psnr']:6.2f} dB at {summary['peak_iteration']}"
              + (f"  (paper {paper})" if paper else ""), flush=True)
    write_table(args.out, records, curves, args.size)


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
