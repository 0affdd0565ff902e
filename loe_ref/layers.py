"""Linear layers: the dynamic-weight layer h(x, p) = W(p) x + b and the plain output layer.

docs/method.md, section 1 and the paper's Eq. (3); backward passes derived in
docs/derivations.md, section 2. Shapes: P points, Ci input and Co output channels,
N experts; expert matrices are stored as W (N, Ci, Co) so that a row x maps to x W[e].
"""
from .backend import xp_of


def grouped_matmul(x, W, offsets, out=None):
    """out[s:t] = x[s:t] @ W[e] for each expert's slice s:t = offsets[e]:offsets[e+1].

    x (P, Ci) sorted by expert, W (N, Ci, Co). Experts with no rows cost nothing.
    """
    xp = xp_of(x)
    if out is None:
        out = xp.empty((x.shape[0], W.shape[2]), dtype=x.dtype)
    for e in range(W.shape[0]):
        s, t = offsets[e], offsets[e + 1]
        if t > s:
            xp.matmul(x[s:t], W[e], out=out[s:t])
    return out


def grouped_weight_grad(x, dz, offsets, dW, accumulate):
    """dW[e] (+)= x[s:t]^T dz[s:t] for each expert's slice: the gradient of grouped_matmul."""
    xp = xp_of(x)
    for e in range(dW.shape[0]):
        s, t = offsets[e], offsets[e + 1]
        if t == s:
            if not accumulate:
                dW[e] = 0
        elif accumulate:
            dW[e] += x[s:t].T @ dz[s:t]
        else:
            xp.matmul(x[s:t].T, dz[s:t], out=dW[e])


def dynamic_linear_forward(x, W, b, route):
    """h(x, p) = sum_c w_c(p) x W[idx_c(p)] + b, Eq. (3) applied to a batch.

    x (P, Ci) in the layer's working order, W (N, Ci, Co), b (Co,), route: the layer's
    Route (its groups give each corner's rows, expert slices and weights).
    Returns out (P, Co) in working order, cache (x, W, route).
    """
    first, rest = route.groups[0], route.groups[1:]
    out = grouped_matmul(x, W, first.offsets)
    if first.weight is not None:
        out *= first.weight
    for g in rest:
        z = grouped_matmul(x[g.rows], W, g.offsets)
        z *= g.weight
        out[g.rows] += z
    out += b
    return out, (x, W, route)


def dynamic_linear_backward(dout, cache, need_weights=False):
    """Gradients of ``dynamic_linear_forward``.

    dout (P, Co). Returns dx (P, Ci), dW (N, Ci, Co), db (Co,) and dwts (P, K), the
    gradient with respect to each corner's blend weight (None unless ``need_weights``;
    it needs one more product per corner, so training skips it).
    """
    x, W, route = cache
    xp = xp_of(x)
    Wt = W.transpose(0, 2, 1)
    db = xp.ones(dout.shape[0], dtype=dout.dtype) @ dout      # a GEMV, faster than sum(0)
    dW = xp.empty_like(W)
    dwts = xp.empty((x.shape[0], len(route.groups)), dtype=x.dtype) if need_weights else None
    first = route.groups[0]
    dz = dout if first.weight is None else dout * first.weight
    grouped_weight_grad(x, dz, first.offsets, dW, accumulate=False)
    dx = grouped_matmul(dz, Wt, first.offsets)
    if need_weights:
        dwts[:, 0] = (dout * grouped_matmul(x, W, first.offsets)).sum(axis=1)
    for c, g in enumerate(route.groups[1:], start=1):
        xs, douts = x[g.rows], dout[g.rows]
        dz = douts * g.weight
        grouped_weight_grad(xs, dz, g.offsets, dW, accumulate=True)
        dx[g.rows] += grouped_matmul(dz, Wt, g.offsets)
        if need_weights:
            dwts[g.rows, c] = (douts * grouped_matmul(xs, W, g.offsets)).sum(axis=1)
    return dx, dW, db, dwts


def linear_forward(x, W, b):
    """Plain linear layer g(x) = x W + b. x (P, Ci), W (Ci, Co), b (Co,). Cache (x, W)."""
    return x @ W + b, (x, W)


def linear_backward(dout, cache):
    """dx = dout W^T (P, Ci), dW = x^T dout (Ci, Co), db = sum_P dout (Co,)."""
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
