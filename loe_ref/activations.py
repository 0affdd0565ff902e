"""Activations phi: sine and leaky ReLU (docs/method.md, section 4; derivations section 3).

Shapes: P points, C channels.
"""
from .backend import xp_of

ACTIVATIONS = ("sine", "leaky_relu")


def sine_forward(z, omega0):
    """phi(z) = sin(omega0 z). z (P, C). Returns out (P, C), cache (z, omega0)."""
    xp = xp_of(z)
    return xp.sin(z if omega0 == 1.0 else omega0 * z), (z, omega0)


def sine_backward(dout, cache):
    """dz = dout * omega0 cos(omega0 z), shape (P, C)."""
    z, omega0 = cache
    xp = xp_of(z)
    dz = xp.cos(z if omega0 == 1.0 else omega0 * z)
    if omega0 != 1.0:
        dz *= omega0
    dz *= dout
    return dz


def leaky_relu_forward(z, slope):
    """phi(z) = z for z > 0, slope z otherwise, i.e. max(z, slope z) as 0 <= slope < 1.

    Returns out (P, C), cache (mask, slope) with the boolean mask z > 0 (P, C).
    """
    xp = xp_of(z)
    return xp.maximum(z, z * slope), (z > 0, slope)


def leaky_relu_backward(dout, cache):
    """dz = dout * (slope + (1 - slope) mask), shape (P, C)."""
    mask, slope = cache
    gain = mask.astype(dout.dtype)
    gain *= 1.0 - slope
    gain += slope
    gain *= dout
    return gain


def activation_forward(name, z, omega0=1.0, slope=0.2):
    """Dispatch by name to ``sine_forward`` or ``leaky_relu_forward``."""
    if name == "sine":
        return sine_forward(z, omega0)
    if name == "leaky_relu":
        return leaky_relu_forward(z, slope)
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")


def activation_backward(name, dout, cache):
    """Dispatch by name to ``sine_backward`` or ``leaky_relu_backward``."""
    return sine_backward(dout, cache) if name == "sine" else leaky_relu_backward(dout, cache)
