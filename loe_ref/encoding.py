"""Input mapping gamma(p) (docs/method.md, section 1; derivations section 4).

x0 = 2p - 1 centres the unit cube on the origin; with K > 0 octaves the sine-cosine
positional encoding [x0, sin(2^k pi x0), cos(2^k pi x0) for k = 0..K-1] is appended.
"""
import math

from .backend import xp_of


def encoded_dims(d, octaves):
    """Width of gamma(p) for d coordinate dims: d (1 + 2K)."""
    return d * (1 + 2 * octaves)


def encode_forward(p, octaves):
    """gamma(p). p (P, d). Returns out (P, d (1 + 2K)), cache (x0, K)."""
    xp = xp_of(p)
    x0 = 2.0 * p - 1.0
    feats = [x0]
    for k in range(octaves):
        arg = (2.0 ** k * math.pi) * x0
        feats += [xp.sin(arg), xp.cos(arg)]
    out = xp.concatenate(feats, axis=1) if octaves else x0
    return out, (x0, octaves)


def encode_backward(dout, cache):
    """dp = 2 (dout_x0 + sum_k 2^k pi (cos a_k dout_sin_k - sin a_k dout_cos_k)), (P, d)."""
    x0, octaves = cache
    xp = xp_of(x0)
    d = x0.shape[1]
    dx0 = dout[:, :d].copy()
    for k in range(octaves):
        freq = 2.0 ** k * math.pi
        arg = freq * x0
        dsin = dout[:, d * (1 + 2 * k):d * (2 + 2 * k)]
        dcos = dout[:, d * (2 + 2 * k):d * (3 + 2 * k)]
        dx0 += freq * (xp.cos(arg) * dsin - xp.sin(arg) * dcos)
    return 2.0 * dx0
