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
    """How one layer sees the batch: the order its rows are in, and how to get there.

    order: (P,) natural index of each working row. gather: (P,) rows of the previous
    layer's working order (natural order for the first layer) that form this order, or
    None when the two orders are the same; spread: its inverse (the backward pass gathers
    gradients with it instead of scattering them), or None. blocks: row ranges (s, t)
    that can be processed independently. Index arrays are int32 (int64 beyond 2^31 points).
    """
    order: object
    gather: object
    spread: object
    blocks: list


@dataclass
class SortedRoute(Route):
    """Nearest blending: working rows sorted by expert; expert e owns rows offsets[e]:offsets[e+1].

    offsets: a host tuple of N + 1 ints.
    """
    offsets: tuple

    def part(self, s, t):
        """The route of working rows s:t, for the layer op on that block."""
        offsets = tuple(min(max(o, s), t) - s for o in self.offsets)
        gather = None if self.gather is None else self.gather[s:t]
        return SortedRoute(self.order[s:t], gather, None, [(0, t - s)], offsets)


@dataclass
class BlendedRoute(Route):
    """Linear blending: natural order; every point mixes several experts.

    coef: the dense coefficients B (P, N); corners: the expert of each blending corner
    (P, K); blend_cache: ``linear_forward``'s cache, for the gradient with respect to p.
    """
    coef: object
    corners: object
    blend_cache: tuple

    def part(self, s, t):
        """The route of rows s:t, for the layer op on that block."""
        return BlendedRoute(self.order[s:t], None, None, [(0, t - s)], self.coef[s:t], self.corners[s:t], None)


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
            routes.append(BlendedRoute(natural, None, None, blocks, coef, idx, blend_cache))
            continue
        order = xp.argsort(idx[:, 0], kind="stable").astype(index)      # natural index of each working row
        counts = to_host(xp.bincount(idx[:, 0], minlength=n_experts))
        offsets = (0,) + tuple(int(v) for v in counts.cumsum())
        gather = position[order]              # previous working row of each working row
        if bool((gather == natural).all()):   # the previous layer's order (one expert, same cells)
            routes.append(SortedRoute(order, None, None, blocks, offsets))
        else:
            routes.append(SortedRoute(order, gather, inverse_permutation(gather), blocks, offsets))
        position = inverse_permutation(order)     # working row of each natural index
    return Plan(p, routes, position)
