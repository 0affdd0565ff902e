"""Linear layers: the dynamic-weight layer h(x, p) = W(p) x + b and the plain output layer.

docs/method.md, section 1 and the paper's Eq. (3); backward passes derived in
docs/derivations.md, section 2. Shapes: P points, Ci input and Co output channels,
N experts; expert matrices are stored as W (N, Ci, Co) so that a row x maps to x W[e].
"""
from collections import namedtuple

from .backend import xp_of
from .routing import SortedRoute

#: What ``dynamic_linear_forward`` keeps for its backward pass.
DynamicLinearCache = namedtuple("DynamicLinearCache", "x W route")


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


def grouped_weight_grad(x, dz, offsets, dW):
    """dW[e] = x[s:t]^T dz[s:t] for each expert's slice: the gradient of grouped_matmul."""
    xp = xp_of(x)
    for e in range(dW.shape[0]):
        s, t = offsets[e], offsets[e + 1]
        if t == s:
            dW[e] = 0
        else:
            xp.matmul(x[s:t].T, dz[s:t], out=dW[e])


def expand(x, coef):
    """xb[n] = [coef[n, 0] x[n], ..., coef[n, N-1] x[n]]: (P, N Ci) from x (P, Ci), coef (P, N)."""
    return (coef[:, :, None] * x[:, None, :]).reshape(coef.shape[0], -1)


def blended_matmul(x, W, coef):
    """out[n] = sum_j coef[n, j] x[n] W[j] as one product: expand(x, coef) @ W (N Ci, Co), (P, Co)."""
    return expand(x, coef) @ W.reshape(-1, W.shape[2])


def dynamic_linear_forward(x, W, b, route):
    """h(x, p) = W(p) x + b with W(p) = sum_j B_j(p) W[j], Eq. (3) applied to a batch.

    x (P, Ci) in the layer's working order, W (N, Ci, Co), b (Co,), route: the layer's
    route. Nearest blending (a SortedRoute): one product per expert slice
    (``route.offsets``), so no point meets an expert it does not use. Linear blending (a
    BlendedRoute): the dense coefficients ``route.coef`` (P, N) in one product of inner
    size N Ci. Returns out (P, Co), cache DynamicLinearCache(x, W, route).
    """
    if isinstance(route, SortedRoute):
        out = grouped_matmul(x, W, route.offsets)
    else:
        out = blended_matmul(x, W, route.coef)
    out += b
    return out, DynamicLinearCache(x, W, route)


def dynamic_linear_backward(dout, cache, need_weights=False):
    """Gradients of ``dynamic_linear_forward``.

    dout (P, Co). Returns dx (P, Ci), dW (N, Ci, Co), db (Co,) and dw (P, K), the
    gradient with respect to each blending corner's weight w (linear blending with
    ``need_weights`` only; None otherwise).
    """
    x, W, route = cache
    xp = xp_of(x)
    db = xp.ones(dout.shape[0], dtype=dout.dtype) @ dout      # a GEMV, faster than sum(0)
    if isinstance(route, SortedRoute):
        dW = xp.empty_like(W)
        grouped_weight_grad(x, dout, route.offsets, dW)
        return grouped_matmul(dout, W.transpose(0, 2, 1), route.offsets), dW, db, None
    coef = route.coef
    dW = (expand(x, coef).T @ dout).reshape(W.shape)
    dxb = (dout @ W.reshape(-1, W.shape[2]).T).reshape(coef.shape + x.shape[1:])
    dx = (dxb * coef[:, :, None]).sum(axis=1)
    dw = None
    if need_weights:
        dcoef = (dxb * x[:, None, :]).sum(axis=2)
        dw = xp.take_along_axis(dcoef, route.corners, axis=1)
    return dx, dW, db, dw


def linear_forward(x, W, b):
    """Plain linear layer g(x) = x W + b. x (P, Ci), W (Ci, Co), b (Co,). Cache (x, W)."""
    return x @ W + b, (x, W)


def linear_backward(dout, cache):
    """dx = dout W^T (P, Ci), dW = x^T dout (Ci, Co), db = sum_P dout (Co,)."""
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
