"""A run in its folder, start to end: the one sequence that run.py and the scripts share.

Lock the folder (one process per run), resume the checkpoint, prepare the folder (refuse
another run's files, clear stale temporaries), write config.json, catch the signals that
end a run, fit, checkpoint, and write the record and pictures (report.py). A study's run
(``run_row``) is reused when it finished in its folder and resumed when it began there,
so an interrupted study continues where it stopped.
"""
import json
import os
import signal
import sys
from collections import namedtuple
from dataclasses import asdict

from . import report, rundir
from .files import write_json
from .progress import Progress
from .resume import load_resumable
from .backend import BackendError
from .train import Trainer, TrainingError
from .fast.workers import WorkerError

CHECKPOINT = "checkpoint.npz"

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


class Stopped(Exception):
    """A study's run stopped by a signal after writing its checkpoint; ``exit_code`` = 128 + it."""

    def __init__(self, signum, iteration, out):
        super().__init__(f"stopped by {signal.Signals(signum).name} at iteration {iteration}; "
                         f"the same command resumes from {out}")
        self.exit_code = 128 + int(signum)


def run(trainer, out, resume=None, overwrite=False, quiet=False, label=None):
    """Run ``trainer`` to its last iteration in folder ``out``; returns an Outcome.

    ``resume``: a checkpoint to continue (read under the folder's lock). ``overwrite``
    replaces another run's files in ``out``. A first signal stops the run after its step,
    and the checkpoint and pictures are still written; a second raises Interrupted.
    A new run that fails before its first checkpoint leaves no run file behind, so the same
    ``out`` can be used again.
    The trainer's worker processes end with the run.
    """
    ckpt = os.path.join(out, CHECKPOINT)
    state = {"signals": None, "prepared": False}
    try:
        with rundir.FolderLock(out):
            try:
                summary, completed = _fit_in_folder(trainer, out, resume, overwrite, quiet, label, state)
            except BaseException:
                if state["prepared"] and not os.path.exists(ckpt):
                    rundir.remove_run(out)        # under the lock: nothing resumable, nothing left
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
    opts, ckpt = trainer.opts, os.path.join(out, CHECKPOINT)
    if resume:
        trainer.resume(resume)
    here = bool(resume) and os.path.isdir(out) and os.path.samefile(os.path.dirname(os.path.abspath(resume)), out)
    rundir.prepare(out, overwrite=overwrite, resuming_here=here)
    state["prepared"] = not resume
    write_json(os.path.join(out, "config.json"),
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

    with rundir.StopSignals(lambda name: progress.log(
            f"{name}: stopping after this step (a second signal aborts)")) as signals:
        state["signals"] = signals
        completed = trainer.fit(stop=lambda: signals.requested is not None, progress=progress,
                                on_evaluation=evaluated, on_checkpoint=lambda: trainer.save_checkpoint(ckpt))
        progress.close()
        if trainer.stop_row is not None:
            row = trainer.stop_row
            progress.log(f"iteration {row.iteration:6d}  loss {row.loss:.4e}  PSNR {row.psnr:7.3f} dB "
                         f"(at the stop; not in the record, so a resumed run's record is an uninterrupted one's)")
        trainer.save_checkpoint(ckpt)
        return report.write(out, trainer), completed


def read_summary(out):
    """The summary.json of folder ``out``, or None when there is none."""
    path = os.path.join(out, "summary.json")
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def finished(out, cfg, opts):
    """The summary of run (cfg, opts) finished in folder ``out``, else None.

    Finished: its summary counts ``opts.iters`` iterations; a checkpoint kept beside it
    must be of the same run (resume.load_resumable raises CheckpointError otherwise).
    """
    summary = read_summary(out)
    if not summary or summary.get("iterations") != opts.iters:
        return None
    if os.path.exists(os.path.join(out, CHECKPOINT)):
        load_resumable(os.path.join(out, CHECKPOINT), cfg, opts)
    return summary


def run_row(out, cfg, opts, label):
    """The summary of a study's run (cfg, opts) in folder ``out``: reused when it finished
    there, resumed from its checkpoint when it began there, else trained from the start.

    Raises Stopped when a signal stopped it (its checkpoint is written).
    """
    done = finished(out, cfg, opts)
    if done:
        return done
    ckpt = os.path.join(out, CHECKPOINT)
    trainer = Trainer(cfg, opts)
    outcome = run(trainer, out, resume=ckpt if os.path.exists(ckpt) else None, quiet=True, label=label)
    if not outcome.completed:
        raise Stopped(outcome.exit_code - 128, trainer.iteration, out)
    return outcome.summary


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
    return 0
