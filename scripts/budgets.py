#!/usr/bin/env python3
"""The paper's second claim at short budgets: does sine need fewer iterations than leaky ReLU?

The paper's four rows (fine_to_coarse and quadtree, sine and leaky ReLU 0.2, default init)
on camera 512 x 512 under a short recipe (``STUDIES``: "cosine", the short recipe as it
stood when the study first ran, lr 8e-3, cosine decay, beta2 0.99, into results/budgets_512;
"short", loe_ref/training/recipes.py's short recipe now, into results/budgets_512_short), each budget
with its own schedule over the budget, for each seed. Per run: the peak PSNR and the first
evaluated iteration at or above 30, 35 and 39.05 dB (evaluations every equivalent up to
150 equivalents, every 2.5 beyond). Finished runs are reused and unfinished ones resume, so
the same command continues an interrupted study; --report only tabulates.

    taskset -c 0 python scripts/budgets.py --rows 3,1 --seeds 0     # one core each
    taskset -c 1 python scripts/budgets.py --rows 4,2 --seeds 0
    python scripts/budgets.py --report        # results/budgets_512/budgets.json and budgets.md
    taskset -c 0 python scripts/budgets.py --study short --rows 3,1 --seeds 0   # the present recipe
"""
import argparse
import os
import sys

from loe_ref.network import Config
from loe_ref.runs import studies
from loe_ref.training import recipes
from loe_ref.training.options import TrainOptions

PIXELS = 512 * 512
LEVELS = (30.0, 35.0, 39.05)
#: Equivalents between evaluations: every one up to 150 equivalents, every 2.5 beyond;
#: a checkpoint every 20 evaluations.
DENSE_UP_TO, EVALS_PER_CHECKPOINT = 150, 20
#: The studies' rates over the short recipe, and their folders. "cosine" is fixed here, so that
#: a later change of the short recipe does not change the recorded study.
STUDIES = {"cosine": (dict(lr=8e-3, schedule="cosine", beta2=0.99), "results/budgets_512"),
           "short": ({}, "results/budgets_512_short")}


def run_options(budget, seed, study="cosine"):
    """Study ``study``'s recipe over ``budget`` equivalents: its own schedule, dense evaluations."""
    o = recipes.recipe_options("short", PIXELS, equivalents=budget, seed=seed, **STUDIES[study][0])
    o["eval_every"] = recipes.every(1 if budget <= DENSE_UP_TO else 2.5, PIXELS, o["batch"])
    o["checkpoint_every"] = o["eval_every"] * EVALS_PER_CHECKPOINT
    return TrainOptions(image="camera", **o)


def first_at(history, level):
    """The first evaluated iteration at or above ``level`` dB, or None."""
    return next((h["iteration"] for h in history if h["psnr"] >= level), None)


def folder(out, budget, seed, row):
    return os.path.join(out, f"E{budget:g}_seed{seed}", studies.folder_name(studies.TABLE_ROWS[row][0]))


def report(out, budgets, seeds, rows, study="cosine"):
    """budgets.json and budgets.md from the runs finished in ``out`` (nothing is trained)."""
    records = []
    for budget in budgets:
        for seed in seeds:
            for row in rows:
                name, _, kwargs = studies.TABLE_ROWS[row]
                opts = run_options(budget, seed, study)
                summary = studies.finished(folder(out, budget, seed, row), Config(**kwargs), opts)
                if not summary:
                    continue
                records.append({"row": name, "grid": kwargs["grid"], "act": kwargs["act"],
                                "budget_equivalents": budget, "seed": seed, "iterations": opts.iters,
                                "batch": opts.batch, "lr": opts.lr, "schedule": opts.schedule, "beta2": opts.beta2,
                                "eval_every": opts.eval_every,
                                "peak_psnr": round(summary["peak_psnr"], 2),
                                "peak_iteration": summary["peak_iteration"],
                                "first_iteration": {f"{lv:g}": first_at(summary["history"], lv) for lv in LEVELS},
                                "seconds": summary["seconds"], "cpu": summary.get("cpu")})
    studies.write_table(out, "budgets", records,
                        ["budget (equivalents)", "seed", "grid", "activation", "peak PSNR (dB)",
                         "iterations to 30 / 35 / 39.05 dB"],
                        lambda r: [f"{r['budget_equivalents']:g}", r["seed"], r["grid"], r["act"], f"{r['peak_psnr']:.2f}",
                                   " / ".join(str(v) if v is not None else "-" for v in r["first_iteration"].values())])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="1,2,3,4", help="rows of the table (studies.TABLE_ROWS; default the paper's four)")
    ap.add_argument("--seeds", default="0,1", help="comma-separated seeds (default 0,1)")
    ap.add_argument("--equivalents", default="50,150,600",
                    help="comma-separated budgets in full-image equivalents (default 50,150,600)")
    ap.add_argument("--study", choices=tuple(STUDIES), default="cosine",
                    help="cosine: the recorded study's recipe (lr 8e-3, cosine, beta2 0.99); short: the present "
                         "short recipe (default %(default)s)")
    ap.add_argument("--out", help="output folder (default: the study's, results/budgets_512 or results/budgets_512_short)")
    ap.add_argument("--report", action="store_true", help="only tabulate the finished runs")
    args = ap.parse_args()
    out = args.out or STUDIES[args.study][1]
    rows = studies.select(args.rows, 4)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
        budgets = [float(b) for b in args.equivalents.split(",")]
    except ValueError:
        raise ValueError(f"--seeds {args.seeds!r} and --equivalents {args.equivalents!r} must be "
                         f"comma-separated numbers") from None
    if not args.report:
        for budget in budgets:
            for seed in seeds:
                for row in rows:
                    name, _, kwargs = studies.TABLE_ROWS[row]
                    studies.train_row(folder(out, budget, seed, row), Config(**kwargs), run_options(budget, seed, args.study),
                                    f"{name}, {budget:g} equivalents, seed {seed}")
    report(out, budgets, seeds, rows, args.study)


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
