"""The door the training loop goes through: one run's arithmetic, done fast.

An Engine holds a run's parameters (laid end to end in one flat array, shared with worker
processes on the CPU), its targets on the device, the pixel grid's cached routing plans
and every pixel's experts; it gives the batch loss's gradients and the reconstruction.
Its numbers equal the root network's (loe_ref.network) to 1e-12 in float64, and are the
same, bit for bit, on one core or several (tests/fast/). docs/fast.md describes each part.
Shapes: P pixels, B batch rows, d coordinate dims, C channels, L layers.
"""
import os

import numpy as np

from ..backend import to_device, to_host
from ..losses import psnr, squared_error_rows
from . import shards
from .cpu import keep_freed_memory, single_threaded_blas, usable_cpus
from .flat import FlatAdam, flat_views
from .grid import GridEvaluator, chunked_predictions, pixel_coords_at
from .memory import check_device_memory, check_memory
from .routing import expert_table
from .workers import Workers, worker_count

#: The largest grid scale whose cell indices floor(alpha p + beta) fit in int64 with room.
MAX_SCALE = 2.0 ** 62


def check_scales(cfg, dtype):
    """Refuse grid scales that ``dtype`` coordinates or int64 cell indices cannot hold (a
    scale of 2^130 overflows float32 and makes every expert index garbage)."""
    alpha, beta = cfg.scales()
    stretch = cfg.axis_scales()
    alpha = alpha * (1.0 if stretch is None else float(stretch.max()))
    limit = min(float(np.finfo(dtype).max), MAX_SCALE)
    worst = int(np.argmax(alpha))
    if not np.isfinite(alpha[worst] + abs(beta).max()) or alpha[worst] + abs(beta).max() > limit:
        lower = "`alpha`" if cfg.grid == "custom" else "`layers` or `tile`"
        lower += "" if stretch is None else " or `axis_scale`"
        raise ValueError(f"layer {worst + 1} of `grid` {cfg.grid} (`layers` {cfg.layers}, `tile` {cfg.tile}) has the "
                         f"scale {alpha[worst]:.3g}, more than {np.dtype(dtype).name} coordinates and int64 cell "
                         f"indices hold ({limit:.3g}); lower {lower}")


