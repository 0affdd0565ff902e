"""Memory estimates: what a run, an evaluation, a load or a render needs, refused up front.

docs/fast.md, "Memory" gives the formulas. Every estimate is made from the
configuration and the sizes alone, before anything large is allocated; a run that cannot
fit in the available memory is refused with the estimate and the parameter that lowers it.
Shapes: P points, C channels, H hidden channels, L position-dependent layers, d
coordinate dims, N experts.
"""
import math

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


def cache_bytes(act, s):
    """Bytes per pre-activation entry that activation ``act``'s cache keeps until the backward
    pass (activations.PAIRS), with floats of ``s`` bytes and boolean masks of one."""
    return {"sine": s, "leaky_relu": 1, "finer": 2 * s, "gauss": 2 * s, "gabor": 3 * s, "sinc": 3 * s}[act]


def step_bytes(cfg, rows, dtype, backward=True):
    """Estimated peak bytes of the arrays of one forward (+ backward) pass over ``rows`` points.

    Per point: every layer keeps its gathered input (Ci values) and its activation's cache
    (cache_bytes per channel); the routing plan; the output layer
    keeps the last activation; the backward pass holds two gradients of H values at a
    time. docs/fast.md, "Memory" gives the formula.
    """
    s = np.dtype(dtype).itemsize
    L, H, d, C = cfg.layers, cfg.hidden, cfg.in_dims, cfg.out_channels
    inputs = encoded_dims(d, cfg.pe) + (L - 1) * H
    acts = L * H * cache_bytes(cfg.act, s)
    per_point = (inputs * s + acts + plan_bytes(cfg, dtype) + H * s + (2 * H * s if backward else H * s)
                 + d * 8 + 2 * C * s)
    return rows * per_point


def param_bytes(cfg, dtype):
    """Parameters, their gradients and Adam's two moments."""
    return 4 * param_count(cfg) * np.dtype(dtype).itemsize


#: Memory a run takes beyond its arrays: BLAS work buffers, thread stacks and allocator
#: slack (benchmarks/memory.py: 48 to 110 MiB measured above the estimated arrays).
OVERHEAD = 48 * 2 ** 20


def grid_bytes(cfg, pixels, dtype):
    """The pixel grid's cached plans and coordinates (none above grid.PLAN_CACHE_PIXELS), and
    while the coordinates are made, the flat pixel index with its quotient and remainder
    (int64) and a column's two temporaries per axis."""
    if pixels > PLAN_CACHE_PIXELS:
        return 0
    s, d = np.dtype(dtype).itemsize, cfg.in_dims
    return pixels * (plan_bytes(cfg, dtype) + d * s + 24 + 2 * d * s)


def fixed_bytes(cfg, pixels, batch, dtype):
    """What a run holds from start to end: the picture (float64) and its targets in
    ``dtype`` (one array on the CPU, where the device's is the host's), with either the
    float64 targets of the load or, later, the epoch sampler's two permutations (int64,
    with batches), whichever is larger; the parameters with their gradients and Adam's
    moments, ``grid_bytes``, and ``OVERHEAD``."""
    s, C = np.dtype(dtype).itemsize, cfg.out_channels
    image = pixels * (8 * C + s * C + max(8 * C, 16 if batch else 0))
    return image + grid_bytes(cfg, pixels, dtype) + param_bytes(cfg, dtype) + OVERHEAD


def peak_bytes(cfg, pixels, batch, chunk, dtype, processes=1):
    """(training, evaluation) peak estimates in bytes for an image of ``pixels`` points.

    Both hold ``fixed_bytes``. A step holds the batch's
    indices, coordinates and targets, and in each of ``processes`` processes one shard
    (shards.SHARD_ROWS points) in flight with its gradients; an evaluation holds the
    reconstruction (or a chunk of it) and one shard's forward pass per process.
    """
    rows = batch or pixels
    s = np.dtype(dtype).itemsize
    d, C = cfg.in_dims, cfg.out_channels
    cached = pixels <= PLAN_CACHE_PIXELS
    fixed = fixed_bytes(cfg, pixels, batch, dtype)
    shard = min(rows, SHARD_ROWS)
    in_flight = processes * (step_bytes(cfg, shard, dtype) + param_count(cfg) * s)
    train = fixed + rows * (8 + d * s + C * s) + in_flight
    evaluate = fixed + (pixels if cached else min(chunk, pixels)) * (C * s + d * s) \
        + processes * step_bytes(cfg, shard, dtype, backward=False)
    return train, evaluate


def device_bytes(cfg, pixels, batch, chunk, dtype):
    """(training, evaluation) peak estimates in bytes on a GPU, where a batch is one shard
    and so is the cached grid's evaluation (shards.shard_ranges): the parameters with their
    gradients and Adam's moments, the targets in ``dtype``, the cached grid's coordinates
    and plans, and then the batch's indices, coordinates and targets with its whole forward
    and backward pass, or the whole grid's (a chunk's when not cached) forward pass."""
    rows = batch or pixels
    s = np.dtype(dtype).itemsize
    d, C = cfg.in_dims, cfg.out_channels
    cached = pixels <= PLAN_CACHE_PIXELS
    fixed = param_bytes(cfg, dtype) + pixels * s * C + grid_bytes(cfg, pixels, dtype)
    train = fixed + rows * (8 + d * s + C * s) + step_bytes(cfg, rows, dtype) + param_count(cfg) * s
    evaluated = pixels if cached else min(chunk, pixels)
    evaluate = fixed + evaluated * (C * s + d * s) + step_bytes(cfg, evaluated, dtype, backward=False)
    return train, evaluate


