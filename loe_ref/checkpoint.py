"""Parameters and training state in one ``.npz`` file, written atomically, read without pickle.

The file holds the parameter arrays under their names, optimiser state under
"adam_m/..." and "adam_v/...", and "config" and "meta" as JSON text in 0-d string arrays.
"""
import json
import os
import zipfile

import numpy as np

from .backend import to_host
from .network import Config, param_names
from .outputs import atomic_path


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


def load(path):
    """(cfg, params, extra, meta) from a file written by :func:`save`; arrays on the host."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist (or is not a file)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        cfg = Config.from_json(str(arrays.pop("config")))
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CheckpointError(f"cannot read checkpoint {path!r}: not a complete loe_ref checkpoint "
                              f"({type(exc).__name__}: {reason})") from None
    names = param_names(cfg)
    missing = [n for n in names if n not in arrays]
    if missing:
        raise CheckpointError(f"checkpoint {path!r} lacks parameters {missing}")
    params = {n: arrays.pop(n) for n in names}
    return cfg, params, arrays, meta


def check_training_state(path, params, extra, meta):
    """Raise CheckpointError unless the file holds everything a resumed run needs."""
    path = os.fspath(path)
    lacking = [k for k in ("iteration", "elapsed", "history", "best", "adam_t", "options") if k not in meta]
    for k, v in params.items():
        for kind in ("adam_m", "adam_v"):
            a = extra.get(f"{kind}/{k}")
            if a is None or a.shape != v.shape:
                lacking.append(f"{kind}/{k}")
    if lacking:
        raise CheckpointError(f"checkpoint {path!r} cannot be resumed: it lacks {', '.join(lacking[:4])}"
                              f"{' ...' if len(lacking) > 4 else ''} (only --render can use it)")
