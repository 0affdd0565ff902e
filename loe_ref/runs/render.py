"""Render a checkpoint: the network evaluated on a grid of any size, saved as its kind's file.

An image goes to a PNG: the memory it needs is estimated from the checkpoint's
configuration and the size before anything is allocated (memory.check_render); the grid
is evaluated a band of rows at a time (fast.grid.chunked_predictions), each band
compressed into the PNG as it comes (files.write_png_bands), so a render of any size costs
the memory of one band. A sound goes to a WAV, a video to a GIF, and any kind to an .npy
array of its values in [0, 1]: these are held whole, and refused up front where they
cannot fit in memory or on the disk. A sound or video rendered with more samples or
frames keeps its duration (its rate grows with them). Every file is written atomically.
"""
import os
import shutil

import numpy as np

from ..backend import get_xp, to_device, to_host
from ..fast.engine import check_scales
from ..fast.grid import chunked_predictions
from ..fast.memory import check_render, check_render_whole
from ..training.data import target_values
from . import checkpoint
from .files import to_uint8, write_gif, write_npy, write_png_bands, write_wav
from .report import DEFAULT_RATE, band_rows

#: The files --render writes, by extension: the coordinate dims each takes.
FORMATS = {".png": (2,), ".wav": (1,), ".gif": (3,), ".npy": (1, 2, 3)}


def render(path, size, out_path, device="cpu", chunk=65536):
    """Evaluate checkpoint ``path`` on a grid of ``size`` (one size per coordinate dim) and
    save it to ``out_path``, whose extension (FORMATS) names the file's format."""
    cfg, params, _, meta = checkpoint.load(path)
    ext = os.path.splitext(out_path)[1].lower()
    if cfg.in_dims not in FORMATS.get(ext, ()):
        fits = ", ".join(e for e, dims in FORMATS.items() if cfg.in_dims in dims)
        raise ValueError(f"checkpoint {path!r} holds a {cfg.in_dims}-D signal; `out` {out_path!r} must end in {fits}")
    if len(size) != cfg.in_dims:
        raise ValueError(f"`size` {' '.join(map(str, size))} gives {len(size)} sizes; checkpoint {path!r} holds a "
                         f"{cfg.in_dims}-D signal and takes {cfg.in_dims}")
    check_scales(cfg, np.float32)
    xp = get_xp(device)
    dev = {k: to_device(v, xp) for k, v in params.items()}
    channels = (cfg.out_channels,) if cfg.out_channels > 1 else ()
    if ext == ".png":
        check_render(cfg, size, chunk, free_disk=free_space(out_path))
        shape = tuple(size) + channels
        rows = band_rows(size[1], chunk)
        write_png_bands(out_path, shape, (to_uint8(target_values(to_host(block), (-1,) + shape[1:]))
                                          for _, block in chunked_predictions(dev, cfg, tuple(size), rows * size[1])))
        return
    check_render_whole(cfg, size, chunk, free_disk=free_space(out_path))
    values = np.empty((int(np.prod(size)), cfg.out_channels), dtype=np.float32)
    for s, block in chunked_predictions(dev, cfg, tuple(size), chunk):
        values[s:s + block.shape[0]] = to_host(block)
    values = target_values(values, tuple(size) + channels)
    kind = meta.get("kind", "sound" if cfg.in_dims == 1 else "video")
    if ext == ".npy":
        write_npy(out_path, values.astype(np.float32))
    elif ext == ".wav":
        write_wav(out_path, 2.0 * values - 1.0, _rate(meta, size, kind))
    else:
        write_gif(out_path, values, _rate(meta, size, kind))


def _rate(meta, size, kind):
    """The rate that keeps the trained signal's duration at ``size[0]`` samples or frames."""
    rate, grid = meta.get("rate"), meta.get("grid")
    if not rate or not grid:
        return DEFAULT_RATE[kind]
    return rate * size[0] / grid[0]


def free_space(path):
    """Free bytes on the disk that will hold ``path`` (its nearest existing folder's)."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return shutil.disk_usage(folder).free