def check_device_memory(cfg, pixels, batch, chunk, dtype, free):
    """Raise MemoryLimitError when a run's device arrays cannot fit in the GPU's ``free`` bytes."""
    train, evaluate = device_bytes(cfg, pixels, batch, chunk, dtype)
    if train > free:
        what = "the whole image" if batch == 0 else f"`batch` {batch}"
        raise MemoryLimitError(f"a training step on {what} needs about {_gib(train)} of GPU memory but "
                               f"{_gib(free)} are free; lower `batch`" + (" (pixels per step)" if batch == 0 else ""))
    if evaluate > free:
        raise MemoryLimitError(f"an evaluation of the image needs about {_gib(evaluate)} of GPU memory but "
                               f"{_gib(free)} are free; lower `chunk`"
                               + ("" if pixels > PLAN_CACHE_PIXELS else " (it applies above 2^20 pixels) or `size`"))


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


def check_memory(cfg, pixels, batch, chunk, dtype, available=None, processes=1, shape=None):
    """Raise MemoryLimitError with the estimate when a run cannot fit in the available memory:
    its training step, its evaluation, or (for a signal on the grid ``shape``) its pictures."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    train, evaluate = peak_bytes(cfg, pixels, batch, chunk, dtype, processes)
    if train > available:
        what = "the whole signal" if batch == 0 else f"`batch` {batch}"
        raise MemoryLimitError(f"a training step on {what} needs about {_gib(train)} but {_gib(available)} are "
                               f"available; lower {_lowering(cfg, dtype, available, batch)}")
    if evaluate > available:
        raise MemoryLimitError(f"an evaluation in chunks of `chunk` {chunk} needs about {_gib(evaluate)} "
                               f"but {_gib(available)} are available; lower `chunk`")
    if shape is not None:
        pictures = fixed_bytes(cfg, pixels, batch, dtype) + (
            pictures_bytes(cfg, shape, chunk) if len(shape) == 2 else signal_pictures_bytes(cfg, shape))
        if pictures > available:
            raise MemoryLimitError(f"the pictures of a {' x '.join(map(str, shape))} signal need about "
                                   f"{_gib(pictures)} but {_gib(available)} are available; lower `size`")


def _lowering(cfg, dtype, available, batch):
    """The options that lower a step's memory, the ones that dominate it named first."""
    names = []
    if cfg.pe and encoded_dims(cfg.in_dims, cfg.pe) > cfg.hidden:
        names.append(f"`pe` (now {cfg.pe})")
    if param_bytes(cfg, dtype) > available / 4:
        if cfg.n_experts > 64:
            names.append(f"`tile` (now {cfg.tile})")
        names += [f"`hidden` (now {cfg.hidden})", f"`layers` (now {cfg.layers})"]
    names.append("`batch`" + (" (pixels per step)" if batch == 0 else ""))
    return " or ".join(names)


def load_bytes(size, resize_to=None):
    """Estimated peak bytes of loading a signal of ``size`` = (*grid, C) and resampling it.

    The decoded samples (up to 2 bytes each), the float64 copy in [0, 1], and with a
    resampling to the grid ``resize_to`` its float64 output plus the warp's d float64
    coordinate maps.
    """
    *grid, c = size
    total = math.prod(grid) * c * (2 + 8)
    if resize_to:
        total += math.prod(resize_to) * (c * 8 + len(resize_to) * 8)
    return total


def check_load(size, resize_to=None, available=None, kind="signal"):
    """Refuse loading a ``kind`` signal of ``size`` = (*grid, C), or None when unknown, and
    resampling it to the grid ``resize_to`` when that cannot fit (``load_bytes``)."""
    if size is None and not resize_to:
        return
    available = available_bytes() if available is None else available
    need = load_bytes(size or (*resize_to, 3), tuple(resize_to) if resize_to else None)
    if available is not None and need > available:
        shape = f"{' x '.join(map(str, size[:-1]))} {kind}" if size else kind
        resize = f" and resampling it to {' x '.join(map(str, resize_to))}" if resize_to else ""
        raise MemoryLimitError(f"loading the {shape}{resize} needs about {_gib(need)} but {_gib(available)} "
                               f"are available; use a smaller one or a smaller `size`")


