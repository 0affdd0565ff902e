"""A strict stand-in for CuPy, backed by NumPy, so that the GPU path runs in every test run.

tests/conftest.py puts this package first on the path when the real CuPy is not
importable. It enforces what CuPy does and NumPy does not:

- no implicit conversion to NumPy: ``numpy.asarray(device_array)`` raises TypeError, as
  CuPy's ``__array__`` does; crossing to the host is ``.get()`` or ``cupy.asnumpy``;
- device functions refuse host arrays ("Unsupported type <class 'numpy.ndarray'>");
  ``cupy.asarray`` and assignment into a device array take them (a transfer);
- reductions return 0-d device arrays, not Python or NumPy scalars;
- ``bool()``, ``int()``, ``float()`` and ``.item()`` of a device array are host waits
  (synchronisations), counted; ``bool()`` of an array of more than one element fails;
- only CuPy's namespace (the functions listed in ``_FUNCTIONS``) exists;
- device memory is accounted against a device of ``LOE_REF_STANDIN_DEVICE_BYTES`` bytes
  (16 GiB by default): an allocation past it raises ``cupy.cuda.memory.OutOfMemoryError``
  (a MemoryError, as in CuPy).

``stats`` counts transfers each way and synchronisations. What it cannot tell: speed,
kernel compilation, GPU rounding (it computes as NumPy on the CPU does), asynchrony (every
operation is finished when it returns) and CuPy's full API (only what loe_ref uses is here).
"""
import os as _os
import weakref as _weakref

import numpy as _np

__version__ = "13.0.0-standin"
STANDIN = True


class _Stats:
    """Counts of host waits and transfers, and the device memory in use."""

    def __init__(self):
        self.device_bytes = int(_os.environ.get("LOE_REF_STANDIN_DEVICE_BYTES", 16 * 2 ** 30))
        self.used = 0
        self.reset()

    def reset(self):
        """Start the counts afresh, and the peak from the memory in use now."""
        self.to_host = self.to_device = self.syncs = 0
        self.peak = self.used


stats = _Stats()


class _OutOfMemoryError(MemoryError):
    """Out of memory allocating N bytes (allocated so far: M bytes)."""


_OutOfMemoryError.__name__ = _OutOfMemoryError.__qualname__ = "OutOfMemoryError"   # as CuPy names it

def _release(nbytes):
    stats.used -= nbytes


class ndarray:
    """A device array: a NumPy array that refuses to leave the device implicitly."""
    __slots__ = ("_a", "__weakref__")
    __array_ufunc__ = None             # NumPy defers to the reflected operator, which refuses host arrays

    def __init__(self, a):
        if a.flags.owndata and a.nbytes:
            if stats.used + a.nbytes > stats.device_bytes:
                raise _OutOfMemoryError(f"Out of memory allocating {a.nbytes:,} bytes (allocated so far: "
                                        f"{stats.used:,} bytes).")
            stats.used += a.nbytes
            stats.peak = max(stats.peak, stats.used)
            _weakref.finalize(self, _release, a.nbytes)
        self._a = a

    # crossing to the host, explicitly or as a wait
    def get(self):
        stats.to_host += 1
        return self._a.copy()

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                        "NumPy array explicitly.")

    def _scalar(self):
        if self._a.size != 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous.")
        stats.syncs += 1
        return self._a.reshape(()).item()

    def __bool__(self):
        return bool(self._scalar())

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def item(self):
        return self._scalar()

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))         # device sub-arrays, as CuPy

    def __repr__(self):
        return f"cupy-standin array(shape={self._a.shape}, dtype={self._a.dtype})"

    # attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    ndim = property(lambda self: self._a.ndim)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _wrap(self._a.T))

    def __getattr__(self, name):
        if name not in _METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name)
        return lambda *args, **kwargs: _wrap(method(*_unwrap(args), **_unwrap(kwargs)))

    # indexing: device or host indices (a host index is a transfer), host values likewise
    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        if isinstance(value, _np.ndarray):
            stats.to_device += 1                   # a host array crosses to the device
        else:
            value = _unwrap(value)
        self._a[_index(key)] = value


