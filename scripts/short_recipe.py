#!/usr/bin/env python3
"""Choose the default command's recipe: the paper's network under a budget of about a minute.

Every variant trains the paper's network (fine_to_coarse, sine, nearest, 2 x 2 tiles,
default init) on camera 512 x 512 with batches of 4,096 pixels from the epoch sampler and
Adam (b1 0.9), for a budget in full-image equivalents, evaluated every 9 equivalents; the
variants differ in the schedule, Adam's beta2, the rate, the seed and the budget
(``VARIANTS``). Iterations, not seconds, are compared, so the runs may share the machine:
one process per core. Finished runs are reused and unfinished ones resume.

    taskset -c 0 python scripts/short_recipe.py --variants 1,3,5,7,9,11
    taskset -c 1 python scripts/short_recipe.py --variants 2,4,6,8,10
    python scripts/short_recipe.py --report       # results/short_recipe_512/short_recipe.json and .md
"""
import argparse
import os
import sys

from loe_ref.network import Config
from loe_ref.runs import studies
from loe_ref.training import recipes
from loe_ref.training.options import TrainOptions

PIXELS, BATCH = 512 * 512, 4096
#: schedule, beta2, lr, seed, budget in equivalents. The first is the earlier short recipe.
VARIANTS = [
    ("cosine", 0.99, 8e-3, 0, 72), ("cosine", 0.95, 8e-3, 0, 72), ("cosine", 0.8, 8e-3, 0, 72),
    ("linear", 0.99, 8e-3, 0, 72), ("linear", 0.9, 8e-3, 0, 72), ("linear", 0.8, 8e-3, 0, 72),
    ("linear", 0.6, 8e-3, 0, 72), ("linear", 0.8, 6e-3, 0, 72), ("linear", 0.8, 1e-2, 0, 72),
    ("linear", 0.8, 8e-3, 1, 72), ("linear", 0.8, 8e-3, 1, 80),
]


def run_options(schedule, beta2, lr, seed, budget):
    iters = recipes.iterations(budget, PIXELS, BATCH)
    return TrainOptions(image="camera", iters=iters, lr=lr, schedule=schedule, beta2=beta2, seed=seed,
                        batch=BATCH, sampler="epoch", eval_every=recipes.every(9, PIXELS, BATCH),
                        checkpoint_every=iters)


def folder(out, variant):
    schedule, beta2, lr, seed, budget = variant
    return os.path.join(out, f"E{budget:g}-{schedule}-b2_{beta2:g}-lr{lr:g}-seed{seed}")


def report(out):
    """short_recipe.json and short_recipe.md from the variants finished in ``out``."""
    records = []
    for number, variant in enumerate(VARIANTS, 1):
        summary = studies.finished(folder(out, variant), Config(), run_options(*variant))
        if not summary:
            continue
        schedule, beta2, lr, seed, budget = variant
        records.append({"variant": number, "schedule": schedule, "beta2": beta2, "lr": lr, "seed": seed,
                        "budget_equivalents": budget, "iterations": summary["iterations"],
                        "peak_psnr": round(summary["peak_psnr"], 2), "peak_iteration": summary["peak_iteration"],
                        "final_psnr": round(summary["final_psnr"], 2), "cpu": summary.get("cpu")})
    studies.write_table(out, "short_recipe", records,
                        ["variant", "budget (equivalents)", "schedule", "beta2", "lr", "seed", "peak PSNR (dB)",
                         "at iteration"],
                        lambda r: [r["variant"], f"{r['budget_equivalents']:g}", r["schedule"], f"{r['beta2']:g}",
                                   f"{r['lr']:g}", r["seed"], f"{r['peak_psnr']:.2f}", r["peak_iteration"]])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default=",".join(str(i) for i in range(1, len(VARIANTS) + 1)),
                    help="comma-separated variants, 1-based (default all)")
    ap.add_argument("--out", default="results/short_recipe_512", help="output folder (default %(default)s)")
    ap.add_argument("--report", action="store_true", help="only tabulate the finished runs")
    args = ap.parse_args()
    if not args.report:
        for i in studies.select(args.variants, len(VARIANTS), option="variants"):
            studies.train_row(folder(args.out, VARIANTS[i]), Config(), run_options(*VARIANTS[i]),
                            f"variant {i + 1}: {VARIANTS[i]}")
    report(args.out)


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
