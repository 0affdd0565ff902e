"""The loss as trained, and the metric (docs/method.md, section 6; the gradient in
docs/derivations.md, section 7).

Training minimises the mean squared error over a batch's P points and C channels,
L = sum (pred - target)^2 / (P C). A batch may be computed in parts (loe_ref.fast cuts it
into shards): each part gives its sum of squares ``squared_error_forward`` and back-
propagates ``squared_error_backward(1 / (P C), ...)``, the same gradient as the whole.
Targets live in [-1, 1]. PSNR maps predictions back to [0, 1] and clips them, then uses
data range 1: PSNR = 10 log10(1 / MSE). On [-1, 1] values it would read 6.02 dB low.
"""
import math

from .backend import xp_of


def squared_error_forward(pred, target):
    """S = sum (pred - target)^2 over the P rows and C channels. Returns S (0-d), cache (diff,)."""
    diff = pred - target
    return (diff * diff).sum(), (diff,)


def squared_error_backward(dS, cache):
    """d loss / d pred = 2 dS (pred - target), shape (P, C)."""
    (diff,) = cache
    return (2.0 * dS) * diff


def mse_forward(pred, target):
    """L = S / (P C), the training loss of a whole batch. Returns L (0-d), cache."""
    S, cache = squared_error_forward(pred, target)
    return S / pred.size, cache


def mse_backward(cache, dloss=1.0):
    """d L / d pred = 2 (pred - target) / (P C), shape (P, C)."""
    return squared_error_backward(dloss / cache[0].size, cache)


def squared_error_sum(pred, target):
    """sum (clip((pred + 1) / 2, 0, 1) - (target + 1) / 2)^2: the [0, 1]-scale error (0-d)."""
    xp = xp_of(pred)
    a = xp.clip((pred + 1.0) * 0.5, 0.0, 1.0)
    a -= (target + 1.0) * 0.5
    return (a * a).sum(dtype=xp.float64)


def squared_error_rows(pred, target):
    """Each point's sum over its channels of the [0, 1]-scale squared error, (P,) float64."""
    xp = xp_of(pred)
    a = xp.clip((pred + 1.0) * 0.5, 0.0, 1.0)
    a -= (target + 1.0) * 0.5
    return (a * a).sum(axis=1, dtype=xp.float64)


def psnr_from_mse(mse):
    """10 log10(1 / mse), the PSNR of data range 1."""
    mse = float(mse)
    return math.inf if mse == 0.0 else 10.0 * math.log10(1.0 / mse)


def psnr(pred, target):
    """PSNR in dB of [-1, 1] predictions against [-1, 1] targets, on the [0, 1] scale.

    Returns a Python float (this is a logging boundary: one device sync).
    """
    return psnr_from_mse(squared_error_sum(pred, target) / pred.size)