def _index(key):
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, ndarray):
        return key._a
    if isinstance(key, _np.ndarray):
        stats.to_device += 1
        return key
    return key


def _binary(op, reflected=False, inplace=False):
    def method(self, other):
        other = _unwrap(other)
        if inplace:
            getattr(self._a, op)(other)
            return self
        return _wrap(getattr(self._a, op)(other))
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
            "lshift", "rshift"):
    setattr(ndarray, f"__{_op}__", _binary(f"__{_op}__"))
    setattr(ndarray, f"__r{_op}__", _binary(f"__r{_op}__"))
    setattr(ndarray, f"__i{_op}__", _binary(f"__i{_op}__", inplace=True))
for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(ndarray, f"__{_op}__", _binary(f"__{_op}__"))
for _op in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_op}__", lambda self, _op=_op: _wrap(getattr(self._a, f"__{_op}__")()))
ndarray.__hash__ = None
ndarray.__module__ = "cupy"

#: The methods of cupy.ndarray that loe_ref and its tests use.
_METHODS = {"astype", "reshape", "ravel", "copy", "sum", "mean", "max", "min", "all", "any", "transpose",
            "fill", "cumsum", "argmax", "argmin", "clip", "dot", "squeeze", "view", "round", "prod"}


def _unwrap(x):
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray):
        if x.ndim == 0:
            return x[()]
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x):
    if isinstance(x, _np.ndarray):
        return ndarray(x)
    if isinstance(x, _np.generic):                   # reductions: 0-d device arrays, not scalars
        return ndarray(_np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _device_function(name):
    func = getattr(_np, name)

    def call(*args, **kwargs):
        out = kwargs.get("out")
        if isinstance(out, ndarray):
            func(*_unwrap(args), **_unwrap({k: v for k, v in kwargs.items() if k != "out"}), out=out._a)
            return out
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))
    call.__name__ = name
    return call


#: The functions of CuPy's namespace that loe_ref and its tests use.
_FUNCTIONS = {
    "arange", "empty", "empty_like", "zeros", "zeros_like", "ones", "ones_like", "full", "sin", "cos", "exp", "log",
    "log10", "sqrt", "abs", "floor", "ceil", "round", "maximum", "minimum", "multiply", "add", "subtract", "divide",
    "clip", "take", "take_along_axis", "stack", "concatenate", "matmul", "dot", "einsum", "isfinite", "isnan", "all",
    "any", "sum", "mean", "argsort", "bincount", "cumsum", "where", "sign", "square", "eye", "meshgrid", "argmax",
    "array_equal", "allclose", "logical_and", "logical_or", "unique", "sort", "nonzero", "flatnonzero", "tensordot",
    "linspace", "prod", "max", "min", "mod", "remainder", "power", "broadcast_to", "expand_dims", "transpose",
}
_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", "bool_", "complex64", "complex128", "dtype", "finfo", "iinfo", "pi", "e", "inf", "nan",
           "newaxis", "integer", "floating", "generic", "number"}


def asarray(a, dtype=None):
    """A device array of ``a``: a host array crosses to the device (counted)."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    if isinstance(a, _np.ndarray):
        stats.to_device += 1
    return ndarray(_np.array(a, dtype=dtype, copy=True))


array = asarray


def asnumpy(a):
    return a.get() if isinstance(a, ndarray) else _np.asarray(a)


def get_array_module(*arrays):
    import sys
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in arrays) else _np


def __getattr__(name):
    if name in _FUNCTIONS:
        return _device_function(name)
    if name in _DTYPES:
        return getattr(_np, name)
    raise AttributeError(f"module 'cupy' has no attribute {name!r} (not in the stand-in's CuPy namespace)")


from . import cuda as cuda  # noqa: E402
