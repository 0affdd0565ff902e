"""The CPU side: how many cores this process may use, BLAS on one thread, the allocator.

The cores are used by worker processes, one per core (workers.py). BLAS itself is held to
one thread: its threads on products of this size are slower than one, by far when
another process keeps a core busy (docs/performance.md).
"""
import ctypes
import os
import platform
import sys


class CpuError(ValueError):
    """A cap on the cores that is not a positive integer."""


def usable_cpus():
    """CPUs this process may use: its affinity mask on Linux, the CPU count elsewhere,
    at most LOE_REF_CPUS when that is set."""
    if hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    cap = os.environ.get("LOE_REF_CPUS", "")
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            raise CpuError(f"LOE_REF_CPUS={cap!r} must be a positive integer")
        count = min(count, int(cap))
    return max(1, count)


def cpu_name():
    """The CPU's model name, for benchmark records (speeds compare only on one CPU)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def single_threaded_blas():
    """Hold BLAS to one thread in this process from now on (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


def blas_info():
    """The BLAS libraries NumPy loaded, their kernel (architecture) and threads, for benchmarks."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for i in threadpool_info() if i.get("user_api") == "blas"]


#: glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory(mmap_threshold=32 * 2 ** 20, trim_threshold=256 * 2 ** 20):
    """Have glibc serve arrays up to 32 MiB from its heap and keep what is freed for reuse.

    By default glibc maps each array above 128 KiB from the kernel and returns it when
    freed, so every fresh activation of a step costs page faults (the step ran 1.9 x
    slower: docs/performance.md, "The allocator"). Only on glibc; a user's own
    MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ wins. Returns True when set.
    """
    if not sys.platform.startswith("linux") or any(
            k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
