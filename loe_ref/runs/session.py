"""A run in its folder, start to end: the one sequence that run.py and the studies share.

Lock the folder (one process per run), resume the checkpoint, prepare the folder (refuse
another run's files, clear stale temporaries), write config.json, catch the signals that
end a run, fit, checkpoint, and write the record and pictures (report.py). docs/runs.md.
"""
import os
from collections import namedtuple
from dataclasses import asdict

from ..backend import BackendError
from ..fast.workers import WorkerError
from ..training.loop import TrainingError
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
    """A run aborted outside its loop's control: a second signal, or Ctrl-C before the loop.

    ``exit_code`` is 128 + the signal; ``checkpoint`` the last checkpoint written (a path),
    or None; ``second_signal`` whether a first signal had asked the run to stop.
    """

    def __init__(self, exit_code, checkpoint, second_signal):
        kept = f"the last checkpoint written, {checkpoint}, is kept" if checkpoint else "no checkpoint was written"
        super().__init__(f"{'aborted by a second signal' if second_signal else 'interrupted'}; {kept}")
        self.exit_code, self.checkpoint, self.second_signal = exit_code, checkpoint, second_signal


def train_in_folder(trainer, out, resume=None, overwrite=False, quiet=False, label=None):
    """Run ``trainer`` to its last iteration in folder ``out``; returns an Outcome.

    ``resume``: a checkpoint to continue (read under the folder's lock). ``overwrite``
    replaces another run's files in ``out``. A first signal stops the run after its step,
    and the checkpoint and pictures are still written; a second raises Interrupted.
    A new run that fails before its first checkpoint leaves no run file behind, so the same
    ``out`` can be used again.
    The trainer's worker processes end with the run.
    """
    ckpt = os.path.join(out, folder.CHECKPOINT)
    state = {"signals": None, "prepared": False}
    try:
        with folder.FolderLock(out):
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
    finally:
        trainer.close()
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
                "learning_rate": opts.learning_rate(trainer.cfg), "image_shape": list(trainer.image.shape),
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

    with StopSignals(lambda name: progress.log(
            f"{name}: stopping after this step (a second signal aborts)")) as signals:
        state["signals"] = signals
        completed = trainer.fit(stop=lambda: signals.requested is not None, progress=progress,
                                on_evaluation=evaluated, on_checkpoint=lambda: save_checkpoint(trainer, ckpt))
        progress.close()
        if trainer.stop_row is not None:
            row = trainer.stop_row
            progress.log(f"iteration {row.iteration:6d}  loss {row.loss:.4e}  PSNR {row.psnr:7.3f} dB "
                         f"(at the stop; not in the record, so a resumed run's record is an uninterrupted one's)")
        save_checkpoint(trainer, ckpt)
        return report.write(out, trainer), completed


def save_checkpoint(trainer, path):
    """Write ``trainer``'s state to checkpoint ``path``, never with a non-finite parameter or
    Adam moment (the last good checkpoint stays)."""
    bad = trainer.non_finite()
    if bad:
        kept = "the last good checkpoint is kept" if os.path.exists(path) else "no checkpoint was written"
        raise TrainingError(f"training state {', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''} became "
                            f"non-finite by iteration {trainer.iteration}; {kept}; {trainer.likely_cause()}")
    extra, meta = trainer.training_state()
    checkpoint.save(path, trainer.params, trainer.cfg, extra=extra, meta=meta)
