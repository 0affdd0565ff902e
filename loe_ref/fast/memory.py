"""Memory estimates: what a run, an evaluation, a load or a render needs, refused up front.

docs/fast.md, "Memory" gives the formulas. Every estimate is made from the
configuration and the sizes alone, before anything large is allocated; a run that cannot
fit in the available memory is refused with the estimate and the parameter that lowers it.
Shapes: P points, C channels, H hidden channels, L position-dependent layers, d
coordinate dims, N experts.
"""
import numpy as np

from ..encoding import encoded_dims
from ..network import param_count
from .grid import PLAN_CACHE_PIXELS
from .shards import SHARD_ROWS


class MemoryLimitError(ValueError):
    """What was asked for cannot fit in the available memory."""


def plan_bytes(cfg, dtype):
    """Bytes per point of a routing plan: three int32 indices per layer and the unsort index
    (nearest), or the coefficients, corners and fractions of every layer (linear)."""
    s, L, d = np.dtype(dtype).itemsize, cfg.layers, cfg.in_dims
    if cfg.blend == "nearest":
        return L * 3 * 4 + 4
    return L * (cfg.n_experts * s + 2 ** d * 8 + d * 8)


def step_bytes(cfg, rows, dtype, backward=True):
    """Estimated peak bytes of the arrays of one forward (+ backward) pass over ``rows`` points.

    Per point: every layer keeps its gathered input (Ci values) and its pre-activation
    (sine: H values) or mask (leaky ReLU: H bytes); the routing plan; the output layer
    keeps the last activation; the backward pass holds two gradients of H values at a
    time. docs/fast.md, "Memory" gives the formula.
    """
    s = np.dtype(dtype).itemsize
    L, H, d, C = cfg.layers, cfg.hidden, cfg.in_dims, cfg.out_channels
    inputs = encoded_dims(d, cfg.pe) + (L - 1) * H
    acts = L * H * (s if cfg.act == "sine" else 1)
    per_point = (inputs * s + acts + plan_bytes(cfg, dtype) + H * s + (2 * H * s if backward else H * s)
                 + d * 8 + 2 * C * s)
    return rows * per_point


def param_bytes(cfg, dtype):
    """Parameters, their gradients and Adam's two moments."""
    return 4 * param_count(cfg) * np.dtype(dtype).itemsize


#: Memory a run takes beyond its arrays: BLAS work buffers, thread stacks and allocator
#: slack (benchmarks/memory.py: 48 to 110 MiB measured above the estimated arrays).
OVERHEAD = 48 * 2 ** 20


def peak_bytes(cfg, pixels, batch, chunk, dtype, processes=1):
    """(training, evaluation) peak estimates in bytes for an image of ``pixels`` points.

    Fixed: the picture (float64), its targets (float64 while loading, then ``dtype``), the
    epoch sampler's two permutations (int64, with batches), the parameters with their
    gradients and Adam's moments, the pixel grid's coordinates and plans when they are
    cached (evaluate.PLAN_CACHE_PIXELS), and ``OVERHEAD``. A step holds the batch's
    indices, coordinates and targets, and in each of ``processes`` processes one shard
    (shards.SHARD_ROWS points) in flight with its gradients; an evaluation holds the
    reconstruction (or a chunk of it) and one shard's forward pass per process.
    """
    rows = batch or pixels
    s = np.dtype(dtype).itemsize
    d, C = cfg.in_dims, cfg.out_channels
    image = pixels * (8 * C + (8 + 2 * s) * C + (16 if batch else 0))
    cached = pixels <= PLAN_CACHE_PIXELS
    # cached: the plans and coordinates, and while the coordinates are made, the flat pixel
    # index with its quotient and remainder (int64) and a column's two temporaries per axis
    grid = pixels * (plan_bytes(cfg, dtype) + d * s + 24 + 2 * d * s) if cached else 0
    fixed = image + grid + param_bytes(cfg, dtype) + OVERHEAD
    shard = min(rows, SHARD_ROWS)
    in_flight = processes * (step_bytes(cfg, shard, dtype) + param_count(cfg) * s)
    train = fixed + rows * (8 + d * s + C * s) + in_flight
    evaluate = fixed + (pixels if cached else min(chunk, pixels)) * (C * s + d * s) \
        + processes * step_bytes(cfg, shard, dtype, backward=False)
    return train, evaluate


def available_bytes():
    """Memory this process may still take: MemAvailable on Linux, else None (unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(cfg, pixels, batch, chunk, dtype, available=None, processes=1):
    """Raise MemoryLimitError with the estimate when a run cannot fit in the available memory."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    train, evaluate = peak_bytes(cfg, pixels, batch, chunk, dtype, processes)
    if train > available:
        what = "the whole image" if batch == 0 else f"`batch` {batch}"
        raise MemoryLimitError(
            f"a training step on {what} needs about {_gib(train)} but {_gib(available)} are available; "
            f"lower `batch`" + (" (pixels per step)" if batch == 0 else "")
            + (f" or `hidden` (now {cfg.hidden})" if param_bytes(cfg, dtype) > available / 4 else ""))
    if evaluate > available:
        raise MemoryLimitError(f"an evaluation in chunks of `chunk` {chunk} needs about {_gib(evaluate)} "
                               f"but {_gib(available)} are available; lower `chunk`")


def load_bytes(size, resize_to=None):
    """Estimated peak bytes of loading an image of ``size`` = (H, W, C) and resizing it.

    The decoded pixels (up to 2 bytes each), the float64 copy in [0, 1], and with a resize
    its float64 output plus the warp's two float64 coordinate maps.
    """
    h, w, c = size
    total = h * w * c * (2 + 8)
    if resize_to:
        H, W = resize_to
        total += H * W * (c * 8 + 2 * 8)
    return total


def check_load(size, resize_to=None, available=None):
    """Refuse loading an image of ``size`` = (H, W, C), or None when unknown, and resizing it
    to ``resize_to`` = (H, W) when that cannot fit (``load_bytes``)."""
    if size is None and not resize_to:
        return
    available = available_bytes() if available is None else available
    need = load_bytes(size or (*resize_to, 3), tuple(resize_to) if resize_to else None)
    if available is not None and need > available:
        shape = f"{size[0]} x {size[1]} image" if size else "image"
        resize = f" and resizing it to {resize_to[0]} x {resize_to[1]}" if resize_to else ""
        raise MemoryLimitError(f"loading the {shape}{resize} needs about {_gib(need)} but {_gib(available)} "
                               f"are available; use a smaller image or a smaller `size`")


def render_bytes(cfg, pixels, chunk):
    """Peak bytes of rendering ``pixels``: the float32 prediction, its float64 [0, 1] image and
    the 8-bit PNG, and one chunk's coordinates and forward pass (one shard at a time)."""
    rows = min(chunk, pixels)
    return (pixels * cfg.out_channels * (4 + 8 + 1) + rows * (cfg.out_channels + cfg.in_dims) * 4
            + step_bytes(cfg, min(rows, SHARD_ROWS), np.float32, backward=False) + OVERHEAD)


def check_render(cfg, size, chunk, available=None):
    """Refuse rendering an (H, W) = ``size`` picture that cannot fit."""
    available = available_bytes() if available is None else available
    need = render_bytes(cfg, int(np.prod(size)), chunk)
    if available is not None and need > available:
        raise MemoryLimitError(f"rendering {size[0]} x {size[1]} pixels needs about {_gib(need)} but "
                               f"{_gib(available)} are available; lower `size`")


def _gib(n):
    return f"{n / 2 ** 30:.1f} GiB"
