"""The layers of loe_ref.layers in the forms the fast path runs: nearest experts over rows
sorted by expert, and column sums and one-channel products that suit CPUs.

Each equals its counterpart at the package root (tests/fast/test_layers.py). Shapes: P
points, Ci input and Co output channels, N experts, K blending corners per point.
"""
from collections import namedtuple

from ..backend import xp_of
from ..layers import expand

#: What ``sorted_linear_forward`` keeps: x (P, Ci), W (N, Ci, Co), offsets (N + 1 ints).
SortedLinearCache = namedtuple("SortedLinearCache", "x W offsets")


def column_sums(a):
    """sum over the P rows of a (P, C): a GEMV with a ones vector, on CPUs several times
    faster than ``a.sum(axis=0)`` on these shapes (docs/fast.md). The ones vectors are
    kept (a few shard sizes recur every step)."""
    xp = xp_of(a)
    key = (xp.__name__, a.dtype.str, a.shape[0])
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) >= 16:
            _ONES.clear()
        ones = _ONES[key] = xp.ones(a.shape[0], dtype=a.dtype)
    return ones @ a


#: The ones vectors of ``column_sums``, by (array module, dtype, length).
_ONES = {}


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


def sorted_linear_forward(x, W, b, offsets):
    """h = x W[e(p)] + b with every point's own (nearest) expert: Eq. (3) with one-hot B.

    x (P, Ci) sorted by expert (expert e owns rows offsets[e]:offsets[e+1]), W (N, Ci, Co),
    b (Co,). One product per expert slice, so no point meets an expert it does not use.
    Returns out (P, Co), cache SortedLinearCache.
    """
    out = grouped_matmul(x, W, offsets)
    out += b
    return out, SortedLinearCache(x, W, offsets)


def sorted_linear_backward(dout, cache):
    """dx = dout W[e]^T per slice (P, Ci), dW[e] = x_e^T dout_e (N, Ci, Co), db = sum_P dout (Co,)."""
    x, W, offsets = cache
    dW = xp_of(x).empty_like(W)
    grouped_weight_grad(x, dout, offsets, dW)
    return grouped_matmul(dout, W.transpose(0, 2, 1), offsets), dW, column_sums(dout)


def blended_linear_backward(dout, cache, corners=None):
    """Gradients of ``layers.dynamic_linear_forward``: dx (P, Ci), dW (N, Ci, Co), db (Co,), dw.

    dw (P, K) is the gradient with respect to each blending corner's weight, returned when
    ``corners`` (P, K), the expert of each corner, is given (None otherwise): the
    coefficients' gradient is formed only when the coordinates need it.
    """
    x, W, coef = cache
    xp = xp_of(x)
    dW = (expand(x, coef).T @ dout).reshape(W.shape)
    dxb = (dout @ W.reshape(-1, W.shape[2]).T).reshape(coef.shape + x.shape[1:])     # (P, N, Ci)
    dx = (dxb * coef[:, :, None]).sum(axis=1)
    dw = None
    if corners is not None:
        dcoef = (dxb * x[:, None, :]).sum(axis=2)                                     # (P, N)
        dw = xp.take_along_axis(dcoef, corners, axis=1)
    return dx, dW, column_sums(dout), dw


def output_backward(dout, cache):
    """``layers.output_backward``; with one output channel dx is an outer product, written as
    a broadcast product (a GEMM of inner size 1 is several times slower on CPUs)."""
    x, W = cache
    dx = dout * W[:, 0] if W.shape[1] == 1 else dout @ W.T
    return dx, x.T @ dout, column_sums(dout)
