"""Parameters and training state in one ``.npz`` file, written atomically, read without pickle.

The file holds the parameter arrays under their names, optimiser state under
"adam_m/..." and "adam_v/...", and "config" and "meta" as JSON text in 0-d string arrays.
"""
import json
import os
import zipfile

import numpy as np

from .backend import to_host
from .network import Config, param_names, param_shapes
from .files import atomic_path


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the requested configuration."""


def save(path, params, cfg, extra=None, meta=None):
    """Write params (+ extra arrays, + JSON-able meta) to ``path`` atomically."""
    arrays = {k: to_host(v) for k, v in params.items()}
    arrays.update({k: to_host(v) for k, v in (extra or {}).items()})
    arrays["config"] = np.array(cfg.to_json())
    arrays["meta"] = np.array(json.dumps(meta or {}, sort_keys=True))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


#: Largest array a checkpoint member may declare before it is read (a damaged or hostile
#: header cannot make the reader allocate more).
MAX_MEMBER_BYTES = 2 ** 31


def member_headers(path):
    """{name: (shape, dtype)} of every array in the .npz at ``path``, read from the headers only."""
    headers = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = read(fh)
            headers[info.filename[:-4]] = (shape, dtype)
    return headers


def load(path):
    """(cfg, params, extra, meta) from a file written by :func:`save`; arrays on the host.

    Every member's header is read before any array: one that declares more than
    ``MAX_MEMBER_BYTES`` is refused unread. The parameters are then validated against
    the configuration (names, shapes, a real floating dtype, finite values).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist (or is not a file)")
    if not os.access(path, os.R_OK):
        raise CheckpointError(f"cannot read checkpoint {path!r}: permission denied")
    try:
        for name, (shape, dtype) in member_headers(path).items():
            size = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if size > MAX_MEMBER_BYTES:
                raise CheckpointError(f"checkpoint {path!r}: member {name!r} declares {shape} {dtype} "
                                      f"({size / 2 ** 30:.1f} GiB), more than any loe_ref checkpoint holds")
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        cfg = Config.from_json(str(arrays.pop("config")))
        meta = json.loads(str(arrays.pop("meta")))
    except CheckpointError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, MemoryError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CheckpointError(f"cannot read checkpoint {path!r}: not a complete loe_ref checkpoint "
                              f"({type(exc).__name__}: {reason})") from None
    names = param_names(cfg)
    missing = [n for n in names if n not in arrays]
    if missing:
        raise CheckpointError(f"checkpoint {path!r} lacks parameters {missing}")
    params = {n: arrays.pop(n) for n in names}
    check_arrays(path, params, param_shapes(cfg), "parameter")
    return cfg, params, arrays, meta


def check_arrays(path, arrays, shapes, what):
    """Raise CheckpointError naming the first array of the wrong shape, dtype or with non-finite values."""
    for k, shape in shapes.items():
        a = arrays[k]
        if a.dtype not in (np.float32, np.float64):
            raise CheckpointError(f"checkpoint {path!r}: {what} {k!r} has dtype {a.dtype}; expected float32 or float64")
        if a.shape != tuple(shape):
            raise CheckpointError(f"checkpoint {path!r}: {what} {k!r} has shape {a.shape}; the configuration "
                                  f"in the file needs {tuple(shape)}")
        if not np.isfinite(a).all():
            raise CheckpointError(f"checkpoint {path!r}: {what} {k!r} holds non-finite values")


def check_training_state(path, params, extra, meta):
    """Raise CheckpointError unless the file holds everything a resumed run needs, whole and sane."""
    path = os.fspath(path)
    lacking = [k for k in ("iteration", "elapsed", "history", "best", "adam_t", "options") if k not in meta]
    for k, v in params.items():
        for kind in ("adam_m", "adam_v"):
            a = extra.get(f"{kind}/{k}")
            if a is None or a.shape != v.shape:
                lacking.append(f"{kind}/{k}")
    if lacking:
        raise CheckpointError(f"checkpoint {path!r} cannot be resumed: it lacks {', '.join(lacking[:4])}"
                              f"{' ...' if len(lacking) > 4 else ''} (it can be rendered, not resumed)")
    check_arrays(path, extra, {f"{kind}/{k}": v.shape for k, v in params.items() for kind in ("adam_m", "adam_v")},
                 "Adam state")
    for field in ("iteration", "adam_t"):
        value = meta[field]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CheckpointError(f"checkpoint {path!r}: meta field {field!r} is {value!r}; expected a "
                                  f"non-negative integer")
    if not isinstance(meta["elapsed"], (int, float)) or not 0 <= meta["elapsed"] < float("inf"):
        raise CheckpointError(f"checkpoint {path!r}: meta field 'elapsed' is {meta['elapsed']!r}; expected "
                              f"non-negative seconds")
    if not isinstance(meta["history"], list) or not all(isinstance(r, list) and len(r) == 4 for r in meta["history"]):
        raise CheckpointError(f"checkpoint {path!r}: meta field 'history' is not a list of "
                              f"[iteration, loss, psnr, seconds] rows")
    if not isinstance(meta["best"], list) or len(meta["best"]) != 2:
        raise CheckpointError(f"checkpoint {path!r}: meta field 'best' is {meta['best']!r}; expected [psnr, iteration]")
    if not isinstance(meta["options"], dict):
        raise CheckpointError(f"checkpoint {path!r}: meta field 'options' is not a mapping of training options")
