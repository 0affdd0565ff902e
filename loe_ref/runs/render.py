"""Render a checkpoint: the network evaluated on a pixel grid of any size, saved as PNG.

The memory the picture needs is estimated from the checkpoint's configuration and the
size before anything is allocated (memory.check_render); the grid is evaluated in chunks
(fast.grid.chunked_predictions), and the PNG is written atomically.
"""
import numpy as np

from ..backend import get_xp, to_device, to_host
from ..fast.engine import check_scales
from ..fast.grid import chunked_predictions
from ..fast.memory import check_render
from ..training.data import target_image
from . import checkpoint
from .files import write_png


def render(path, size, out_path, device="cpu", chunk=65536):
    """Evaluate checkpoint ``path`` on a ``size`` = (H, W) pixel grid and save it to ``out_path``."""
    cfg, params, _, _ = checkpoint.load(path)
    if cfg.in_dims != 2:
        raise ValueError(f"checkpoint {path!r} is a {cfg.in_dims}-D signal; rendering needs an image")
    check_scales(cfg, np.float32)
    check_render(cfg, size, chunk)
    xp = get_xp(device)
    dev = {k: to_device(v, xp) for k, v in params.items()}
    pred = np.empty((int(np.prod(size)), cfg.out_channels), dtype=np.float32)
    for s, block in chunked_predictions(dev, cfg, tuple(size), chunk):
        pred[s:s + block.shape[0]] = to_host(block)
    shape = tuple(size) + ((cfg.out_channels,) if cfg.out_channels > 1 else ())
    write_png(out_path, target_image(pred, shape))
