#!/usr/bin/env python3
"""Find the training recipe for Table I at 512 x 512: successive halving over the recipe.

Every run trains fine_to_coarse (sine, or leaky ReLU) for a budget in full-image
equivalents (iterations x batch / pixels). Stage 1a sweeps the pixel batch from a base
recipe, halving it further while the smallest batch leads; stage 1b varies one option at
a time (learning rate, schedule, Adam's beta2) around the best batch, at the same short
budget. Stage 2 runs the best stage-1 recipe for a longer budget, beside the same recipe
with a twice larger batch and with a three times lower rate, the two changes that make it
more stable.
Runs resume from their checkpoints; finished runs are reused.

    python scripts/recipe.py --act sine          # one process per activation
    python scripts/recipe.py --act leaky_relu
    python scripts/recipe.py --report            # table and curves of what has finished (trains nothing)
"""
import argparse
import os
import re
import sys

from loe_ref.fast.cpu import cpu_name
from loe_ref.network import Config
from loe_ref.runs import folder, studies
from loe_ref.runs.figures import plot_curves
from loe_ref.runs.files import write_json
from loe_ref.training import recipes
from loe_ref.training.options import TrainOptions

PIXELS = 512 * 512
BASE = dict(batch=65536, lr=1e-2, schedule="cosine", beta2=0.999, sampler="epoch")
BATCHES = [0, 32768, 16384, 8192, 4096]       # then halved while the smallest leads, down to SMALLEST
SMALLEST = 1024
# One option at a time away from the best batch: (option, value).
VARIATIONS = [("lr", 3e-3), ("lr", 2e-2), ("schedule", "constant"), ("schedule", "step"), ("beta2", 0.99)]


def name_of(recipe):
    """A short folder name for a recipe, e.g. b65536-lr0.01-cosine-b2_0.999-epoch."""
    batch = "full" if recipe["batch"] == 0 else recipe["batch"]
    return f"b{batch}-lr{recipe['lr']:g}-{recipe['schedule']}-b2_{recipe['beta2']:g}-{recipe['sampler']}"


NAME = re.compile(r"b(full|\d+)-lr([^-]+)-(\w+)-b2_([^-]+)-(\w+)$")


def recipe_of(name):
    """The recipe a folder is named after (``name_of``'s inverse), or None."""
    m = NAME.match(name)
    if not m:
        return None
    batch, lr, schedule, beta2, sampler = m.groups()
    return dict(batch=0 if batch == "full" else int(batch), lr=float(lr), schedule=schedule,
                beta2=float(beta2), sampler=sampler)


def options(recipe, equivalents):
    """TrainOptions for a recipe and a budget in full-image equivalents: an evaluation every
    5 equivalents, a checkpoint every 25."""
    iters = recipes.iterations(equivalents, PIXELS, recipe["batch"])
    evals = recipes.every(5, PIXELS, recipe["batch"])
    return TrainOptions(image="camera", iters=iters, eval_every=evals, checkpoint_every=5 * evals, **recipe)


def record_of(act, recipe, equivalents, summary):
    """(record, curve) of a finished run; curve: equivalents, PSNR and seconds per evaluation."""
    per_step = recipe["batch"] or PIXELS
    history = summary["history"]
    curve = ([h["iteration"] * per_step / PIXELS for h in history], [h["psnr"] for h in history],
             [h["seconds"] for h in history])
    record = dict(act=act, grid="fine_to_coarse", equivalents=equivalents, iterations=summary["iterations"],
                  peak_psnr=round(summary["peak_psnr"], 2), final_psnr=round(summary["final_psnr"], 2),
                  seconds=summary["seconds"], cpu=summary.get("cpu"), **recipe)
    return record, curve


def run(act, recipe, equivalents, out):
    """The record of a recipe's run, trained (or resumed, or reused) in its folder."""
    cfg = Config(grid="fine_to_coarse", act=act)
    row = os.path.join(out, f"E{equivalents}", act, name_of(recipe))
    summary = studies.train_row(row, cfg, options(recipe, equivalents), f"{act} {name_of(recipe)} E{equivalents}")
    return record_of(act, recipe, equivalents, summary)[0]


