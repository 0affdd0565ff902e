"""Render a checkpoint: the network evaluated on a pixel grid of any size, saved as PNG.

The memory the picture needs is estimated from the checkpoint's configuration and the
size before anything is allocated (memory.check_render); the grid is evaluated a band of
rows at a time (fast.grid.chunked_predictions), each band compressed into the PNG as it
comes (files.write_png_bands), so a render of any size costs the memory of one band; the
PNG is written atomically.
"""
import os
import shutil

import numpy as np

from ..backend import get_xp, to_device, to_host
from ..fast.engine import check_scales
from ..fast.grid import chunked_predictions
from ..fast.memory import check_render
from ..training.data import target_values
from . import checkpoint
from .files import to_uint8, write_png_bands
from .report import band_rows


def render(path, size, out_path, device="cpu", chunk=65536):
    """Evaluate checkpoint ``path`` on a ``size`` = (H, W) pixel grid and save it to ``out_path``."""
    cfg, params, _, _ = checkpoint.load(path)
    if cfg.in_dims != 2:
        raise ValueError(f"checkpoint {path!r} is a {cfg.in_dims}-D signal; rendering needs an image")
    check_scales(cfg, np.float32)
    check_render(cfg, size, chunk, free_disk=free_space(out_path))
    xp = get_xp(device)
    dev = {k: to_device(v, xp) for k, v in params.items()}
    shape = tuple(size) + ((cfg.out_channels,) if cfg.out_channels > 1 else ())
    rows = band_rows(size[1], chunk)
    write_png_bands(out_path, shape, (to_uint8(target_values(to_host(block), (-1,) + shape[1:]))
                                      for _, block in chunked_predictions(dev, cfg, tuple(size), rows * size[1])))


def free_space(path):
    """Free bytes on the disk that will hold ``path`` (its nearest existing folder's)."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return shutil.disk_usage(folder).free
