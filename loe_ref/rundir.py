"""One run per folder, interruptions that keep the last good state, memory refused up front.

docs/method.md, section 7. A run folder holds the files of exactly one run: a folder
that holds another run is refused unless ``overwrite`` removes that run's files first,
and a folder that another process is training in is refused while that process lives.
Signals that end a run (Ctrl-C, SIGTERM, SIGHUP) only ask the training loop to stop after
its step, so the checkpoint and summary always describe one whole step. The memory a
step and an evaluation need is estimated from the configuration before anything large
is allocated.
"""
import glob
import os
import signal
import threading

try:
    import fcntl
except ImportError:                  # not POSIX: folders are not locked
    fcntl = None

import numpy as np

from .encoding import encoded_dims

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
                              f"choose another --out, or add --overwrite to replace that run")
        for f in held:
            os.remove(os.path.join(out, f))
    os.makedirs(out, exist_ok=True)
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
                              f"{f' (pid {pid})' if pid else ''}; wait for it to end, or choose another --out")
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


class StopSignals:
    """Within the block, SIGINT, SIGTERM and SIGHUP ask to stop instead of killing.

    ``requested`` is the first signal's number (None until one comes); the training loop
    stops after the step in progress. A second signal aborts at once with
    KeyboardInterrupt, which still removes temporary files on its way out.
    ``exit_code`` is the shell's convention, 128 + the signal number.
    """
    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self, on_first=None):
        self.requested, self.on_first, self.previous = None, on_first, {}

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum
        if self.on_first:
            self.on_first(signal.Signals(signum).name)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:   # nohup's SIGHUP stays ignored
                    self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    @property
    def exit_code(self):
        return 0 if self.requested is None else 128 + int(self.requested)


class InterruptSignals:
    """Within the block, SIGTERM and SIGHUP interrupt like Ctrl-C (KeyboardInterrupt), so
    the temporary file of a write in progress is removed on the way out (for work that has
    no step to finish, such as a render). ``received``: the signal's number, or None."""

    def __init__(self):
        self.received, self.previous = None, {}

    def _handle(self, signum, frame):
        self.received = signum
        raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for name in ("SIGINT", "SIGTERM", "SIGHUP"):
                sig = getattr(signal, name, None)
                if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                    self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def plan_bytes(cfg, dtype):
    """Bytes per point of a routing plan: three int32 indices per layer and the unsort index
    (nearest), or the coefficients, corners and fractions of every layer (linear)."""
    s, L, d = np.dtype(dtype).itemsize, cfg.layers, cfg.in_dims
    if cfg.blend == "nearest":
        return L * 3 * 4 + 4
    return L * (cfg.n_experts * s + 2 ** d * 8 + d * 8)


def step_bytes(cfg, rows, dtype, backward=True):
    """Estimated peak bytes of the arrays of one forward (+ backward) pass over ``rows`` points.

    Per point: every layer keeps its gathered input (Ci values) and its pre-activation
    (sine: H values) or mask (leaky ReLU: H bytes); the routing plan; the output layer
    keeps the last activation; the backward pass holds two gradients of H values at a
    time. docs/method.md, section 7 gives the formula.
    """
    s = np.dtype(dtype).itemsize
    L, H, d, C = cfg.layers, cfg.hidden, cfg.in_dims, cfg.out_channels
    inputs = encoded_dims(d, cfg.pe) + (L - 1) * H
    acts = L * H * (s if cfg.act == "sine" else 1)
    per_point = (inputs * s + acts + plan_bytes(cfg, dtype) + H * s + (2 * H * s if backward else H * s)
                 + d * 8 + 2 * C * s)
    return rows * per_point


def param_count(cfg):
    widths = [encoded_dims(cfg.in_dims, cfg.pe)] + [cfg.hidden] * cfg.layers
    count = sum(cfg.n_experts * a * b + b for a, b in zip(widths[:-1], widths[1:]))
    return count + cfg.hidden * cfg.out_channels + cfg.out_channels


def param_bytes(cfg, dtype):
    """Parameters, their gradients and Adam's two moments."""
    return 4 * param_count(cfg) * np.dtype(dtype).itemsize


#: Memory a run takes beyond its arrays: BLAS work buffers, thread stacks and allocator
#: slack (benchmarks/memory.py: 48 to 110 MiB measured above the estimated arrays).
OVERHEAD = 48 * 2 ** 20


def peak_bytes(cfg, pixels, batch, chunk, dtype, processes=1):
    """(training, evaluation) peak estimates in bytes for an image of ``pixels`` points.

    Fixed: the picture (float64), its targets (float64 while loading, then ``dtype``), the
    epoch sampler's two permutations (int64, with batches), the parameters with their
    gradients and Adam's moments, the pixel grid's coordinates and plans when they are
    cached (evaluate.PLAN_CACHE_PIXELS), and ``OVERHEAD``. A step holds the batch's
    indices, coordinates and targets, and in each of ``processes`` processes one shard
    (shards.SHARD_ROWS points) in flight with its gradients; an evaluation holds the
    reconstruction (or a chunk of it) and one shard's forward pass per process.
    """
    from .evaluate import PLAN_CACHE_PIXELS
    from .shards import SHARD_ROWS
    rows = batch or pixels
    s = np.dtype(dtype).itemsize
    d, C = cfg.in_dims, cfg.out_channels
    image = pixels * (8 * C + (8 + 2 * s) * C + (16 if batch else 0))
    cached = pixels <= PLAN_CACHE_PIXELS
    # cached: the plans and coordinates, and while the coordinates are made, the flat pixel
    # index with its quotient and remainder (int64) and a column's two temporaries per axis
    grid = pixels * (plan_bytes(cfg, dtype) + d * s + 24 + 2 * d * s) if cached else 0
    fixed = image + grid + param_bytes(cfg, dtype) + OVERHEAD
    shard = min(rows, SHARD_ROWS)
    in_flight = processes * (step_bytes(cfg, shard, dtype) + param_count(cfg) * s)
    train = fixed + rows * (8 + d * s + C * s) + in_flight
    evaluate = fixed + (pixels if cached else min(chunk, pixels)) * (C * s + d * s) \
        + processes * step_bytes(cfg, shard, dtype, backward=False)
    return train, evaluate


def available_bytes():
    """Memory this process may still take: MemAvailable on Linux, else None (unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(cfg, pixels, batch, chunk, dtype, available=None, processes=1):
    """Raise RunDirError with the estimate when a run cannot fit in the available memory."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    train, evaluate = peak_bytes(cfg, pixels, batch, chunk, dtype, processes)
    gib = 2.0 ** 30
    if train > available:
        what = "the whole image" if batch == 0 else f"--batch {batch}"
        raise RunDirError(f"a training step on {what} needs about {train / gib:.1f} GiB but "
                          f"{available / gib:.1f} GiB are available; lower --batch"
                          + (" (pixels per step)" if batch == 0 else "")
                          + (f" or --hidden (now {cfg.hidden})" if param_bytes(cfg, dtype) > available / 4 else ""))
    if evaluate > available:
        raise RunDirError(f"an evaluation in chunks of --chunk {chunk} needs about {evaluate / gib:.1f} GiB "
                          f"but {available / gib:.1f} GiB are available; lower --chunk")

