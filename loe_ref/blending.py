"""Blending coefficients B_j(alpha p + beta): which experts a point uses, and how much.

docs/method.md, section 2 (the paper's Eq. (3)); backward passes in docs/derivations.md,
section 6. A blending gives each point K "corners": ``idx`` (P, K) expert indices and
``w`` (P, K) weights, so that W(p) = sum_c w[:, c] W[idx[:, c]]; ``coefficients`` spreads
them into the dense B (P, N) that the layer multiplies with. Shapes: P points, d
coordinate dims, N = T^d experts, K = 1 (nearest) or 2^d (cyclic linear).
"""
from .backend import xp_of
from .grids import nearest_expert

BLENDS = ("nearest", "linear")


def nearest_forward(p, alpha, beta, tile):
    """Hard selection of the expert whose cell holds p (grids.nearest_expert).

    p (P, d). Returns idx (P, 1) int64, w (P, 1) ones, cache (P, d): an empty view of p
    that keeps only its dtype and backend.
    """
    idx = nearest_expert(p, alpha, beta, tile)[:, None]
    return idx, xp_of(p).ones(idx.shape, dtype=p.dtype), (p[:0], p.shape[0])


def nearest_backward(dw, cache):
    """d loss / d p of nearest blending: zero wherever it is defined. Returns (P, d)."""
    empty, P = cache
    return xp_of(empty).zeros((P, empty.shape[1]), dtype=empty.dtype)


def cyclic_linear_forward(p, alpha, beta, tile):
    """Cyclic multilinear blending between the cell centres around p.

    Per axis u_k = alpha p_k + beta - 1/2, c_k = floor(u_k), f_k = u_k - c_k; the cells
    c_k mod T and (c_k + 1) mod T get weights 1 - f_k and f_k. Corner c (bit k of c picks
    the upper cell on axis k) has weight a_c = prod_k a_ck with a_ck = f_k or 1 - f_k.
    p (P, d). Returns idx (P, 2^d) int64, w (P, 2^d), cache (f (P, d), alpha).
    """
    xp = xp_of(p)
    d = p.shape[1]
    u = alpha * p + (beta - 0.5)
    c = xp.floor(u)
    f = u - c
    lo = c.astype(xp.int64) % tile
    hi = (lo + 1) % tile
    radix = tile ** xp.arange(d, dtype=xp.int64)
    idx = xp.empty((p.shape[0], 2 ** d), dtype=xp.int64)
    w = xp.empty((p.shape[0], 2 ** d), dtype=p.dtype)
    for corner in range(2 ** d):
        up = [(corner >> k) & 1 for k in range(d)]
        cells = xp.stack([hi[:, k] if up[k] else lo[:, k] for k in range(d)], axis=1)
        idx[:, corner] = (cells * radix).sum(axis=1)
        w[:, corner] = _corner_weight(f, up, skip=None)
    return idx, w, (f, alpha)


def cyclic_linear_backward(dw, cache):
    """d loss / d p from d loss / d w (P, 2^d): dp_k = alpha sum_c dw_c s_ck prod_{m != k} a_cm.

    s_ck = +1 when corner c takes the upper cell on axis k, -1 otherwise, since
    d f_k / d p_k = alpha. Returns (P, d).
    """
    f, alpha = cache
    xp = xp_of(f)
    d = f.shape[1]
    dp = xp.zeros_like(f)
    for corner in range(2 ** d):
        up = [(corner >> k) & 1 for k in range(d)]
        for k in range(d):
            sign = 1.0 if up[k] else -1.0
            dp[:, k] += sign * alpha * dw[:, corner] * _corner_weight(f, up, skip=k)
    return dp


def _corner_weight(f, up, skip):
    """prod over axes k != skip of (f_k if up[k] else 1 - f_k), shape (P,)."""
    out = xp_of(f).ones(f.shape[0], dtype=f.dtype)
    for k, bit in enumerate(up):
        if k != skip:
            out = out * (f[:, k] if bit else 1.0 - f[:, k])
    return out


def blend_forward(blend, p, alpha, beta, tile):
    """Dispatch to ``nearest_forward`` or ``cyclic_linear_forward``."""
    if blend == "nearest":
        return nearest_forward(p, alpha, beta, tile)
    if blend == "linear":
        return cyclic_linear_forward(p, alpha, beta, tile)
    raise ValueError(f"unknown blend {blend!r}; expected one of {', '.join(BLENDS)}")


def blend_backward(blend, dw, cache):
    """Dispatch to ``nearest_backward`` or ``cyclic_linear_backward``."""
    return nearest_backward(dw, cache) if blend == "nearest" else cyclic_linear_backward(dw, cache)


def coefficients(idx, w, n_experts):
    """B (P, N) with B[n, idx[n, c]] += w[n, c]: every expert's coefficient (zero for the
    experts a point does not use; one-hot under nearest blending)."""
    xp = xp_of(idx)
    B = xp.zeros((idx.shape[0], n_experts), dtype=w.dtype)
    rows = xp.arange(idx.shape[0])
    for c in range(idx.shape[1]):
        B[rows, idx[:, c]] += w[:, c]
    return B


def coefficients_backward(dB, idx):
    """d loss / d w (P, K) from d loss / d B (P, N): each corner reads its expert's entry."""
    return xp_of(dB).take_along_axis(dB, idx, axis=1)
