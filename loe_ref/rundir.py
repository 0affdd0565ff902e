"""One run per folder, and interruptions that keep the last good state.

docs/method.md, section 7. A run folder holds the files of exactly one run: a folder
that holds another run is refused unless ``overwrite`` removes that run's files first,
and a folder that another process is training in is refused while that process lives.
Signals that end a run (Ctrl-C, SIGTERM, SIGHUP) only ask the training loop to stop after
its step, so the checkpoint and summary always describe one whole step.
"""
import glob
import os
import signal
import threading

try:
    import fcntl
except ImportError:                  # not POSIX: folders are not locked
    fcntl = None


#: Every file a run writes into its folder.
RUN_FILES = ("config.json", "metrics.csv", "checkpoint.npz", "summary.json", "reconstruction.png",
             "error.png", "comparison.png", "psnr.png", "experts.png")


class RunDirError(ValueError):
    """An output folder that cannot take this run."""


def prepare(out, overwrite=False, resuming_here=False):
    """Make ``out`` ready for one run: refuse another run's folder, clear stale temporaries.

    ``resuming_here``: the run continues the checkpoint of this very folder. ``overwrite``
    removes the files of the run already there (and nothing else) first.
    """
    held = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
    if held and not resuming_here:
        if not overwrite:
            raise RunDirError(f"output folder {out!r} already holds a run ({', '.join(held)}); "
                              f"choose another `out`, or pass `overwrite` to replace that run")
        for f in held:
            os.remove(os.path.join(out, f))
    os.makedirs(out, exist_ok=True)
    _remove_temporaries(out)


def remove_run(out):
    """Remove the run files in ``out`` (RUN_FILES and temporaries); other files stay."""
    for f in RUN_FILES:
        path = os.path.join(out, f)
        if os.path.exists(path):
            os.remove(path)
    _remove_temporaries(out)


def _remove_temporaries(out):
    """Every temporary in ``out``: under the folder's lock, none belongs to a write in progress."""
    for tmp in glob.glob(os.path.join(glob.escape(out), ".tmp-*")):
        os.remove(tmp)


#: The lock file of a folder in use (it holds the pid of the process using the folder).
LOCK_FILE = ".lock"


class FolderLock:
    """Within the block, this process alone trains in folder ``out``; another is refused.

    An advisory lock (``flock``) on ``out/.lock``, made with the folder when it is missing.
    The system releases it when the process ends, however it ends, so a lock never
    outlives its run and a killed run leaves nothing to clean up. Without ``fcntl`` (not
    POSIX) the block runs unlocked.
    """

    def __init__(self, out):
        self.out, self.handle = out, None

    def __enter__(self):
        if fcntl is None:
            return self
        os.makedirs(self.out, exist_ok=True)
        handle = open(os.path.join(self.out, LOCK_FILE), "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            pid = handle.read().strip()
            handle.close()
            raise RunDirError(f"output folder {self.out!r} is in use by another process"
                              f"{f' (pid {pid})' if pid else ''}; wait for it to end, or choose another `out`")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc):
        if self.handle is not None:
            self.handle.close()                   # closing releases the lock
            self.handle = None


class _Handlers:
    """Installs ``self._handle`` for SIGINT, SIGTERM and SIGHUP within the block (main thread
    only), and restores the previous handlers after it. A signal the process inherited as
    ignored (nohup's SIGHUP) stays ignored."""
    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __enter__(self):
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                    self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


class StopSignals(_Handlers):
    """Within the block, SIGINT, SIGTERM and SIGHUP ask to stop instead of killing.

    ``requested`` is the first signal's number (None until one comes); the training loop
    stops after the step in progress. A second signal aborts at once with
    KeyboardInterrupt, which still removes temporary files on its way out.
    ``exit_code`` is the shell's convention, 128 + the signal number.
    """

    def __init__(self, on_first=None):
        self.requested, self.on_first = None, on_first

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum
        if self.on_first:
            self.on_first(signal.Signals(signum).name)

    @property
    def exit_code(self):
        return 0 if self.requested is None else 128 + int(self.requested)


class InterruptSignals(_Handlers):
    """Within the block, SIGTERM and SIGHUP interrupt like Ctrl-C (KeyboardInterrupt), so
    the temporary file of a write in progress is removed on the way out (for work that has
    no step to finish, such as a render). ``received``: the signal's number, or None."""

    def __init__(self):
        self.received = None

    def _handle(self, signum, frame):
        self.received = signum
        raise KeyboardInterrupt
