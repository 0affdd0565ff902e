"""cupy.cuda of the stand-in: one device of ``stats.device_bytes``, and CuPy's OutOfMemoryError."""
import types as _types

from . import _OutOfMemoryError, stats

memory = _types.SimpleNamespace(OutOfMemoryError=_OutOfMemoryError)
runtime = _types.SimpleNamespace(getDeviceCount=lambda: 1, CUDARuntimeError=RuntimeError)


class Device:
    """The one device: ``mem_info`` is (free, total) bytes."""

    def __init__(self, index=0):
        self.id = index

    @property
    def mem_info(self):
        return stats.device_bytes - stats.used, stats.device_bytes

    def synchronize(self):
        stats.syncs += 1
