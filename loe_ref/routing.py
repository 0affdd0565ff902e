"""Routing: which rows each expert multiplies, built once per batch of coordinates.

Every layer works on its points in its own "working order": sorted by the expert of
the layer's first blending corner, so that each expert's rows are one contiguous slice
and a layer is one matrix product per expert (docs/method.md, section 5). Moving the
activations from one layer's order to the next is a single gather. A plan depends only
on the coordinates and the grid, so the training loop builds it once for a full image.
"""
from dataclasses import dataclass

from .backend import to_host, xp_of
from .blending import blend_forward


@dataclass
class Group:
    """One blending corner of a layer.

    rows: (P,) int64 rows of the working order, sorted by this corner's expert, or None
    for corner 0 (the working order is already sorted by it). offsets: host tuple of N + 1
    ints; expert e owns sorted rows offsets[e]:offsets[e+1]. weight: (P, 1) blend weights
    in sorted order, or None when every weight is 1 (nearest blending).
    """
    rows: object
    offsets: tuple
    weight: object


@dataclass
class Route:
    """How one layer sees the batch.

    Index arrays are int32 (int64 beyond 2^31 points).
    order: (P,) natural index of each working row. gather: (P,) rows of the previous
    layer's working order (natural order for the first layer) that form this order;
    spread: its inverse, the row of this order that holds each previous row (the
    backward pass gathers gradients with it instead of scattering them).
    groups: the K corners. blend_cache: the blending function's cache, in working order.
    blocks: row ranges (s, t) of the working order that can be processed independently:
    many small ones for nearest blending (one corner), one (0, P) otherwise.
    """
    order: object
    gather: object
    spread: object
    groups: list
    blend_cache: tuple
    blocks: list

    def part(self, s, t):
        """The route of rows s:t of a one-corner layer, for the layer op on that block."""
        if (s, t) == (0, self.order.shape[0]):
            return self
        (g,) = self.groups
        offsets = tuple(min(max(o, s), t) - s for o in g.offsets)
        weight = None if g.weight is None else g.weight[s:t]
        return Route(self.order[s:t], self.gather[s:t], None, [Group(None, offsets, weight)], None,
                     [(0, t - s)])


@dataclass
class Plan:
    """Routes of all layers for one batch of coordinates p (P, d), in natural order.

    unsort: (P,) rows of the last layer's working order that give natural order.
    """
    p: object
    blend: str
    tile: int
    routes: list
    n_experts: int
    unsort: object


def inverse_permutation(perm):
    """inv with inv[perm[i]] = i, shape (P,)."""
    xp = xp_of(perm)
    inv = xp.empty_like(perm)
    inv[perm] = xp.arange(perm.shape[0], dtype=perm.dtype)
    return inv


BLOCK_ROWS = 4096


def make_plan(p, alpha, beta, tile, blend, dtype=None, block_rows=BLOCK_ROWS):
    """Routes for coordinates p (P, d) through layers with scales alpha and offsets beta.

    Blend weights are stored in ``dtype`` (default: that of p), the activations' dtype.
    Nearest layers on NumPy are cut into blocks of ``block_rows`` rows (small enough to
    stay in cache, many enough to share among cores); on CuPy one block is the fastest.
    """
    xp = xp_of(p)
    P = p.shape[0]
    n_experts = tile ** p.shape[1]
    if blend == "nearest" and xp.__name__ == "numpy":
        blocks = [(s, min(s + block_rows, P)) for s in range(0, P, block_rows)]
    else:
        blocks = [(0, P)]
    index = xp.int32 if P < 2 ** 31 else xp.int64            # halves the plan and its gathers
    position = xp.arange(P, dtype=index)
    routes = []
    for a, b in zip(alpha, beta):
        idx, _, _ = blend_forward(blend, p, float(a), float(b), tile)
        order = xp.argsort(idx[:, 0], kind="stable").astype(index)
        idx, w, blend_cache = blend_forward(blend, p[order], float(a), float(b), tile)
        groups = []
        for c in range(idx.shape[1]):
            rows = None if c == 0 else xp.argsort(idx[:, c], kind="stable").astype(index)
            experts = idx[:, c] if rows is None else idx[rows, c]
            counts = to_host(xp.bincount(experts, minlength=n_experts))
            offsets = (0,) + tuple(int(v) for v in counts.cumsum())
            weight = None if w is None else (w[:, c] if rows is None else w[rows, c])[:, None]
            if weight is not None and dtype is not None:
                weight = weight.astype(dtype)
            groups.append(Group(rows, offsets, weight))
        gather = position[order]
        routes.append(Route(order, gather, inverse_permutation(gather), groups, blend_cache, blocks))
        position = inverse_permutation(order)
    return Plan(p, blend, tile, routes, n_experts, position)