class Engine:
    """One run's parameters, targets and pixel grid on device ``xp``, and the processes that
    share its steps.

    ``init()`` gives the initial parameters as host arrays (any float dtype), drawn only once
    the run is known to fit; ``y`` (P, C): the targets in [-1, 1] on the host; both are
    taken in ``dtype``. ``shape``: the signal's grid; ``batch``: pixels per
    step (0: every pixel); ``chunk``: pixels per evaluation chunk when the grid's plans are
    not cached. A run that cannot fit in memory is refused (memory.MemoryLimitError) before
    anything large is allocated. ``values`` keeps the targets on the host, as trained.
    """

    def __init__(self, cfg, init, y, shape, batch, chunk, dtype, xp):
        self.cfg, self.shape, self.batch_size, self.xp = cfg, tuple(shape), batch, xp
        if xp is np:
            single_threaded_blas()
            keep_freed_memory()
        check_scales(cfg, dtype)
        cpus = usable_cpus() if xp is np else 1
        check_memory(cfg, y.shape[0], batch, chunk, dtype, processes=worker_count(cpus), shape=self.shape)
        if xp is not np:
            check_device_memory(cfg, y.shape[0], batch, chunk, dtype, xp.cuda.Device().mem_info[0])
        self.values = y.astype(dtype)
        self.target = to_device(self.values, xp)
        host = {k: v.astype(dtype) for k, v in init().items()}
        self.flat = xp.asarray(np.concatenate([v.ravel() for v in host.values()]))
        self.params = flat_views(host, self.flat)
        self.grid = GridEvaluator(cfg, self.shape, xp, dtype, chunk)
        # every pixel's experts, looked up by the batches (only with the grid's coordinates at hand)
        self.experts = None if self.grid.coords is None else expert_table(cfg, self.grid.coords)
        self.workers = None
        # worth forking: batches of several shards, or a cached grid (full-image steps, evaluations)
        sharded = batch and len(shards.shard_ranges(batch, xp)) > 1
        if worker_count(cpus) > 1 and hasattr(os, "fork") and (sharded or self.grid.plans):
            self.workers = Workers(worker_count(cpus), cfg, self.params, max(batch, 1), self.grid,
                                   self.target if self.grid.plans else None)
            self.flat, self.params = self.workers.flat, self.workers.params

    def watch(self, stop):
        """``stop()`` says whether a signal asked the run to end: worker processes that do not
        finish a step soon after are then given up (workers.py), so the run ends in seconds."""
        if self.workers is not None:
            self.workers.stop_requested = stop or (lambda: False)

    def host_params(self):
        """The parameters on the host, in one transfer of the flat array."""
        return flat_views(self.params, to_host(self.flat))

    def all_finite(self, opt):
        """True when every parameter and Adam moment is finite: one host wait."""
        finite = self.xp.isfinite(self.flat).all()
        for a in opt.moments():
            finite = finite & self.xp.isfinite(a).all()
        return bool(finite)

    def optimizer(self, lr, betas):
        """Adam over the parameters' flat array (bit-equal to loe_ref.optim.Adam)."""
        return FlatAdam(self.params, self.flat, lr=lr, betas=betas)

    @property
    def grid_cached(self):
        """True when the whole grid's plans are kept, so whole-image steps reuse them."""
        return self.grid.plans is not None

    def batch(self, idx=None):
        """(coordinates (B, d), targets (B, C), experts (B, L) or None) of the pixels with host
        indices ``idx`` (B,), or of every pixel when None."""
        idx = self.xp.arange(self.target.shape[0]) if idx is None else to_device(idx, self.xp)
        experts = None if self.experts is None else self.experts[idx]
        return pixel_coords_at(idx, self.shape, self.values.dtype), self.target[idx], experts

    def sse_and_grads(self, p, target, experts=None, meanwhile=None):
        """(sum of squared errors, gradients of the batch's MSE) of a batch from ``batch``.

        ``meanwhile()`` runs in this process while worker processes finish their shards
        (where there are any), e.g. to draw the next batch."""
        if self.workers is not None and self.batch_size:
            return self.workers.sse_and_grads(p, target, experts, meanwhile=meanwhile)
        return shards.sse_and_grads(self.params, self.cfg, p, target, experts=experts)

    def image_sse_and_grads(self):
        """``sse_and_grads`` of every pixel through the grid's cached plans (``grid_cached``)."""
        if self.workers is not None:
            return self.workers.sse_and_grads()
        return shards.sse_and_grads(self.params, self.cfg, self.grid.coords, self.target, plans=self.grid.plans)

    def predict_image(self):
        """The current reconstruction over the whole grid, (P, C) on the device."""
        if self.workers is not None and self.grid.plans is not None:
            return self.workers.predict_cached_grid()
        return self.grid.predict(self.params)

    def predictions(self, rows):
        """Yield f over the grid (a 2-D image, H x W) ``rows`` image rows at a time: blocks of
        (rows W, C) on the device, in order; from the cached grid's whole prediction, or
        computed block by block (memory in proportion to a block)."""
        width = self.shape[1]
        if self.grid.plans is not None:
            pred = self.predict_image()
            for s in range(0, pred.shape[0], rows * width):
                yield pred[s:s + rows * width]
        else:
            for _, block in chunked_predictions(self.params, self.cfg, self.shape, rows * width):
                yield block

    def psnr(self):
        """PSNR (dB) of the current reconstruction (chunk by chunk when the grid is not cached)."""
        if self.grid.plans is not None:
            return psnr(self.predict_image(), self.target)
        return self.grid.psnr(self.params, self.target)

    def frame_sse(self):
        """The squared error of every frame (every slice along the grid's first axis) on the
        [0, 1] scale, (T,) float64 on the host: a video's PSNR per frame, and over the whole."""
        if self.grid.plans is not None:
            rows = squared_error_rows(self.predict_image(), self.target)
            return to_host(rows.reshape(self.shape[0], -1).sum(axis=1))
        return self.grid.slice_sse(self.params, self.target, self.shape[0])

    def close(self):
        """End the worker processes, if any (they also end with this process)."""
        if self.workers is not None:
            self.workers.close()
