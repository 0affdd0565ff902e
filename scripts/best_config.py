#!/usr/bin/env python3
"""Screen model configurations for Table I's "best configuration" row at 512 x 512.

Every candidate has at most the paper's 132,225 parameters and trains under the table's
recipe (scripts/recipe.py chose it; the options below default to it) for a short budget
in full-image equivalents; the leader then becomes the table's best-configuration row.
Runs resume from their checkpoints; finished runs are reused.

    python scripts/best_config.py --budget 150
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recipe import PIXELS, options                             # noqa: E402
from reproduce import PROTOCOL, numbers, slug, train_row       # noqa: E402
from loe_ref.network import Config, count_params, init_params  # noqa: E402
from loe_ref.outputs import plot_curves, write_json, write_text   # noqa: E402

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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=int, default=150, help="full-image equivalents per candidate (default 150)")
    ap.add_argument("--batch", type=int, default=PROTOCOL["batch"], help="default %(default)s")
    ap.add_argument("--lr", type=float, default=PROTOCOL["lr"],
                    help="learning rate of candidates without their own (default %(default)s)")
    ap.add_argument("--schedule", default=PROTOCOL["schedule"], help="default %(default)s")
    ap.add_argument("--beta2", type=float, default=PROTOCOL["beta2"], help="default %(default)s")
    ap.add_argument("--only", help="comma-separated candidate numbers (1-based) to train; the table "
                                   "also lists every other candidate already finished; '' trains none")
    ap.add_argument("--out", default="results/best_config_512")
    args = ap.parse_args()
    chosen = range(len(CANDIDATES)) if args.only is None else numbers(args.only, len(CANDIDATES), "--only")
    records, curves = [], {}
    for i in range(len(CANDIDATES)):     # the table covers every candidate finished in --out
        name, model, lr = CANDIDATES[i]
        folder = os.path.join(args.out, f"E{args.budget}_b{args.batch}", slug(name))
        if i not in chosen and not os.path.exists(os.path.join(folder, "summary.json")):
            continue
        cfg = Config(**model)
        params = count_params(init_params(cfg, 0))
        if params > PAPER_PARAMS:
            raise SystemExit(f"candidate {name!r} has {params} parameters, over the paper's {PAPER_PARAMS}")
        opts = options(dict(batch=args.batch, lr=lr or args.lr, schedule=args.schedule, beta2=args.beta2,
                            sampler=PROTOCOL["sampler"]), args.budget)
        summary, history = train_row(folder, cfg, opts, name)
        records.append({"candidate": name, **model, "lr": opts.learning_rate(cfg), "parameters": params,
                        "batch": args.batch, "schedule": args.schedule, "beta2": args.beta2,
                        "equivalents": args.budget, "peak_psnr": round(summary["peak_psnr"], 2),
                        "seconds": summary["seconds"], "cpu": summary.get("cpu")})
        curves[name] = ([h[0] * args.batch / PIXELS for h in history], [h[2] for h in history])
    records.sort(key=lambda r: -r["peak_psnr"])
    write_json(os.path.join(args.out, f"candidates_E{args.budget}_b{args.batch}.json"), records)
    lines = ["| candidate | lr | parameters | peak PSNR (dB) | seconds |", "|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['lr']:g} | {r['parameters']} | {r['peak_psnr']:.2f} | {r['seconds']:.0f} |"
              for r in records]
    write_text(os.path.join(args.out, f"candidates_E{args.budget}_b{args.batch}.md"), "\n".join(lines) + "\n")
    plot_curves(os.path.join(args.out, f"candidates_E{args.budget}_b{args.batch}.png"), curves, xlabel="full-image equivalents",
                title="camera 512 x 512: candidates for the best configuration")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
