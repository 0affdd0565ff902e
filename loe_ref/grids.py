"""Pixel coordinates, the per-layer grid arrangements (alpha_i, beta_i) and each point's expert.

docs/method.md, sections 2 and 3. Layer i reads the coordinate through
q = alpha_i * g + beta_i, where g = s * p stretches axis k by s_k (1 unless a signal's axes
want different cells); the integer lattice of q cuts axis k into cells of width
1 / (alpha_i s_k), T consecutive cells form one tile of N = T^d experts, and tiles repeat.
Shapes: P points, d coordinate dims.
"""
import numpy as np

from .backend import xp_of

ARRANGEMENTS = ("quadtree", "coarse_to_fine", "fine_to_coarse", "gray_code")


def pixel_coords(shape, dtype=np.float64):
    """Pixel-centre coordinates p = (n + 1/2) / S of a signal of ``shape``.

    Returns (P, d) with P = prod(shape), rows in C order; axis k of the signal is
    coordinate k. Drawn on the host.
    """
    shape = tuple(int(s) for s in shape)
    if not 1 <= len(shape) <= 3 or min(shape) < 1:
        raise ValueError(f"signal shape {shape} must have 1 to 3 positive sizes")
    axes = [(np.arange(s, dtype=np.float64) + 0.5) / s for s in shape]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1).astype(dtype)


def grid_coords(p, scale):
    """g = s * p (P, d), the coordinates the grids read; p itself when ``scale`` is None (every
    s_k = 1). Column by column with host scalars: nothing crosses to a device."""
    if scale is None:
        return p
    return xp_of(p).stack([p[:, k] * float(s) for k, s in enumerate(scale)], axis=1)


def grid_coords_backward(dg, scale):
    """dp = s * dg (P, d), from the gradient with respect to g = s * p."""
    return grid_coords(dg, scale)


def arrangement(name, layers, tile):
    """(alpha, beta): float arrays of length ``layers`` for a named arrangement.

    quadtree / coarse_to_fine: alpha_i = T^i; fine_to_coarse: alpha_i = T^(L+1-i);
    gray_code (T = 2 only): alpha_i = 2^(i-1), beta_i = 1/2. Layers count from 1.
    """
    if layers < 1:
        raise ValueError(f"layers={layers} must be a positive integer")
    if tile < 1:
        raise ValueError(f"tile={tile} must be a positive integer")
    i = np.arange(1, layers + 1, dtype=np.float64)
    if name in ("quadtree", "coarse_to_fine"):
        return float(tile) ** i, np.zeros(layers)
    if name == "fine_to_coarse":
        return float(tile) ** (layers + 1 - i), np.zeros(layers)
    if name == "gray_code":
        if tile != 2:
            raise ValueError(f"gray_code needs tile=2, got tile={tile}")
        return 2.0 ** (i - 1), np.full(layers, 0.5)
    raise ValueError(f"unknown grid {name!r}; expected one of {', '.join(ARRANGEMENTS)}")


def nearest_expert(p, alpha, beta, tile):
    """(P,) int64: the expert whose cell holds each point, j = sum_k (floor(alpha p_k + beta) mod T) T^k.

    p (P, d); the arithmetic is in p's dtype (the scale is a Python float), as in training.
    """
    xp = xp_of(p)
    cells = xp.floor(float(alpha) * p + float(beta)).astype(xp.int64) % tile     # (P, d)
    radix = tile ** xp.arange(p.shape[1], dtype=xp.int64)
    return (cells * radix).sum(axis=1)


def expert_maps(shape, alpha, beta, tile, window=None, scale=None):
    """The nearest expert of every pixel in every layer: (L, *shape) int64 (experts.png, checks).

    ``window``: only the pixels of the leading corner of that shape, (L, *window), at the
    resolution of ``shape``; ``scale``: the axes' stretch s (``grid_coords``). Computed on
    the host in float64.
    """
    if window is None:
        p, out = pixel_coords(shape), tuple(shape)
    else:
        out = tuple(min(w, s) for w, s in zip(window, shape))
        local = np.stack(np.meshgrid(*[np.arange(w) for w in out], indexing="ij"), axis=-1).reshape(-1, len(shape))
        p = (local + 0.5) / np.asarray(shape, dtype=np.float64)
    g = grid_coords(p, scale)
    return np.stack([nearest_expert(g, a, b, tile) for a, b in zip(alpha, beta)]).reshape((len(alpha),) + out)
