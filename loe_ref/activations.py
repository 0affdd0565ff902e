"""Activations phi: sine and leaky ReLU (docs/method.md, section 4; derivations section 3)."""
from .backend import xp_of

ACTIVATIONS = ("sine", "leaky_relu")


def sine_forward(z, omega0):
    """phi(z) = sin(omega0 z). z (P, C). Returns out (P, C), cache (z, omega0)."""
    return xp_of(z).sin(omega0 * z), (z, omega0)


def sine_backward(dout, cache):
    """dz = dout * omega0 cos(omega0 z), shape (P, C)."""
    z, omega0 = cache
    return dout * (omega0 * xp_of(z).cos(omega0 * z))


def leaky_relu_forward(z, slope):
    """phi(z) = z for z > 0, slope z otherwise. Returns out (P, C), cache (gain,).

    gain = slope + (1 - slope) [z > 0] is the local derivative, so out = gain z.
    """
    gain = (z > 0).astype(z.dtype)
    gain *= 1.0 - slope
    gain += slope
    return gain * z, (gain,)


def leaky_relu_backward(dout, cache):
    """dz = dout * gain, shape (P, C)."""
    (gain,) = cache
    return dout * gain


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
