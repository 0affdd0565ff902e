#!/usr/bin/env python3
"""Reproduce the paper's Table I on camera, with baselines, under one stated protocol.

Every row trains for the same number of iterations on the full image (full batch), Adam
at a constant learning rate: 1e-2 with the default initialisation, 1e-3 with SIREN's.
Rows already finished in the output folder (a summary.json for the same budget) are
reused, so an interrupted table continues where it stopped.

    python scripts/reproduce.py                          # 512 x 512, 2000 iterations
    python scripts/reproduce.py --size 128 --iters 300   # a reduced table
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from loe_ref.network import Config                      # noqa: E402
from loe_ref.outputs import plot_curves, write_json, write_text   # noqa: E402
from loe_ref.progress import Progress                 # noqa: E402
from loe_ref.train import Trainer, TrainOptions        # noqa: E402

# name, paper PSNR (Table I) or None, Config keyword arguments
ROWS = [
    ("fine_to_coarse leaky_relu", 34.26, dict(grid="fine_to_coarse", act="leaky_relu")),
    ("quadtree leaky_relu", 33.46, dict(grid="quadtree", act="leaky_relu")),
    ("fine_to_coarse sine", 39.05, dict(grid="fine_to_coarse", act="sine")),
    ("quadtree sine", 35.33, dict(grid="quadtree", act="sine")),
    ("fine_to_coarse sine siren-init", None, dict(grid="fine_to_coarse", act="sine", init="siren", omega0=30.0)),
    ("quadtree sine siren-init", None, dict(grid="quadtree", act="sine", init="siren", omega0=30.0)),
    ("gray_code sine", None, dict(grid="gray_code", act="sine")),
    ("fine_to_coarse sine linear", None, dict(grid="fine_to_coarse", act="sine", blend="linear")),
    ("MLP leaky_relu PE-8", None, dict(tile=1, act="leaky_relu", pe=8)),
    ("SIREN 128 hidden", None, dict(tile=1, hidden=128, act="sine", init="siren", omega0=30.0)),
]


def slug(name):
    return name.replace(" ", "_")


def cpu_name():
    """The CPU model, for the records (timings are only comparable on one CPU)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def train_row(out, cfg, opts, label):
    """Train (cfg, opts) in folder ``out`` to ``opts.iters``, resuming its checkpoint.

    A row already finished there (summary.json at the same iteration count) is reused.
    Returns (summary, history). Ctrl-C saves a checkpoint and raises KeyboardInterrupt.
    """
    summary_path = os.path.join(out, "summary.json")
    if os.path.exists(summary_path):
        summary = json.load(open(summary_path))
        if summary["iterations"] == opts.iters:
            return summary, json.load(open(os.path.join(out, "history.json")))
    trainer = Trainer(cfg, opts, out)
    if os.path.exists(os.path.join(out, "checkpoint.npz")):
        trainer.resume(os.path.join(out, "checkpoint.npz"))
    print(f"== {label}: {opts.iters} iterations, lr {opts.learning_rate(cfg):g}, from {trainer.iteration}",
          flush=True)
    if not trainer.fit(Progress(opts.iters, trainer.iteration, quiet=True)):
        trainer.save_checkpoint()
        raise KeyboardInterrupt
    trainer.save_checkpoint()
    summary = trainer.write_outputs()
    summary["cpu"] = cpu_name()
    write_json(summary_path, summary)
    write_json(os.path.join(out, "history.json"), trainer.history)
    return summary, trainer.history


def run_row(name, kwargs, args):
    cfg = Config(**kwargs)
    opts = TrainOptions(image="camera", size=[args.size, args.size] if args.size != 512 else [],
                        iters=args.iters, eval_every=args.eval_every, checkpoint_every=args.iters,
                        seed=args.seed, device=args.device)
    summary, history = train_row(os.path.join(args.out, slug(name)), cfg, opts, name)
    return cfg, opts, summary, history


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iters", type=int, default=2000, help="iterations per row (default 2000)")
    ap.add_argument("--size", type=int, default=512, help="image side (default 512, the paper's)")
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    ap.add_argument("--rows", help="comma-separated row numbers (1-based) to run; default all")
    ap.add_argument("--out", default="results/table1", help="output folder (default results/table1)")
    args = ap.parse_args()
    chosen = [int(r) - 1 for r in args.rows.split(",")] if args.rows else range(len(ROWS))
    records, curves = [], {}
    for i in chosen:
        name, paper, kwargs = ROWS[i]
        cfg, opts, summary, history = run_row(name, kwargs, args)
        records.append({"row": name, "grid": cfg.grid if cfg.tile > 1 else "none (one expert)", "activation": cfg.act, "blend": cfg.blend,
                        "init": cfg.init, "omega0": cfg.omega0, "tile": cfg.tile, "hidden": cfg.hidden,
                        "pe": cfg.pe, "lr": opts.learning_rate(cfg), "iterations": opts.iters,
                        "size": args.size, "parameters": summary["parameters"],
                        "peak_psnr": round(summary["peak_psnr"], 2), "peak_iteration": summary["peak_iteration"],
                        "final_psnr": round(summary["final_psnr"], 2),
                        "seconds_per_iteration": summary["seconds_per_iteration"], "paper_psnr": paper})
        curves[name] = ([h[0] for h in history], [h[2] for h in history])
        print(f"{name:34s} peak {summary['peak_psnr']:6.2f} dB at {summary['peak_iteration']}"
              + (f"  (paper {paper})" if paper else ""), flush=True)
    write_json(os.path.join(args.out, "table1.json"), records)
    lines = ["| row | grid | act | blend | init | omega0 | lr | params | peak PSNR (dB) | at iter | paper (dB) | s/iter |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['row']} | {r['grid']} | {r['activation']} | {r['blend']} | {r['init']} | "
                     f"{r['omega0']:g} | {r['lr']:g} | {r['parameters']} | {r['peak_psnr']:.2f} | "
                     f"{r['peak_iteration']} | {r['paper_psnr'] if r['paper_psnr'] else '-'} | "
                     f"{r['seconds_per_iteration']:.2f} |")
    write_text(os.path.join(args.out, "table1.md"), "\n".join(lines) + "\n")
    plot_curves(os.path.join(args.out, "psnr_curves.png"), curves,
                title=f"camera {args.size} x {args.size}: PSNR vs iteration")
    print(f"table in {os.path.join(args.out, 'table1.md')}")


if __name__ == "__main__":
    main()
