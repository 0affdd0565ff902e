#!/usr/bin/env python3
"""The paper's second claim at short budgets: does sine need fewer iterations than leaky ReLU?

The paper's four rows (fine_to_coarse and quadtree, sine and leaky ReLU 0.2, default init)
on camera 512 x 512 under the short recipe (loe_ref/recipes.py), each budget with its own
cosine schedule over the budget, for each seed. Per run: the peak PSNR and the first
evaluated iteration at or above 30, 35 and 39.05 dB (evaluations every equivalent up to
150 equivalents, every 2.5 beyond). Finished runs are reused and unfinished ones resume, so
the same command continues an interrupted study; --report only tabulates.

    taskset -c 0 python scripts/budgets.py --rows 3,1 --seeds 0     # one core each
    taskset -c 1 python scripts/budgets.py --rows 4,2 --seeds 0
    python scripts/budgets.py --report        # results/budgets_512/budgets.json and budgets.md
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from loe_ref import recipes                               # noqa: E402
from loe_ref.network import Config                        # noqa: E402
from loe_ref.outputs import write_json, write_text        # noqa: E402
from loe_ref.train import TrainOptions                    # noqa: E402
from reproduce import ROWS, numbers, slug, train_row      # noqa: E402

PIXELS = 512 * 512
LEVELS = (30.0, 35.0, 39.05)


def run_options(budget, seed):
    """The short recipe over ``budget`` equivalents: its own schedule, dense evaluations."""
    o = recipes.options("short", PIXELS, equivalents=budget, seed=seed)
    per_eq = PIXELS // o["batch"]
    o["eval_every"] = per_eq if budget <= 150 else per_eq * 5 // 2
    o["checkpoint_every"] = o["eval_every"] * 20
    return TrainOptions(image="camera", **o)


def first_at(history, level):
    """The first evaluated iteration at or above ``level`` dB, or None."""
    return next((h[0] for h in history if h[2] >= level), None)


def folder(out, budget, seed, row):
    return os.path.join(out, f"E{budget:g}_seed{seed}", slug(ROWS[row][0]))


def report(out, budgets, seeds, rows):
    records = []
    for budget in budgets:
        for seed in seeds:
            for row in rows:
                path = os.path.join(folder(out, budget, seed, row), "summary.json")
                opts = run_options(budget, seed)
                if not os.path.exists(path):
                    continue
                with open(path) as f:
                    summary = json.load(f)
                if summary["iterations"] != opts.iters:
                    continue
                with open(os.path.join(os.path.dirname(path), "history.json")) as f:
                    history = json.load(f)
                name = ROWS[row][0]
                records.append({"row": name, "grid": ROWS[row][2]["grid"], "act": ROWS[row][2]["act"],
                                "budget_equivalents": budget, "seed": seed, "iterations": opts.iters,
                                "batch": opts.batch, "lr": opts.lr, "eval_every": opts.eval_every,
                                "peak_psnr": round(summary["peak_psnr"], 2),
                                "peak_iteration": summary["peak_iteration"],
                                "first_iteration": {f"{lv:g}": first_at(history, lv) for lv in LEVELS},
                                "seconds": summary["seconds"], "cpu": summary.get("cpu")})
    write_json(os.path.join(out, "budgets.json"), records)
    lines = ["| budget (equivalents) | seed | grid | activation | peak PSNR (dB) | iterations to 30 / 35 / 39.05 dB |",
             "|---|---|---|---|---|---|"]
    for r in records:
        its = " / ".join(str(v) if v is not None else "-" for v in r["first_iteration"].values())
        lines.append(f"| {r['budget_equivalents']:g} | {r['seed']} | {r['grid']} | {r['act']} | "
                     f"{r['peak_psnr']:.2f} | {its} |")
    write_text(os.path.join(out, "budgets.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="1,2,3,4", help="rows of reproduce.py's table (default the paper's four)")
    ap.add_argument("--seeds", default="0,1", help="comma-separated seeds (default 0,1)")
    ap.add_argument("--budgets", default="50,150,600", help="budgets in full-image equivalents (default 50,150,600)")
    ap.add_argument("--out", default="results/budgets_512", help="output folder (default %(default)s)")
    ap.add_argument("--report", action="store_true", help="only tabulate the finished runs")
    args = ap.parse_args()
    rows = numbers(args.rows, 4, "--rows")
    seeds = [int(s) for s in args.seeds.split(",")]
    budgets = [float(b) for b in args.budgets.split(",")]
    if not args.report:
        for budget in budgets:
            for seed in seeds:
                for row in rows:
                    cfg = Config(**ROWS[row][2])
                    label = f"{ROWS[row][0]}, {budget:g} equivalents, seed {seed}"
                    train_row(folder(args.out, budget, seed, row), cfg, run_options(budget, seed), label)
    report(args.out, budgets, seeds, rows)


if __name__ == "__main__":
    main()
