"""Routing: which rows each expert multiplies, built once per batch of coordinates.

docs/method.md, section 5. With nearest blending every layer works on its points in its
own "working order", sorted by expert, so that each expert's rows are one contiguous
slice and a layer is one matrix product per expert; moving the activations from one
layer's order to the next is a single gather. With linear blending every point uses
several experts: the layer keeps natural order and carries the dense coefficients.
A plan depends only on the coordinates and the grid, so the training loop builds it
once for a full image.
"""
from dataclasses import dataclass

from .backend import to_host, xp_of
from .blending import blend_forward, dense_coefficients

BLOCK_ROWS = 4096


@dataclass
class Route:
    """How one layer sees the batch. Index arrays are int32 (int64 beyond 2^31 points).

    order: (P,) natural index of each working row. gather: (P,) rows of the previous
    layer's working order (natural order for the first layer) that form this order, or
    None when the two orders are the same; spread: its inverse (the backward pass gathers
    gradients with it instead of scattering them), or None.
    offsets: nearest blending, a host tuple of N + 1 ints: expert e owns working rows
    offsets[e]:offsets[e+1]. coef: linear blending, the coefficients B (P, N); corners:
    the expert of each blending corner (P, K), for the gradient with respect to p.
    blend_cache: the blending function's cache, in working order.
    blocks: row ranges (s, t) that can be processed independently.
    """
    order: object
    gather: object
    spread: object
    offsets: tuple
    coef: object
    corners: object
    blend_cache: tuple
    blocks: list

    def part(self, s, t):
        """The route of working rows s:t, for the layer op on that block."""
        offsets = None if self.offsets is None else tuple(min(max(o, s), t) - s for o in self.offsets)
        cut = (lambda a: None if a is None else a[s:t])
        return Route(self.order[s:t], cut(self.gather), None, offsets, cut(self.coef), cut(self.corners),
                     None, [(0, t - s)])


@dataclass
class Plan:
    """Routes of all layers for one batch of coordinates p (P, d), in natural order.

    unsort: (P,) rows of the last layer's working order that give natural order.
    """
    p: object
    routes: list
    unsort: object


def inverse_permutation(perm):
    """inv with inv[perm[i]] = i, shape (P,)."""
    xp = xp_of(perm)
    inv = xp.empty_like(perm)
    inv[perm] = xp.arange(perm.shape[0], dtype=perm.dtype)
    return inv


def make_plan(p, alpha, beta, tile, blend, dtype=None, block_rows=BLOCK_ROWS):
    """Routes for coordinates p (P, d) through layers with scales alpha and offsets beta.

    Blend coefficients are stored in ``dtype`` (default: that of p), the activations'
    dtype. On NumPy, layers are cut into blocks of ``block_rows`` rows (small enough to
    stay in cache, many enough to share among cores); on CuPy one block is the fastest.
    """
    xp = xp_of(p)
    P = p.shape[0]
    n_experts = tile ** p.shape[1]
    step = block_rows if xp.__name__ == "numpy" else P
    blocks = [(s, min(s + step, P)) for s in range(0, P, step)]
    index = xp.int32 if P < 2 ** 31 else xp.int64            # halves the plan and its gathers
    natural = xp.arange(P, dtype=index)
    position = natural
    routes = []
    for a, b in zip(alpha, beta):
        idx, w, blend_cache = blend_forward(blend, p, float(a), float(b), tile)
        if blend == "linear":
            coef = dense_coefficients(idx, w, n_experts).astype(dtype or p.dtype)
            routes.append(Route(natural, None, None, None, coef, idx, blend_cache, blocks))
            continue
        order = xp.argsort(idx[:, 0], kind="stable").astype(index)
        counts = to_host(xp.bincount(idx[:, 0], minlength=n_experts))
        offsets = (0,) + tuple(int(v) for v in counts.cumsum())
        gather = position[order]                 # nearest's blend cache holds no per-point data
        routes.append(Route(order, gather, inverse_permutation(gather), offsets, None, None,
                            blend_cache, blocks))
        position = inverse_permutation(order)
    return Plan(p, routes, position)
