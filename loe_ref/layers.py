"""Linear layers: the dynamic-weight layer of Eq. (3) and the plain output layer.

docs/method.md, section 1; backward passes derived in docs/derivations.md, section 2.
Shapes: P points, Ci input and Co output channels, N experts. Expert matrices are stored
as W (N, Ci, Co), so that a row x maps to x W[j].
"""
from collections import namedtuple

#: What ``dynamic_linear_forward`` keeps: x (P, Ci), W (N, Ci, Co), B (P, N).
DynamicLinearCache = namedtuple("DynamicLinearCache", "x W B")


def expand(x, B):
    """xb[n] = [B[n, 0] x[n], ..., B[n, N-1] x[n]]: (P, N Ci) from x (P, Ci), B (P, N)."""
    return (B[:, :, None] * x[:, None, :]).reshape(B.shape[0], -1)


def dynamic_linear_forward(x, W, b, B):
    """h = x W(p) + b with W(p) = sum_j B_j(p) W_j, Eq. (3), as one product of inner size N Ci.

    x (P, Ci), W (N, Ci, Co), b (Co,), B (P, N): each point's blending coefficients
    (blending.coefficients; one-hot for nearest experts). Returns out (P, Co), cache
    DynamicLinearCache.
    """
    out = expand(x, B) @ W.reshape(-1, W.shape[2])
    out += b
    return out, DynamicLinearCache(x, W, B)


def dynamic_linear_backward(dout, cache):
    """Gradients of ``dynamic_linear_forward`` from dout (P, Co): dx (P, Ci), dW (N, Ci, Co),
    db (Co,) and dB (P, N), the gradient with respect to the coefficients."""
    x, W, B = cache
    dW = (expand(x, B).T @ dout).reshape(W.shape)
    dxb = (dout @ W.reshape(-1, W.shape[2]).T).reshape(B.shape + x.shape[1:])       # (P, N, Ci)
    dx = (dxb * B[:, :, None]).sum(axis=1)
    dB = (dxb * x[:, None, :]).sum(axis=2)
    return dx, dW, dout.sum(axis=0), dB


def output_forward(x, W, b):
    """The output layer g(x) = x W + b. x (P, Ci), W (Ci, Co), b (Co,). Cache (x, W)."""
    return x @ W + b, (x, W)


def output_backward(dout, cache):
    """dx = dout W^T (P, Ci), dW = x^T dout (Ci, Co), db = sum_P dout (Co,)."""
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
