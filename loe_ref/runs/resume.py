"""The resume policy: which checkpoint may continue which run, and on which image.

A run continues only with the configuration, the options that change its numbers and
the pixels it was trained on; the image is found by the content it had (a fingerprint
of its values), under whatever path, and otherwise where the original run found it.
Checkpoints written before a field existed take that field's old default.
"""
import os
from dataclasses import asdict

from ..training.options import TrainOptions
from . import checkpoint

# Options that a resumed run must share with the checkpoint to reproduce the same numbers.
RESUME_KEYS = ("image", "size", "lr", "schedule", "seed", "dtype", "batch", "sampler", "beta2")

def load_resumable(path, cfg, opts, fingerprint=None):
    """(params, extra, meta) of checkpoint ``path``, which must continue run (cfg, opts).

    Raises CheckpointError when the file is damaged, lacks training state, or was trained
    with another configuration or with options that change the numbers (RESUME_KEYS, and
    the run's length under a schedule that depends on it). ``fingerprint``: the image's
    (``data.signal_fingerprint``); where the checkpoint records one, the pixels must be the same,
    under whatever path, instead of the image's name.
    """
    saved_cfg, params, extra, meta = checkpoint.load(path)
    if saved_cfg != cfg:
        diff = [f"{k}: {v!r} in the checkpoint, {getattr(cfg, k)!r} now"
                for k, v in asdict(saved_cfg).items() if getattr(cfg, k) != v]
        raise checkpoint.CheckpointError(f"checkpoint {path!r} has a different configuration ({'; '.join(diff)})")
    checkpoint.check_training_state(path, params, extra, meta)
    saved, now = dict(meta["options"]), asdict(opts)
    saved.setdefault("sampler", "replacement")       # the only sampler before "epoch" existed
    saved.setdefault("beta2", 0.999)
    try:
        saved["lr"] = TrainOptions(**saved).learning_rate(cfg)     # the rates in effect
    except (TypeError, ValueError) as exc:
        raise checkpoint.CheckpointError(f"checkpoint {path!r}: its training options are not valid ({exc})") from None
    now["lr"] = opts.learning_rate(cfg)
    same_pixels = fingerprint is not None and meta.get("image_sha256") == fingerprint
    keys = tuple(k for k in RESUME_KEYS if k != "image") if same_pixels else RESUME_KEYS
    diff = [f"{k}: {saved.get(k)!r} in the checkpoint, {now[k]!r} now" for k in keys if saved.get(k) != now[k]]
    if opts.schedule != "constant" and saved.get("iters") != opts.iters:
        diff.append(f"iters: {saved.get('iters')!r} in the checkpoint, {opts.iters!r} now "
                    f"({opts.schedule} schedule, which depends on the run's length: a longer run starts anew)")
    if fingerprint is not None and meta.get("image_sha256") and not same_pixels and not diff:
        raise checkpoint.CheckpointError(
            f"checkpoint {path!r} was trained on other pixels: {meta.get('image_path')!r} then, "
            f"{opts.image!r} now (their sha256 differ); give `image` the picture it was trained on")
    if diff:
        raise checkpoint.CheckpointError(f"checkpoint {path!r} was trained differently ({'; '.join(diff)})")
    return params, extra, meta

def trained_image(meta, name):
    """The image a checkpoint was trained on: its recorded absolute path, else its path from
    the folder the run was started in, else the name as given then (a bundled picture)."""
    for path in (meta.get("image_path"), os.path.join(meta.get("cwd", ""), name)):
        if path and os.path.isfile(path):
            return path
    return name
