"""The studies' side of runs: Table I's rows, and a study's run reused, resumed or trained.

``TABLE_ROWS`` are the networks of the paper's Table I and the baselines beside them; the
scripts refer to them by number (1-based). A study's run (``train_row``) is reused when it
finished in its folder and resumed when it began there, so an interrupted study continues
where it stopped. ``script_main`` gives a script one-line errors and the shell's exit codes.
"""
import argparse
import json
import os
import signal
import sys
from dataclasses import asdict

from ..training.loop import Diverged, Trainer
from . import folder
from .files import write_json, write_text
from .resume import load_resumable
from .session import ERRORS, Interrupted, out_of_memory, train_in_folder


class Stopped(Exception):
    """A study's run stopped by a signal after writing its checkpoint; ``exit_code`` = 128 + it."""

    def __init__(self, signum, iteration, out):
        super().__init__(f"stopped by {signal.Signals(signum).name} at iteration {iteration}; "
                         f"the same command resumes from {out}")
        self.exit_code = 128 + int(signum)


#: name, the paper's PSNR on camera (Table I, dB) or None, ``network.Config`` keywords.
TABLE_ROWS = [
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


def folder_name(name):
    """A row's folder name: its name with underscores for spaces."""
    return name.replace(" ", "_")


def select(text, count, option="rows"):
    """0-based indices from ``text``, comma-separated numbers from 1 to ``count`` ("" gives none)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if not t.isdigit() or not 1 <= int(t) <= count]
    if bad:
        raise ValueError(f"`{option}` {bad[0]!r}: numbers run from 1 to {count}")
    return [int(t) - 1 for t in items]


def share(runs, part):
    """Every n-th of ``runs`` from the k-th, for ``part`` = "k/n": the share of one of n processes (one per core)."""
    try:
        k, n = (int(v) for v in part.split("/"))
    except ValueError:
        k, n = -1, 0
    if not 0 <= k < n:
        raise ValueError(f"`part` {part!r}: expected k/n with 0 <= k < n")
    return runs[k::n]


def read_summary(out):
    """The summary.json of folder ``out``, or None when there is none."""
    path = os.path.join(out, folder.SUMMARY)
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def finished(out, cfg, opts):
    """The summary of run (cfg, opts) finished in folder ``out``, else None.

    Finished: its summary counts ``opts.iters`` iterations, or records that this very run
    diverged (``train_row`` with ``keep_diverged``); a checkpoint kept beside it must be of
    the same run (resume.load_resumable raises CheckpointError otherwise).
    """
    summary = read_summary(out)
    if summary and "diverged" in summary:
        return summary if summary.get("run") == run_key(cfg, opts) else None
    if not summary or summary.get("iterations") != opts.iters:
        return None
    if os.path.exists(os.path.join(out, folder.CHECKPOINT)):
        load_resumable(os.path.join(out, folder.CHECKPOINT), cfg, opts)
    return summary


def run_key(cfg, opts):
    """What identifies a run: its model and training options, as JSON would hold them."""
    return json.loads(json.dumps({"model": asdict(cfg), "training": asdict(opts)}))


def train_row(out, cfg, opts, label, keep_diverged=False, skip_busy=False):
    """The summary of a study's run (cfg, opts) in folder ``out``: reused when it finished
    there, resumed from its checkpoint when it began there, else trained from the start.

    ``keep_diverged``: a run that diverges is an outcome of the study (a search's rate too
    high), not a fault: its summary records the reason, the iteration and the peak PSNR
    before it, and the study goes on; otherwise Diverged is raised.
    ``skip_busy``: a run that another process trains is left to it (None is returned), so
    processes that run the same study share its runs; otherwise FolderInUse is raised.
    Raises Stopped when a signal stopped it (its checkpoint is written).
    """
    done = finished(out, cfg, opts)
    if done:
        return done
    ckpt = os.path.join(out, folder.CHECKPOINT)
    trainer = Trainer(cfg, opts)
    try:
        outcome = train_in_folder(trainer, out, resume=ckpt if os.path.exists(ckpt) else None, quiet=True,
                                  label=label)
    except folder.FolderInUse as exc:
        if not skip_busy:
            raise
        print(f"== {label}: skipped, {str(exc).split('; ')[0]}", flush=True)
        return None
    except Diverged as exc:
        if not keep_diverged:
            raise
        summary = {"diverged": " ".join(str(exc).split()), "iterations": trainer.iteration,
                   "peak_psnr": trainer.best[0] if trainer.history else None, "seconds": round(trainer.elapsed, 3),
                   "run": run_key(cfg, opts)}
        os.makedirs(out, exist_ok=True)
        write_json(os.path.join(out, folder.SUMMARY), summary)
        return summary
    if not outcome.completed:
        raise Stopped(outcome.exit_code - 128, trainer.iteration, out)
    return outcome.summary


def parser(doc, phases=None):
    """A study script's argument parser: its docstring's first line, ``--phase`` among
    ``phases`` (when given), ``--part k/n`` and ``--report``."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    if phases:
        ap.add_argument("--phase", choices=list(phases), help="which runs to train")
    ap.add_argument("--part", default="0/1", help="k/n: every n-th run from the k-th (one process per core)")
    ap.add_argument("--report", action="store_true", help="only tabulate the finished runs")
    return ap


def write_table(out, stem, records, columns, cells, preface=""):
    """``stem``.json (the records) and ``stem``.md (a Markdown table, ``preface`` above it) in
    folder ``out``; ``cells(record)`` gives a row's cells under ``columns``. Prints the table."""
    write_json(os.path.join(out, stem + ".json"), records)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(c) for c in cells(r)) + " |" for r in records]
    write_text(os.path.join(out, stem + ".md"), preface + "\n".join(lines) + "\n")
    print("\n".join(lines))


def script_main(main):
    """Run a script's ``main()`` and return its exit code: a study stopped by a signal gives
    128 + it, an error one line and 2, never a traceback for what the user can mend."""
    try:
        main()
    except (Stopped, Interrupted) as exc:
        print(f"{'' if isinstance(exc, Stopped) else 'error: '}{exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except ERRORS as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr, flush=True)
        return 2
    except MemoryError as exc:
        print("error: " + out_of_memory(exc), file=sys.stderr, flush=True)
        return 2
    return 0
