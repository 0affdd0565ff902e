"""One run per folder: the names of a run's files, the folder's lock, and its clean-up.

docs/runs.md. A run folder holds the files of exactly one run: a folder that holds
another run is refused unless ``overwrite`` removes that run's files first, and a folder
that another process is training in is refused while that process lives.
"""
import os

from .files import remove_stale_temporaries

try:
    import fcntl
except ImportError:                  # not POSIX: folders are not locked
    fcntl = None


CONFIG, METRICS, CHECKPOINT, SUMMARY = "config.json", "metrics.csv", "checkpoint.npz", "summary.json"
#: The pictures of a run, by what they show: an image's, and those of the other kinds
#: (a sound's waveforms and WAV, a video's frames and GIF, a volume's slices and array)
#: with the training curves.
PICTURES = {"reconstruction": "reconstruction.png", "error": "error.png", "comparison": "comparison.png",
            "curves": "psnr.png", "experts": "experts.png",
            "waveforms": "waveforms.png", "sound": "reconstruction.wav",
            "frames": "frames.png", "video": "reconstruction.gif",
            "slices": "slices.png", "volume": "reconstruction.npy"}
#: The pictures of each kind of signal.
KIND_PICTURES = {"image": ("reconstruction", "error", "comparison", "curves", "experts"),
                 "sound": ("sound", "waveforms", "curves"), "video": ("frames", "video", "curves"),
                 "volume": ("slices", "volume", "curves")}
#: Every file a run of any kind may write into its folder.
RUN_FILES = (CONFIG, METRICS, CHECKPOINT, SUMMARY) + tuple(PICTURES.values())


def run_files(kind):
    """The files a run of a ``kind`` signal writes into its folder."""
    return (CONFIG, METRICS, CHECKPOINT, SUMMARY) + tuple(PICTURES[k] for k in KIND_PICTURES[kind])


class RunDirError(ValueError):
    """An output folder that cannot take this run."""


class FolderInUse(RunDirError):
    """An output folder that another living process trains in."""


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
    """Every loe_ref temporary in ``out``: under the folder's lock, none belongs to a write in progress."""
    remove_stale_temporaries(out, everyone=True)


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
            raise FolderInUse(f"output folder {self.out!r} is in use by another process"
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
