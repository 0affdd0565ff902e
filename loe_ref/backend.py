"""Array backend: NumPy by default, CuPy on request.

CuPy is imported only when a GPU is asked for. Every other module takes its array
module from its inputs with :func:`xp_of`, so the same code runs on either backend;
arrays cross between host and device only through :func:`to_host` and :func:`to_device`
(and ``float()`` of a scalar that is logged).
"""
import numpy as np

DEVICES = ("cpu", "gpu")


class BackendError(RuntimeError):
    """The requested device cannot be used on this machine."""


def get_xp(device="cpu"):
    """The array module for ``device``: numpy for 'cpu', cupy for 'gpu'."""
    if device == "cpu":
        return np
    if device != "gpu":
        raise BackendError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
    try:
        import cupy
    except ImportError as exc:
        raise BackendError(
            f"--device gpu needs CuPy, which is not importable ({exc}); "
            "install the wheel matching your CUDA, e.g. `pip install cupy-cuda12x`") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise BackendError(f"--device gpu: CuPy is installed but no CUDA GPU is usable ({exc})") from None
    if count < 1:
        raise BackendError("--device gpu: CuPy is installed but no CUDA GPU was found")
    return cupy


def gpu_available():
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        get_xp("gpu")
    except BackendError:
        return False
    return True


def xp_of(*arrays):
    """The array module (numpy or cupy) that owns the given arrays."""
    for a in arrays:
        if type(a).__module__.split(".")[0] == "cupy":
            import cupy
            return cupy
    return np


def to_host(a):
    """A NumPy copy of ``a`` (no copy when it already is one)."""
    return a.get() if xp_of(a) is not np else np.asarray(a)


def to_device(a, xp):
    """``a`` as an array of module ``xp``."""
    return xp.asarray(a)


_POOLS = {}


def usable_cpus():
    """CPUs this process may use: its affinity mask on Linux, the CPU count elsewhere,
    at most LOE_REF_THREADS when that is set."""
    import os
    if hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    cap = os.environ.get("LOE_REF_THREADS", "")
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            raise BackendError(f"LOE_REF_THREADS={cap!r} must be a positive integer")
        count = min(count, int(cap))
    return max(1, count)


#: Blocks each thread must have before a layer is shared among threads: with fewer, the
#: hand-over costs more than a second core brings when another process keeps one busy
#: (benchmarks/threads.py: 128 x 128 = 4 blocks ran 6% slower on two threads than on one).
BLOCKS_PER_THREAD = 4


def map_blocks(fn, blocks):
    """[fn(s, t) for (s, t) in blocks] on the threads the work is worth, results in order.

    Row blocks of one array touch disjoint rows, so they can run on a thread pool (NumPy
    and BLAS release the GIL). The blocks have a fixed number of rows, so the number of
    threads, min(cores, blocks // BLOCKS_PER_THREAD), follows the size of the work: small
    signals run on the calling thread. BLAS is held to one thread throughout; a
    multi-threaded BLAS on these small products is slower than one thread, by far when
    another process keeps a core busy (docs/performance.md, "Threads").
    """
    workers = min(usable_cpus(), len(blocks) // BLOCKS_PER_THREAD)
    with _blas_threads(1):
        if workers <= 1:
            return [fn(*b) for b in blocks]
        if workers not in _POOLS:
            from concurrent.futures import ThreadPoolExecutor
            _POOLS[workers] = ThreadPoolExecutor(workers)
        return list(_POOLS[workers].map(lambda b: fn(*b), blocks))


def single_threaded_blas():
    """Hold BLAS to one thread in this process from now on (a no-op without threadpoolctl).

    The CPU training loop calls it: its row blocks bring the parallelism, and the few
    products outside them (output layer, evaluation) are too small to gain from threads.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


class _blas_threads:
    """Limit BLAS to n threads inside the block (a no-op without threadpoolctl)."""
    _controller = None

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        if _blas_threads._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
                _blas_threads._controller = ThreadpoolController()
            except ImportError:
                _blas_threads._controller = False
        ctl = _blas_threads._controller
        self.limit = ctl.limit(limits=self.n, user_api="blas") if ctl else None
        return self

    def __exit__(self, *exc):
        if self.limit is not None:
            self.limit.restore_original_limits()
