"""Parameters and training state in one ``.npz`` file, written atomically, read without pickle.

The file holds the parameter arrays under their names, optimiser state under
"adam_m/..." and "adam_v/...", and "config" and "meta" as JSON text in 0-d string arrays.
"""
import json
import os
import zipfile

import numpy as np

from ..backend import to_host
from ..fast.memory import available_bytes
from ..network import Config, param_names, param_shapes
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


#: Most bytes of arrays a checkpoint may declare before any is read (the paper's network
#: in float64 with Adam's moments takes 3 MiB).
MAX_MEMBER_BYTES = 2 ** 31


def member_headers(zf, path):
    """{name: (shape, dtype)} of every member of the open .npz ``zf``, from the headers only.

    Every member must be an array named ``<name>.npy``, stored as :func:`save` writes it (not
    compressed, not encrypted), and no name may come twice: NumPy would otherwise read a
    member ``W1`` in place of ``W1.npy``."""
    headers = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy") or info.filename[:-4] in headers:
            raise CheckpointError(f"checkpoint {path!r}: unexpected member {info.filename!r} (a checkpoint holds "
                                  f"one <name>.npy array per name)")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise CheckpointError(f"checkpoint {path!r}: member {info.filename!r} is compressed (method "
                                  f"{info.compress_type}) or encrypted; a checkpoint stores its members as they are")
        try:
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = read(fh)
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {path!r}: member {info.filename!r} is not a NumPy array "
                                  f"({' '.join(str(exc).split())[:100]})") from None
        headers[info.filename[:-4]] = (shape, dtype)
    return headers


def _read(zf, name):
    """The array of member ``<name>.npy``, read by that exact name, without pickle."""
    with zf.open(name + ".npy") as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


#: Largest text member (the configuration, the metadata) a checkpoint may declare.
MAX_TEXT_BYTES = 2 ** 26


def expected_members(cfg):
    """{name: shape} of every array a checkpoint of ``cfg`` may hold: the parameters and Adam's moments."""
    shapes = param_shapes(cfg)
    return {**shapes, **{f"{kind}/{k}": v for k, v in shapes.items() for kind in ("adam_m", "adam_v")}}


