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
            f"`device` gpu needs CuPy, which is not importable ({exc}); "
            "install the wheel matching your CUDA, e.g. `pip install cupy-cuda12x`") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise BackendError(f"`device` gpu: CuPy is installed but no CUDA GPU is usable ({exc})") from None
    if count < 1:
        raise BackendError("`device` gpu: CuPy is installed but no CUDA GPU was found")
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
        if type(a) is not np.ndarray and type(a).__module__.split(".")[0] == "cupy":
            import cupy
            return cupy
    return np


def to_host(a):
    """A NumPy copy of ``a`` (no copy when it already is one)."""
    return a.get() if xp_of(a) is not np else np.asarray(a)


def to_device(a, xp):
    """``a`` as an array of module ``xp``."""
    return xp.asarray(a)
