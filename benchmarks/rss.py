"""Resident memory of this process, measured: what benchmarks/memory.py and large.py compare
the library's estimates with (Linux /proc; getrusage elsewhere)."""
import resource


def status_bytes(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def rss_peak():
    """Peak resident memory of this process image. VmHWM, not ru_maxrss: on Linux the latter
    keeps the high-water mark of the parent process this one was forked from."""
    hwm = status_bytes("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