def load(path):
    """(cfg, params, extra, meta) from a file written by :func:`save`; arrays on the host.

    Nothing is decompressed before its header is checked: the configuration and metadata
    members first (text of at most MAX_TEXT_BYTES), then every array's declared name,
    shape and dtype against the configuration, and their total against the available
    memory. So a damaged or hostile file cannot make the reader allocate more than a
    checkpoint of its own configuration holds. The parameters' values are then validated
    (finite, a real floating dtype).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist (or is not a file)")
    if not os.access(path, os.R_OK):
        raise CheckpointError(f"cannot read checkpoint {path!r}: permission denied")
    try:
        with zipfile.ZipFile(path) as zf:
            headers = member_headers(zf, path)
            for name in ("config", "meta"):
                shape, dtype = headers.get(name, (None, None))
                if dtype is None or dtype.kind != "U" or shape != () or dtype.itemsize > MAX_TEXT_BYTES:
                    raise CheckpointError(f"checkpoint {path!r}: member {name!r} is "
                                          f"{'missing' if dtype is None else f'{shape} {dtype}'}; expected JSON text")
            cfg = Config.from_json(str(_read(zf, "config")))
            meta = json.loads(str(_read(zf, "meta")))
            check_meta(path, meta)
            expected, total = expected_members(cfg), 0
            for name, (shape, dtype) in headers.items():
                if name in ("config", "meta"):
                    continue
                if name not in expected:
                    raise CheckpointError(f"checkpoint {path!r}: unexpected member {name!r} (a checkpoint holds the "
                                          f"parameters, Adam's moments, the configuration and metadata)")
                if dtype not in (np.float32, np.float64):
                    raise CheckpointError(f"checkpoint {path!r}: {name!r} has dtype {dtype}; expected float32 or float64")
                if tuple(shape) != tuple(expected[name]):
                    raise CheckpointError(f"checkpoint {path!r}: {name!r} has shape {tuple(shape)}; the configuration "
                                          f"in the file needs {tuple(expected[name])}")
                total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            available = available_bytes()
            if total > MAX_MEMBER_BYTES or (available is not None and total > available):
                raise CheckpointError(f"checkpoint {path!r} declares {total / 2 ** 30:.1f} GiB of arrays, more than "
                                      f"{'this machine has available' if total <= MAX_MEMBER_BYTES else 'any loe_ref checkpoint holds'}")
            arrays = {k: _read(zf, k) for k in headers if k not in ("config", "meta")}
    except CheckpointError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, MemoryError, RuntimeError,
            zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise CheckpointError(f"cannot read checkpoint {path!r}: not a complete loe_ref checkpoint "
                              f"({type(exc).__name__}: {reason})") from None
    names = param_names(cfg)
    missing = [n for n in names if n not in arrays]
    if missing:
        raise CheckpointError(f"checkpoint {path!r} lacks parameters {missing}")
    params = {n: arrays.pop(n) for n in names}
    check_finite(path, params, "parameter")
    return cfg, params, arrays, meta


def _count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _row(v):
    return (isinstance(v, list) and len(v) in (4, 5) and _count(v[0]) and all(_number(x) or x is None for x in v[1:4])
            and (len(v) == 4 or v[4] is None or (isinstance(v[4], list) and all(_number(x) for x in v[4]))))


#: The record's fields a checkpoint may hold, each with the check of its value and its wording.
META_FIELDS = {
    "iteration": (_count, "a non-negative integer"), "adam_t": (_count, "a non-negative integer"),
    "elapsed": (lambda v: _number(v) and 0 <= v < float("inf"), "non-negative seconds"),
    "evaluation_seconds": (lambda v: _number(v) and 0 <= v < float("inf"), "non-negative seconds"),
    "first_loss": (lambda v: v is None or _number(v), "a number or null"),
    "history": (lambda v: isinstance(v, list) and all(_row(r) for r in v), "a list of [iteration, loss, psnr, seconds(, frames)] rows"),
    "best": (lambda v: isinstance(v, list) and len(v) == 2 and (_number(v[0]) or v[0] is None) and _count(v[1]),
             "[psnr, iteration]"),
    "options": (lambda v: isinstance(v, dict), "a mapping of training options"),
    "image_sha256": (lambda v: isinstance(v, str), "text"), "image_path": (lambda v: isinstance(v, str), "text"),
    "cwd": (lambda v: isinstance(v, str), "text"),
    "kind": (lambda v: v in ("image", "sound", "video", "volume"), "image, sound, video or volume"),
    "rate": (lambda v: v is None or (_number(v) and 0 < v < float("inf")), "a positive number or null"),
    "grid": (lambda v: isinstance(v, list) and 1 <= len(v) <= 3 and all(_count(x) and x > 0 for x in v),
             "a list of 1 to 3 positive sizes"),
}


def check_meta(path, meta):
    """Raise CheckpointError naming the first record field of the wrong type (the fields a
    checkpoint of an earlier version lacks are checked where they are needed)."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path!r}: its record is {type(meta).__name__}; expected a mapping")
    for field, (ok, expected) in META_FIELDS.items():
        if field in meta and not ok(meta[field]):
            shown = repr(meta[field])
            raise CheckpointError(f"checkpoint {path!r}: record field {field!r} is "
                                  f"{shown if len(shown) <= 60 else shown[:57] + '...'}; expected {expected}")


def check_finite(path, arrays, what):
    """Raise CheckpointError naming the first array with a non-finite value (``load`` has checked
    every array's name, shape and dtype from its header)."""
    for k, a in arrays.items():
        if not np.isfinite(a).all():
            raise CheckpointError(f"checkpoint {path!r}: {what} {k!r} holds non-finite values")


def check_training_state(path, params, extra, meta):
    """Raise CheckpointError unless the file holds everything a resumed run needs, whole and sane."""
    path = os.fspath(path)
    lacking = [k for k in ("iteration", "elapsed", "history", "best", "adam_t", "options") if k not in meta]
    for k, v in params.items():
        for kind in ("adam_m", "adam_v"):
            if f"{kind}/{k}" not in extra:
                lacking.append(f"{kind}/{k}")
    if lacking:
        raise CheckpointError(f"checkpoint {path!r} cannot be resumed: it lacks {', '.join(lacking[:4])}"
                              f"{' ...' if len(lacking) > 4 else ''} (it can be rendered, not resumed)")
    check_finite(path, extra, "Adam state")
