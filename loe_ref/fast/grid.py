"""The network over a signal's pixel grid: training's PSNR, rendering, benchmarks.

docs/fast.md, "The pixel grid". The grid is taken ``chunk`` pixels at a time, so memory does
not grow with the image; each chunk runs shard by shard (shards.py). For an image that is
evaluated again and again (training), ``GridEvaluator`` builds the whole grid's plans once.
"""
import numpy as np

from ..backend import to_host, xp_of
from ..losses import psnr_from_mse, squared_error_rows, squared_error_sum
from . import shards

#: Largest image whose routing plans are kept between evaluations (about 110 bytes a pixel
#: for the paper's network: 120 MiB at this size).
PLAN_CACHE_PIXELS = 2 ** 20


def pixel_coords_at(flat, shape, dtype=np.float64):
    """Pixel-centre coordinates (P, d) of the pixels with C-order flat indices ``flat`` (P,).

    Equal to ``grids.pixel_coords(shape)[flat]`` without building the whole grid, so batches
    and chunks of a large signal cost memory in proportion to their own size.
    """
    xp = xp_of(flat)
    cols, rest = [], flat
    for size in reversed(shape):
        cols.append((rest % size).astype(dtype) + 0.5)
        cols[-1] /= size
        rest = rest // size
    return xp.stack(cols[::-1], axis=1)


def chunked_predictions(params, cfg, shape, chunk=65536):
    """Yield (start, f(p) (rows, C)) over the pixel grid of ``shape``, ``chunk`` pixels at a time."""
    xp = xp_of(params["W_out"])
    dtype = params["W_out"].dtype
    total = int(np.prod(shape))
    for s in range(0, total, chunk):
        p = pixel_coords_at(xp.arange(s, min(s + chunk, total)), shape, dtype)
        yield s, shards.predict(params, cfg, p)


class GridEvaluator:
    """f over the pixel grid of ``shape``, with the grid's plans built once when it is small enough."""

    def __init__(self, cfg, shape, xp, dtype, chunk=65536):
        self.cfg, self.shape, self.chunk = cfg, tuple(shape), chunk
        pixels = int(np.prod(shape))
        self.coords = self.plans = None
        if pixels <= PLAN_CACHE_PIXELS:
            self.coords = pixel_coords_at(xp.arange(pixels), self.shape, dtype)
            self.plans = shards.shard_plans(cfg, self.coords, dtype)

    def predict(self, params):
        """f over the whole grid, (pixels, C) on the parameters' device."""
        if self.plans is not None:
            return shards.predict(params, self.cfg, self.coords, plans=self.plans)
        xp = xp_of(params["W_out"])
        out = xp.empty((int(np.prod(self.shape)), self.cfg.out_channels), dtype=params["W_out"].dtype)
        for s, pred in chunked_predictions(params, self.cfg, self.shape, self.chunk):
            out[s:s + pred.shape[0]] = pred
        return out

    def psnr(self, params, target):
        """PSNR (dB) of f over the grid against target (pixels, C), both in [-1, 1]."""
        if self.plans is not None:
            return psnr_from_mse(squared_error_sum(self.predict(params), target) / target.size)
        sse = sum(float(squared_error_sum(pred, target[s:s + pred.shape[0]]))
                  for s, pred in chunked_predictions(params, self.cfg, self.shape, self.chunk))
        return psnr_from_mse(sse / target.size)

    def slice_sse(self, params, target, slices):
        """The squared error of each of ``slices`` equal slices of the grid along its first axis
        (a video's frames), on the [0, 1] scale, chunk by chunk: (slices,) float64 on the host."""
        per = int(np.prod(self.shape)) // slices
        sse = np.zeros(slices)
        for s, pred in chunked_predictions(params, self.cfg, self.shape, self.chunk):
            rows = to_host(squared_error_rows(pred, target[s:s + pred.shape[0]]))
            sse += np.bincount(np.arange(s, s + rows.shape[0]) // per, weights=rows, minlength=slices)
        return sse
