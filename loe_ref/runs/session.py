"""A run in its folder, start to end: the one sequence that run.py and the studies share.

Lock the folder (one process per run), resume the checkpoint, prepare the folder (refuse
another run's files, clear stale temporaries), write config.json, catch the signals that
end a run, fit, checkpoint, and write the record and pictures (report.py). docs/runs.md.
"""
import os
import signal
from collections import namedtuple
from dataclasses import asdict

from ..backend import BackendError
from ..fast.workers import WorkerError
from ..training.loop import Diverged, TrainingError
from . import checkpoint, folder, report
from .files import write_json
from .progress import Progress
from .resume import load_resumable
from .signals import StopSignals

#: What a run can fail with that the user can mend: one line each, never a traceback.
#: (ValueError covers bad options and images, checkpoints, folders, memory and CPU limits.)
ERRORS = (ValueError, OSError, BackendError, TrainingError, WorkerError)

#: A run's end: its summary (report.summary), whether it reached its last iteration, and the
#: exit code its process should give (0, or 128 + the signal that stopped it).
Outcome = namedtuple("Outcome", "summary completed exit_code")


class Interrupted(Exception):
    """A run aborted outside its loop's control: a second signal, Ctrl-C before the loop, or
    a signal before its first step.

    ``exit_code`` is 128 + the signal; ``checkpoint`` the last checkpoint written (a path),
    or None; ``second_signal`` whether a first signal had asked the run to stop.
    """

    def __init__(self, exit_code, checkpoint, second_signal, before_first_step=False):
        kept = f"the last checkpoint written, {checkpoint}, is kept" if checkpoint else "no checkpoint was written"
        if before_first_step:
            what = f"stopped by {signal.Signals(exit_code - 128).name} before the first step; no run file was kept"
        else:
            what = f"{'aborted by a second signal' if second_signal else 'interrupted'}; {kept}"
        super().__init__(what)
        self.exit_code, self.checkpoint, self.second_signal = exit_code, checkpoint, second_signal


def train_in_folder(trainer, out, resume=None, overwrite=False, quiet=False, label=None):
    """Run ``trainer`` to its last iteration in folder ``out``; returns an Outcome.

    ``resume``: a checkpoint to continue (read under the folder's lock). ``overwrite``
    replaces another run's files in ``out``. The signals that end a run are caught from the
    start: a first one stops the run after its step, and the checkpoint and record are
    still written (the pictures only as time allows); a second raises Interrupted. A new
    run that fails or is stopped before its first checkpoint leaves no run file behind, so
    the same ``out`` can be used again. The trainer's worker processes end with the run.
    """
    ckpt = os.path.join(out, folder.CHECKPOINT)
    state = {"signals": None, "prepared": False}
    try:
        with StopSignals() as signals, folder.FolderLock(out):
            state["signals"] = signals
            try:
                summary, completed = _fit_in_folder(trainer, out, resume, overwrite, quiet, label, state)
            except BaseException:
                if state["prepared"] and not os.path.exists(ckpt):
                    folder.remove_run(out)        # under the lock: nothing resumable, nothing left
                raise
    except KeyboardInterrupt:
        signals = state["signals"]
        second = signals is not None and signals.requested is not None
        raise Interrupted(signals.exit_code if second else 130, ckpt if os.path.exists(ckpt) else None,
                          second) from None
    except WorkerError as exc:
        kept = f"its last checkpoint, {ckpt}, is kept" if os.path.exists(ckpt) else \
            "no checkpoint was written, and the run's files were removed"
        raise WorkerError(f"{exc}; {kept}") from None
    finally:
        trainer.close()
    if summary is None:
        raise Interrupted(state["signals"].exit_code, None, False, before_first_step=True)
    return Outcome(summary, completed, state["signals"].exit_code)


def _fit_in_folder(trainer, out, resume, overwrite, quiet, label, state):
    """``run``'s work under the folder's lock: (summary, completed). ``state`` receives the
    StopSignals and whether the folder was prepared (its run files are this run's since)."""
    opts, ckpt = trainer.opts, os.path.join(out, folder.CHECKPOINT)
    if resume:
        trainer.restore(*load_resumable(resume, trainer.cfg, trainer.opts, trainer.fingerprint))
    here = bool(resume) and os.path.isdir(out) and os.path.samefile(os.path.dirname(os.path.abspath(resume)), out)
    folder.prepare(out, overwrite=overwrite, resuming_here=here)
    state["prepared"] = not resume
    write_json(os.path.join(out, folder.CONFIG),
               {"model": asdict(trainer.cfg), "training": asdict(opts),
                "learning_rate": opts.learning_rate(trainer.cfg), "kind": trainer.signal.kind,
                "signal_shape": list(trainer.signal.values.shape), "rate": trainer.signal.rate,
                "resumed_from": resume})
    progress = Progress(opts.iters, trainer.iteration, quiet)
    if label:
        progress.log(f"== {label}: {opts.iters} iterations, lr {opts.learning_rate(trainer.cfg):g}, "
                     f"from {trainer.iteration}")

    def evaluated(row):
        progress.update(row.iteration, row.loss, row.psnr)
        if progress.quiet or not progress.bar:
            progress.log(f"iteration {row.iteration:6d}  loss {row.loss:.4e}  PSNR {row.psnr:7.3f} dB  "
                         f"{row.seconds:8.1f} s")
        report.write_metrics(out, trainer.history)

    signals = state["signals"]
    signals.on_first = lambda name: progress.log(f"{name}: stopping after this step (a second signal aborts)")
    if signals.requested is not None:
        progress.log(f"{signal.Signals(signals.requested).name}: stopping before the first step")
    completed = trainer.fit(stop=lambda: signals.requested is not None, progress=progress,
                            on_evaluation=evaluated, on_checkpoint=lambda: save_checkpoint(trainer, ckpt))
    progress.close()
    if trainer.iteration == 0 and state["prepared"]:     # a new run stopped before any step: nothing to keep
        folder.remove_run(out)
        return None, False
    if trainer.stop_row is not None:
        row = trainer.stop_row
        progress.log(f"iteration {row.iteration:6d}  loss {row.loss:.4e}  PSNR {row.psnr:7.3f} dB "
                     f"(at the stop; not in the record, so a resumed run's record is an uninterrupted one's)")
    save_checkpoint(trainer, ckpt)
    return report.write(out, trainer, stop=lambda: signals.requested is not None), completed


def out_of_memory(exc):
    """A MemoryError past the estimates (a GPU's OutOfMemoryError is one) in one line, with
    the options that lower what a run holds."""
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    return (f"out of memory ({type(exc).__name__}: {reason}); lower `batch` (pixels per step) or `chunk`, or "
            f"use a smaller `size`")


def save_checkpoint(trainer, path):
    """Write ``trainer``'s state to checkpoint ``path`` only when it is good: every parameter
    and Adam moment finite, and the last step's loss within the bound of divergence
    (Trainer.check_divergence); otherwise the last good checkpoint stays."""
    kept = "the last good checkpoint is kept" if os.path.exists(path) else "no checkpoint was written"
    bad = trainer.non_finite()
    if bad:
        raise Diverged(f"training state {', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''} became "
                            f"non-finite by iteration {trainer.iteration}; {kept}; {trainer.likely_cause()}")
    try:
        trainer.check_divergence()
    except Diverged as exc:
        raise Diverged(f"{exc}; {kept}") from None
    params, extra, meta = trainer.training_state()
    checkpoint.save(path, params, trainer.cfg, extra=extra, meta=meta)
