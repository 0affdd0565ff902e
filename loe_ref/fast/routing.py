"""Routing: which rows each expert multiplies, built once per batch of coordinates.

docs/fast.md, "Routing". With nearest blending every layer works on its points in its
own "working order", sorted by expert, so that each expert's rows are one contiguous
slice and a layer is one matrix product per expert; moving the activations from one
layer's order to the next is a single gather. With linear blending every point uses
several experts: the layer keeps natural order and carries the dense coefficients.
A plan depends only on the coordinates and the grid.
"""
from dataclasses import dataclass

from ..backend import to_host, xp_of
from ..blending import blend_forward, coefficients
from ..grids import grid_coords


@dataclass
class Route:
    """How one layer sees the batch: the order its rows are in, and how to get there.

    order: (P,) natural index of each working row. gather: (P,) rows of the previous
    layer's working order (natural order for the first layer) that form this order, or
    None when the two orders are the same; gather_back: its inverse, the rows of this
    order that form the previous one (the backward pass gathers gradients with it instead
    of scattering them), or None. Index arrays are int32
    (int64 beyond 2^31 points).
    """
    order: object
    gather: object
    gather_back: object


@dataclass
class SortedRoute(Route):
    """Nearest blending: working rows sorted by expert; expert e owns rows offsets[e]:offsets[e+1].

    offsets: a host tuple of N + 1 ints.
    """
    offsets: tuple


@dataclass
class BlendedRoute(Route):
    """Linear blending: natural order; every point mixes K = 2^d experts.

    coef: the dense coefficients B (P, N) that the layer multiplies with; corners: the
    expert of each blending corner (P, K); blend_cache: the blending's cache, for the
    gradient with respect to p.
    """
    coef: object
    corners: object
    blend_cache: tuple


@dataclass
class Plan:
    """Routes of all layers for one batch of coordinates p (P, d), in natural order.

    unsort: (P,) rows of the last layer's working order that give natural order.
    """
    p: object
    routes: list
    unsort: object


def layer_experts(p, alphas, betas, tile):
    """(L, P): grids.nearest_expert of p (P, d) in each of L layers with scales alphas,
    offsets betas, all layers at once; int16 indices when N < 2^15 (they are sorted by a
    radix sort and looked up by every batch)."""
    xp = xp_of(p)
    a = xp.asarray(alphas, dtype=p.dtype)[:, None, None]
    b = xp.asarray(betas, dtype=p.dtype)[:, None, None]
    t = xp.floor(a * p + b).astype(xp.int64)              # (L, P, d) cells
    t %= tile
    idx = t[:, :, 0].copy()
    for k in range(1, p.shape[1]):
        idx += t[:, :, k] * tile ** k
    return idx.astype(xp.int16) if tile ** p.shape[1] < 2 ** 15 else idx


def expert_table(cfg, p, rows=65536):
    """(P, L): the nearest expert of every point in every layer, to look batches up in; None
    with linear blending (its plans need the coordinates themselves). Computed ``rows``
    points at a time, so its temporaries stay small beside the table."""
    if cfg.blend != "nearest":
        return None
    alpha, beta = cfg.scales()
    table = None
    for s in range(0, p.shape[0], rows):
        experts = layer_experts(grid_coords(p[s:s + rows], cfg.axis_scales()), alpha, beta, cfg.tile)   # (L, rows)
        if table is None:
            table = xp_of(p).empty((p.shape[0], cfg.layers), dtype=experts.dtype)
        table[s:s + rows] = experts.T
    return table


def plan_for(cfg, p, dtype=None, experts=None):
    """The routing plan of coordinates p (P, d) through ``cfg``'s grids.

    ``experts`` (P, L): the points' nearest experts, if looked up already (``expert_table``).
    """
    if p.ndim != 2 or p.shape[1] != cfg.in_dims:
        raise ValueError(f"coordinates of shape {tuple(p.shape)} do not match in_dims={cfg.in_dims}")
    alpha, beta = cfg.scales()
    return make_plan(p, alpha, beta, cfg.tile, cfg.blend, dtype=dtype, experts=experts, scale=cfg.axis_scales())


def inverse_permutation(perm, natural=None):
    """inv with inv[perm[i]] = i, shape (P,); ``natural``: arange(P) in perm's dtype, if at hand."""
    xp = xp_of(perm)
    inv = xp.empty_like(perm)
    inv[perm] = xp.arange(perm.shape[0], dtype=perm.dtype) if natural is None else natural
    return inv


def expert_offsets(table, n_experts):
    """Each layer's slice bounds: a tuple of N + 1 host ints per row of ``table`` (L, P), the
    experts of every layer. One bincount over all layers, one crossing to the host: on a GPU
    the plan's only wait."""
    xp = xp_of(table)
    L = table.shape[0]
    keys = table.astype(xp.int64) + n_experts * xp.arange(L, dtype=xp.int64)[:, None]
    counts = to_host(xp.bincount(keys.ravel(), minlength=L * n_experts)).reshape(L, n_experts)
    return [(0,) + tuple(int(v) for v in row.cumsum()) for row in counts]


def make_plan(p, alpha, beta, tile, blend, dtype=None, experts=None, scale=None):
    """Routes for coordinates p (P, d) through layers with scales alpha and offsets beta,
    the grids reading g = scale * p (grids.grid_coords).

    Blend coefficients are stored in ``dtype`` (default: that of p), the activations' dtype.
    ``experts`` (P, L): the nearest experts of the points, when looked up beforehand (a
    training image's table, ``expert_table``).
    """
    xp = xp_of(p)
    g = grid_coords(p, scale)
    P = p.shape[0]
    n_experts = tile ** p.shape[1]
    index = xp.int32 if P < 2 ** 31 else xp.int64            # halves the plan and its gathers
    natural = xp.arange(P, dtype=index)
    if blend == "linear":
        routes = []
        for a, b in zip(alpha, beta):
            idx, w, blend_cache = blend_forward(blend, g, float(a), float(b), tile)
            coef = coefficients(idx, w, n_experts).astype(dtype or p.dtype)
            routes.append(BlendedRoute(natural, None, None, coef, idx, blend_cache))
        return Plan(p, routes, natural)
    if blend != "nearest":
        blend_forward(blend, p, 1.0, 0.0, tile)                 # the error that names the blends
    position = natural
    routes = []
    table = layer_experts(g, alpha, beta, tile) if experts is None else experts.T
    host = xp.__name__ == "numpy"
    for idx, offsets in zip(table, expert_offsets(table, n_experts)):     # (P,) experts of one layer
        order = xp.argsort(idx, kind="stable").astype(index)   # 16-bit indices: NumPy's radix sort, O(P)
        gather = position[order]              # previous working row of each working row
        # the previous layer's order (one expert, same cells) moves nothing; the check is a
        # host wait, so a device always gathers (a permutation: the same numbers)
        if host and bool((gather == natural).all()):
            routes.append(SortedRoute(order, None, None, offsets))
        else:
            routes.append(SortedRoute(order, gather, inverse_permutation(gather, natural), offsets))
        position = inverse_permutation(order, natural)     # working row of each natural index
    return Plan(p, routes, position)