def band_bytes(cfg, width, chunk):
    """Peak bytes of one band of a picture streamed to its PNG (rows of about ``chunk``
    pixels, at least one row): its flat indices (int64, with quotient and remainder),
    float32 coordinates and prediction, the float64 [0, 1] image with two temporaries,
    the 8-bit rows with their filter bytes, and one shard's forward pass."""
    px = max(1, chunk // width) * width
    d, C = cfg.in_dims, cfg.out_channels
    return px * (24 + d * 4 + C * (4 + 3 * 8 + 2)) + step_bytes(cfg, min(px, SHARD_ROWS), np.float32, backward=False)


def render_bytes(cfg, size, chunk):
    """Peak bytes of rendering an (H, W) = ``size`` picture: one band (``band_bytes``) and
    ``OVERHEAD``, whatever H (the PNG is written band by band)."""
    return band_bytes(cfg, size[1], chunk) + OVERHEAD


#: The pictures' layout: experts.png shows at most EXPERT_LAYERS layers (evenly spaced, the
#: first and last included) in panels of at most EXPERT_PANEL pixels a side, and
#: comparison.png images of at most COMPARISON_SIDE pixels a side (every k-th pixel).
EXPERT_LAYERS, EXPERT_PANEL, COMPARISON_SIDE = 16, 512, 1024
#: Bytes the pictures take beyond their bands and error map, fitted to the measured peaks
#: of benchmarks/memory.py (256^2 to 5000^2): matplotlib's figures and its own buffers
#: (FIGURES), per panel pixel and layer of experts.png, per pixel of comparison.png.
FIGURES, EXPERT_BYTES, COMPARISON_BYTES = 14 * 2 ** 20, 36, 51


def picture_sizes(cfg, shape):
    """(layers shown, pixels of an experts.png panel, pixels of a comparison.png image)."""
    scale = min(1.0, EXPERT_PANEL / max(shape))
    step = max(1, math.ceil(max(shape) / COMPARISON_SIDE))
    panel = math.prod(max(1, round(s * scale)) for s in shape)
    return min(cfg.layers, EXPERT_LAYERS), panel, math.prod(math.ceil(s / step) for s in shape)


def pictures_bytes(cfg, shape, chunk):
    """Peak bytes of a run's pictures above its trained state, an (H, W) image: one band, the
    8-bit error map (1 byte a pixel) and 6 bytes a pixel of allocator slack from the
    bands' temporaries, experts.png's maps and comparison.png's images (``picture_sizes``
    at their measured bytes a pixel) and ``FIGURES``."""
    layers, panel, shown = picture_sizes(cfg, shape)
    return (shape[0] * shape[1] * (1 + 6) + band_bytes(cfg, shape[1], chunk) + EXPERT_BYTES * layers * panel
            + COMPARISON_BYTES * shown + FIGURES)


def signal_pictures_bytes(cfg, shape):
    """Peak bytes of the pictures of a sound, video or volume on the grid ``shape`` above its
    trained state: its whole reconstruction and error at float64 and 8 bits (the pictures
    of these kinds are drawn from the whole signal), with two float64 temporaries, and
    ``FIGURES``."""
    return math.prod(shape) * cfg.out_channels * (4 * 8 + 2) + FIGURES


def check_render(cfg, size, chunk, available=None, free_disk=None):
    """Refuse rendering an (H, W) = ``size`` picture whose band cannot fit in memory, or
    whose raw 8-bit pixels exceed the free space of the folder (``free_disk`` bytes): a
    PNG may not compress."""
    available = available_bytes() if available is None else available
    need = render_bytes(cfg, size, chunk)
    if available is not None and need > available:
        raise MemoryLimitError(f"rendering {size[0]} x {size[1]} pixels needs about {_gib(need)} but "
                               f"{_gib(available)} are available; lower `chunk`")
    raw = size[0] * size[1] * cfg.out_channels
    if free_disk is not None and raw > free_disk:
        raise MemoryLimitError(f"rendering {size[0]} x {size[1]} pixels may write up to {_gib(raw)} (a PNG may "
                               f"not compress) but the output folder has {_gib(free_disk)} free; lower `size`")


def render_whole_bytes(cfg, size, chunk):
    """Peak bytes of rendering a sound, video or volume (or an .npy of any kind) on the grid
    ``size``: the whole float32 prediction and its float64 values in [0, 1] with one
    float64 temporary and the file's bytes, one chunk's pass (``band_bytes`` of one
    chunk-wide row) and ``OVERHEAD``."""
    return math.prod(size) * cfg.out_channels * (4 + 2 * 8 + 4) + band_bytes(cfg, chunk, chunk) + OVERHEAD


def check_render_whole(cfg, size, chunk, available=None, free_disk=None):
    """Refuse a render held whole (``render_whole_bytes``) that cannot fit in memory, or whose
    file (4 bytes a value at most) exceeds the folder's ``free_disk`` bytes."""
    available = available_bytes() if available is None else available
    need = render_whole_bytes(cfg, size, chunk)
    shown = " x ".join(map(str, size))
    if available is not None and need > available:
        raise MemoryLimitError(f"rendering {shown} samples needs about {_gib(need)} but {_gib(available)} are "
                               f"available; lower `size`")
    raw = math.prod(size) * cfg.out_channels * 4
    if free_disk is not None and raw > free_disk:
        raise MemoryLimitError(f"rendering {shown} samples may write up to {_gib(raw)} but the output folder has "
                               f"{_gib(free_disk)} free; lower `size`")


def _gib(n):
    return f"{n / 2 ** 30:.1f} GiB"
