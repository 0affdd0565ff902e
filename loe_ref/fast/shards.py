"""Sharded batches: the loss gradient of a batch as a fixed sum of its shards' gradients.

docs/fast.md, "Shards". The network acts on every point alone; only the parameter
gradients sum over points. A batch of P points is cut into shards of at most
``SHARD_ROWS`` consecutive points; each shard is routed (a plan of its own) and run
forward and backward on its own, and the shards' gradients are added pairwise along a
fixed binary tree over the shards (``tree_sum``). The shards and the tree depend only on
P, so any split of the tree's subtrees among worker processes (workers.py) gives the
same numbers, bit for bit, as one process. On CuPy a batch is one shard.
Shapes: P points, d coordinate dims, C channels.
"""
from ..backend import xp_of
from ..losses import squared_error_backward, squared_error_forward
from .network import backward, forward
from .routing import plan_for

#: Points per shard on the CPU: two shards of a 4096-point batch keep two cores busy, and a
#: shard's activations (2048 x 64 float32 = 512 KiB per array) stay in the core's cache.
SHARD_ROWS = 2048


def shard_ranges(P, xp, rows=None):
    """[(s, t), ...] covering 0..P in shards of ``rows`` (default SHARD_ROWS; all P on CuPy)."""
    if rows is None:
        rows = SHARD_ROWS if xp.__name__ == "numpy" else max(P, 1)
    return [(s, min(s + rows, P)) for s in range(0, P, rows)]


def subtrees(lo, hi, depth):
    """The nodes (lo', hi') of the shard tree over shards lo..hi-1, ``depth`` levels down.

    A node of more than one shard splits at lo + (hi - lo) // 2; a single shard is a leaf
    and stays one node, so there are at most 2^depth nodes, in shard order.
    """
    if depth == 0 or hi - lo <= 1:
        return [(lo, hi)]
    mid = lo + (hi - lo) // 2
    return subtrees(lo, mid, depth - 1) + subtrees(mid, hi, depth - 1)


def tree_sum(lo, hi, leaf, add, depth=None, known=None):
    """leaf(lo) + ... + leaf(hi - 1), added pairwise along the shard tree.

    ``known``: {node: value} of the nodes ``depth`` levels down, already summed (by other
    processes); the tree above them is added here in the same order.
    """
    if hi <= lo:
        raise ValueError(f"an empty batch (shards {lo}..{hi - 1}) has no loss to sum")
    if known is not None and (depth == 0 or hi - lo <= 1):
        return known[(lo, hi)]
    if hi - lo == 1:
        return leaf(lo)
    mid = lo + (hi - lo) // 2
    below = None if depth is None else depth - 1
    return add(tree_sum(lo, mid, leaf, add, below, known), tree_sum(mid, hi, leaf, add, below, known))


def add_sse_grads(a, b):
    """(sse, grads) + (sse, grads), in place in the first (which the shard's backward made)."""
    for k, g in b[1].items():
        a[1][k] += g
    return a[0] + b[0], a[1]


def shard_sse_and_grads(params, cfg, p, target, count, plan=None, experts=None):
    """(sum of squared errors, gradients) of one shard: p (R, d), target (R, C).

    The MSE of the whole batch is sse / count with count = P C entries; its gradient
    2 (pred - target) / count (losses.py; docs/derivations.md, section 7) is back-propagated here.
    """
    pred, cache = forward(params, plan or plan_for(cfg, p, params["W_out"].dtype, experts), cfg)
    sse, loss_cache = squared_error_forward(pred, target)
    return sse, backward(squared_error_backward(1.0 / count, loss_cache), cache, cfg)


def sse_and_grads(params, cfg, p, target, rows=None, plans=None, node=None, experts=None):
    """(sum of squared errors, gradients of the MSE) over the batch p (P, d), target (P, C).

    ``plans``: the shards' plans, when built beforehand; ``experts`` (P, L): the points'
    nearest experts, when looked up. ``node``: only the shards lo..hi-1 of that subtree (a
    worker's part). The sse is a 0-d array of the parameters' dtype.
    """
    ranges = shard_ranges(p.shape[0], xp_of(params["W_out"]), rows)

    def leaf(k):
        s, t = ranges[k]
        return shard_sse_and_grads(params, cfg, p[s:t], target[s:t], target.size, plans and plans[k],
                                   None if experts is None else experts[s:t])

    lo, hi = node or (0, len(ranges))
    return tree_sum(lo, hi, leaf, add_sse_grads)


def predict(params, cfg, p, rows=None, plans=None, node=None, out=None):
    """f(p) (P, C) for coordinates p (P, d), shard by shard; ``plans``: the shards' plans, if built.

    ``node``: only the shards lo..hi-1, written into ``out`` (P, C).
    """
    xp = xp_of(params["W_out"])
    ranges = shard_ranges(p.shape[0], xp, rows)
    if out is None:
        out = xp.empty((p.shape[0], cfg.out_channels), dtype=params["W_out"].dtype)
    lo, hi = node or (0, len(ranges))
    for k in range(lo, hi):
        s, t = ranges[k]
        out[s:t] = forward(params, plans[k] if plans is not None else plan_for(cfg, p[s:t], out.dtype), cfg)[0]
    return out


def shard_plans(cfg, p, dtype, rows=None):
    """The plans of the shards of p (P, d), to reuse when the same points come again."""
    return [plan_for(cfg, p[s:t], dtype) for s, t in shard_ranges(p.shape[0], xp_of(p), rows)]
