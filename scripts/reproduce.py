#!/usr/bin/env python3
"""Reproduce the paper's Table I on camera, with baselines, under one stated protocol.

Every row trains with the same recipe for the same budget. The defaults are the protocol
of the 512 x 512 table (PROTOCOL; docs/results.md, "The 512 x 512 table"): batches of 4096
pixels from the epoch sampler, Adam at lr 3e-3 (1e-4 with SIREN's init) and beta2 0.99,
cosine decay to 1/100, 2,000 full-image equivalents per row. Rows already finished in the
output folder (a summary.json for the same budget, and a checkpoint trained the same way)
are reused and unfinished ones resume from their checkpoints, so an interrupted table
continues where it stopped.

    python scripts/reproduce.py --rows 3,1     # rows 3 and 1 of the 512 x 512 table
    python scripts/reproduce.py --rows ''      # rewrite the table from the finished rows
    python scripts/reproduce.py --size 128 --iters 800 --batch 0 --lr 1e-2 --siren-lr 1e-3 \
        --schedule constant --beta2 0.999 --out results/table1_128     # the reduced table
"""
import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from loe_ref.checkpoint import CheckpointError           # noqa: E402
from loe_ref.cpu import cpu_name                        # noqa: E402
from loe_ref.network import Config                      # noqa: E402
from loe_ref.outputs import plot_curves, write_json, write_text   # noqa: E402
from loe_ref.progress import Progress                 # noqa: E402
from loe_ref.rundir import FolderLock, RunDirError, StopSignals   # noqa: E402
from loe_ref.train import Trainer, TrainOptions, load_resumable   # noqa: E402

# The 512 x 512 table's protocol, the defaults of the options of the same names.
PROTOCOL = dict(equivalents=2000, batch=4096, sampler="epoch", lr=3e-3, siren_lr=1e-4, schedule="cosine",
                beta2=0.99, out="results/table1_512")

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
    ("MLP leaky_relu PE-8", None, dict(tile=1, hidden=126, act="leaky_relu", pe=8)),
    ("SIREN 128 hidden", None, dict(tile=1, hidden=128, act="sine", init="siren", omega0=30.0)),
]


def slug(name):
    return name.replace(" ", "_")


def numbers(text, count, option):
    """0-based indices from a comma-separated list of 1-based numbers ("" gives none)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if not t.isdigit() or not 1 <= int(t) <= count]
    if bad:
        sys.exit(f"error: {option} {bad[0]!r}: numbers run from 1 to {count}")
    return [int(t) - 1 for t in items]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def finished(out, iters):
    """The summary of the row trained to ``iters`` iterations in folder ``out``, else None."""
    path = os.path.join(out, "summary.json")
    summary = read_json(path) if os.path.exists(path) else None
    return summary if summary and summary["iterations"] == iters else None


def train_row(out, cfg, opts, label):
    """Train (cfg, opts) in folder ``out`` to ``opts.iters``, resuming its checkpoint.

    A row already finished there (summary.json at the same iteration count, and a
    checkpoint of the same configuration and options) is reused.
    Returns (summary, history). Ctrl-C, SIGTERM or SIGHUP save a checkpoint and exit with
    128 + the signal's number; a checkpoint of another configuration or recipe, or a
    folder another process is training in, exits with a one-line error.
    """
    ckpt = os.path.join(out, "checkpoint.npz")
    try:
        summary = finished(out, opts.iters)
        if summary:
            load_resumable(ckpt, cfg, opts)                 # trained as asked, or an error
            return summary, read_json(os.path.join(out, "history.json"))
        trainer = Trainer(cfg, opts, out)
        with FolderLock(out):                # one process per row; the checkpoint read under the lock
            if os.path.exists(ckpt):
                trainer.resume(ckpt)
            return fit_row(trainer, label)
    except (CheckpointError, RunDirError) as err:          # trained differently, damaged, in use
        sys.exit(f"error: {err}")


def fit_row(trainer, label):
    """Train ``trainer`` to its end and write the row's outputs: (summary, history)."""
    out, opts = trainer.out_dir, trainer.opts
    print(f"== {label}: {opts.iters} iterations, lr {opts.learning_rate(trainer.cfg):g}, from {trainer.iteration}",
          flush=True)
    with StopSignals() as signals:              # Ctrl-C, SIGTERM, SIGHUP: checkpoint, then stop
        done = trainer.fit(Progress(opts.iters, trainer.iteration, quiet=True),
                           stop=lambda: signals.requested is not None)
        trainer.save_checkpoint()
    if not done:
        print(f"stopped by {signal.Signals(signals.requested).name} at iteration {trainer.iteration}; "
              f"the same command resumes from {out}", file=sys.stderr, flush=True)
        sys.exit(signals.exit_code)
    summary = trainer.write_outputs()
    summary["cpu"] = cpu_name()
    write_json(os.path.join(out, "summary.json"), summary)
    write_json(os.path.join(out, "history.json"), trainer.history)
    return summary, trainer.history


