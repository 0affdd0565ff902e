"""Parameters and training state in one ``.npz`` file, written atomically, read without pickle.

The file holds the parameter arrays under their names, optimiser state under
"adam_m/..." and "adam_v/...", and "config" and "meta" as JSON text in 0-d string arrays.
"""
import json

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
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        cfg = Config.from_json(str(arrays.pop("config")))
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"cannot read checkpoint {path!r}: {exc}") from None
    names = param_names(cfg)
    missing = [n for n in names if n not in arrays]
    if missing:
        raise CheckpointError(f"checkpoint {path!r} lacks parameters {missing}")
    params = {n: arrays.pop(n) for n in names}
    return cfg, params, arrays, meta