def stage2_recipes(records):
    """The best stage-1 recipe, and the same with each change that makes it more stable.

    The short budget favours aggressive recipes, and at batch 4096 a constant rate of 1e-2
    made sine collapse after about 60 equivalents; a long cosine run stays near its peak
    rate for hundreds. So the longer stage tries the leader beside a twice larger batch and
    a three times lower rate, to choose by the longer curve.
    """
    best = {k: max(records, key=lambda r: r["peak_psnr"])[k] for k in BASE}
    safer = [dict(best, batch=2 * best["batch"]) if best["batch"] else None,
             dict(best, lr=float(f"{best['lr'] / 3:.0e}"))]
    return [best] + [r for r in safer if r is not None]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--act", choices=["sine", "leaky_relu"], action="append",
                    help="activation(s) to study (default both, one after the other)")
    ap.add_argument("--equivalents", default="150,600",
                    help="the budgets of stage 1 and stage 2 in full-image equivalents (default %(default)s)")
    ap.add_argument("--out", default="results/recipe_512", help="output folder (default results/recipe_512)")
    ap.add_argument("--report", action="store_true", help="only tabulate the finished runs")
    ap.add_argument("--calibrate", action="store_true",
                    help="only time training steps per batch size on this process's cores (run it alone)")
    args = ap.parse_args()
    acts = args.act or ["sine", "leaky_relu"]
    budgets = args.equivalents.split(",")
    if len(budgets) != 2 or not all(b.strip().isdigit() and int(b) > 0 for b in budgets):
        raise ValueError(f"--equivalents {args.equivalents!r}: expected two positive integers, "
                         f"the budgets of stage 1 and stage 2, e.g. 150,600")
    short, long = (int(b) for b in budgets)
    if args.report:
        return report(args.out)
    if args.calibrate:
        return calibrate(acts, args.out)
    for act in acts:
        records = [run(act, r, short, args.out) for r in [BASE] + [dict(BASE, batch=b) for b in BATCHES]]
        best = max(records, key=lambda r: r["peak_psnr"])
        while best["batch"] == min(r["batch"] or PIXELS for r in records) and best["batch"] > SMALLEST:
            records.append(run(act, dict(BASE, batch=best["batch"] // 2), short, args.out))
            best = max(records, key=lambda r: r["peak_psnr"])
        base = {k: best[k] for k in BASE}
        records += [run(act, dict(base, **{k: v}), short, args.out) for k, v in VARIATIONS]
        for r in stage2_recipes(records):
            run(act, r, long, args.out)
    report(args.out)


def calibrate(acts, out, seconds=15.0):
    """Seconds per full-image equivalent of training steps (evaluations excluded), per batch.

    Run on a quiet machine, e.g. ``taskset -c 0 python scripts/recipe.py --calibrate``:
    the study's own seconds were measured beside other work.
    """
    import time

    from loe_ref.fast.cpu import usable_cpus
    from loe_ref.training.loop import Trainer
    records = []
    for act in acts:
        for batch in [0] + sorted({b for b in BATCHES + [65536, 2048] if b}, reverse=True):
            tr = Trainer(Config(grid="fine_to_coarse", act=act), options(dict(BASE, batch=batch), 10 ** 4))
            tr.step(0)
            it, start = 1, time.perf_counter()
            while time.perf_counter() - start < seconds or it < 3:
                tr.step(it)
                it += 1
            per_step = (time.perf_counter() - start) / (it - 1)
            tr.close()
            rec = {"act": act, "batch": batch, "seconds_per_step": round(per_step, 5),
                   "seconds_per_equivalent": round(per_step * PIXELS / (batch or PIXELS), 3),
                   "cores": usable_cpus(), "cpu": cpu_name()}
            records.append(rec)
            print(rec, flush=True)
    write_json(os.path.join(out, "calibration.json"), records)


def report(out):
    """recipe.json, recipe.md and one curve plot per budget and activation from the finished
    runs in ``out`` (read from their summaries; nothing is trained)."""
    records, curves = [], {}
    for root, _, files in sorted(os.walk(out)):
        recipe = recipe_of(os.path.basename(root))
        summary = studies.read_summary(root) if recipe and folder.SUMMARY in files else None
        if summary is None:
            continue
        act = os.path.basename(os.path.dirname(root))
        E = summary["iterations"] * (recipe["batch"] or PIXELS) // PIXELS
        record, curve = record_of(act, recipe, E, summary)
        records.append(record)
        curves.setdefault((E, act), {})[name_of(recipe)] = curve
    records.sort(key=lambda r: (r["act"], r["equivalents"], -r["peak_psnr"]))
    studies.write_table(out, "recipe", records,
                        ["act", "budget (equiv.)", "batch", "lr", "schedule", "beta2", "sampler", "iterations",
                         "peak PSNR (dB)", "final (dB)", "seconds"],
                        lambda r: [r["act"], r["equivalents"], r["batch"] or "full", f"{r['lr']:g}", r["schedule"],
                                   f"{r['beta2']:g}", r["sampler"], r["iterations"], f"{r['peak_psnr']:.2f}",
                                   f"{r['final_psnr']:.2f}", f"{r['seconds']:.0f}"])
    for (E, act), c in curves.items():
        plot_curves(os.path.join(out, f"curves_E{E}_{act}.png"), {k: v[:2] for k, v in c.items()},
                    title=f"camera 512 x 512, fine_to_coarse {act}: PSNR vs full-image equivalents",
                    xlabel="full-image equivalents")
        plot_curves(os.path.join(out, f"curves_E{E}_{act}_seconds.png"), {k: (v[2], v[1]) for k, v in c.items()},
                    title=f"camera 512 x 512, fine_to_coarse {act}: PSNR vs seconds (one core each)",
                    xlabel="seconds of training (one pinned core; evaluations included)")


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