def row_options(args, lr=None):
    """TrainOptions of a row under the protocol of ``args``; ``lr`` replaces --lr."""
    pixels = args.size * args.size
    per_step = args.batch or pixels
    iters = args.iters or args.equivalents * pixels // per_step
    eval_every = args.eval_every or (10 if args.iters else max(1, 5 * pixels // per_step))
    return TrainOptions(image="camera", size=[args.size, args.size] if args.size != 512 else [],
                        iters=iters, eval_every=eval_every,
                        checkpoint_every=iters if args.iters else min(iters, 5 * eval_every),
                        seed=args.seed, device=args.device, batch=args.batch, sampler=args.sampler,
                        schedule=args.schedule, beta2=args.beta2, lr=lr or args.lr)


def run_row(name, kwargs, args):
    cfg = Config(**kwargs)
    opts = row_options(args, args.siren_lr if cfg.init == "siren" else None)
    summary, history = train_row(os.path.join(args.out, slug(name)), cfg, opts, name)
    return cfg, opts, summary, history


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--equivalents", type=int, help="budget per row in full-image equivalents "
                                                     "(iterations x batch / pixels; default %(default)s)")
    ap.add_argument("--iters", type=int, help="iterations per row (replaces --equivalents)")
    ap.add_argument("--size", type=int, default=512, help="image side (default 512, the paper's)")
    ap.add_argument("--batch", type=int, help="pixels per step (default %(default)s; 0: the whole image)")
    ap.add_argument("--sampler", choices=["epoch", "replacement"], help="default %(default)s")
    ap.add_argument("--schedule", choices=["constant", "cosine", "step"], help="default %(default)s")
    ap.add_argument("--beta2", type=float, help="Adam's second-moment decay (default %(default)s)")
    ap.add_argument("--lr", type=float, help="learning rate of the rows (default %(default)s)")
    ap.add_argument("--siren-lr", type=float, help="learning rate of the rows with SIREN's init (default %(default)s)")
    ap.add_argument("--eval-every", type=int, help="iterations between evaluations (default 10; "
                                                     "every 5 equivalents unless --iters is given)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    ap.add_argument("--rows", help="comma-separated row numbers (1-based) to run, in this order; default all "
                                   "(the table also lists every other row already finished in --out; '' trains none)")
    ap.add_argument("--out", help="output folder (default %(default)s)")
    ap.set_defaults(**PROTOCOL)
    args = ap.parse_args()
    chosen = list(range(len(ROWS))) if args.rows is None else numbers(args.rows, len(ROWS), "--rows")
    trained = {i: run_row(ROWS[i][0], ROWS[i][2], args) for i in chosen}   # in the order given
    pixels = args.size * args.size
    records, curves = [], {}
    for i in range(len(ROWS)):         # the table lists every row finished in --out
        name, paper, kwargs = ROWS[i]
        if i not in chosen and not finished(os.path.join(args.out, slug(name)), row_options(args).iters):
            continue
        cfg, opts, summary, history = trained[i] if i in trained else run_row(name, kwargs, args)
        per_step = opts.batch or pixels
        records.append({"row": name, "grid": cfg.grid if cfg.tile > 1 else "none (one expert)", "act": cfg.act,
                        "blend": cfg.blend, "tile": cfg.tile, "layers": cfg.layers, "hidden": cfg.hidden,
                        "init": cfg.init, "omega0": cfg.omega0, "pe": cfg.pe, "lr": opts.learning_rate(cfg),
                        "schedule": opts.schedule, "batch": opts.batch, "sampler": opts.sampler,
                        "beta2": opts.beta2, "iterations": opts.iters,
                        "equivalents": round(opts.iters * per_step / pixels, 2), "size": args.size,
                        "parameters": summary["parameters"], "peak_psnr": round(summary["peak_psnr"], 2),
                        "peak_iteration": summary["peak_iteration"], "final_psnr": round(summary["final_psnr"], 2),
                        "seconds": summary["seconds"], "seconds_per_iteration": summary["seconds_per_iteration"],
                        "cpu": summary.get("cpu"), "paper_psnr": paper})
        curves[name] = ([h[0] * per_step / pixels for h in history], [h[2] for h in history])
        print(f"{name:34s} peak {summary['peak_psnr']:6.2f} dB at {summary['peak_iteration']}"
              + (f"  (paper {paper})" if paper else ""), flush=True)
    write_json(os.path.join(args.out, "table1.json"), records)
    lines = ["| row | grid | act | blend | init | omega0 | lr | params | peak PSNR (dB) | at iter | paper (dB) | s/iter | CPU |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['row']} | {r['grid']} | {r['act']} | {r['blend']} | {r['init']} | "
                     f"{r['omega0']:g} | {r['lr']:g} | {r['parameters']} | {r['peak_psnr']:.2f} | "
                     f"{r['peak_iteration']} | {r['paper_psnr'] if r['paper_psnr'] else '-'} | "
                     f"{r['seconds_per_iteration']:.3f} | {r['cpu'] or '-'} |")
    recipe = (f"batch {args.batch or 'full'}, {args.sampler} sampler, {args.schedule} schedule, beta2 {args.beta2:g}, "
              f"{records[0]['iterations'] if records else '-'} iterations = "
              f"{records[0]['equivalents'] if records else '-'} full-image equivalents per row")
    write_text(os.path.join(args.out, "table1.md"), f"Recipe: {recipe}.\n\n" + "\n".join(lines) + "\n")
    plot_curves(os.path.join(args.out, "psnr_curves.png"), curves, xlabel="full-image equivalents",
                title=f"camera {args.size} x {args.size}: PSNR vs full-image equivalents")
    print(f"table in {os.path.join(args.out, 'table1.md')}")


if __name__ == "__main__":
    main()
