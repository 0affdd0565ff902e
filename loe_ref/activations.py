"""Activations phi (docs/method.md, section 4; derivations section 3): the paper's sine and
leaky ReLU, and the candidates of its open question, each built for coordinate networks:
FINER's variable-periodic sine, the Gaussian, WIRE's real Gabor wavelet and sinc.

Adding one is a forward/backward pair here and its entry in PAIRS, its derivative in
docs/derivations.md (docs/method.md, "Adding an activation"). Shapes: P points, C channels.
"""
from . import validate
from .backend import xp_of


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


def finer_forward(z, omega0):
    """phi(z) = sin(omega0 (|z| + 1) z): FINER's variable-periodic sine (Liu et al., CVPR 2024),
    whose frequency grows with |z|. Returns out (P, C), cache (a, v, omega0) with a = |z| and
    the argument v = omega0 (|z| + 1) z, both (P, C)."""
    xp = xp_of(z)
    a = xp.abs(z)
    v = omega0 * (a + 1.0) * z
    return xp.sin(v), (a, v, omega0)


def finer_backward(dout, cache):
    """dz = dout omega0 (2 |z| + 1) cos(v), shape (P, C); (|z| + 1) z has the derivative
    2 |z| + 1, continuous at 0."""
    a, v, omega0 = cache
    xp = xp_of(v)
    return dout * (omega0 * (2.0 * a + 1.0)) * xp.cos(v)


#: exp(-a) is taken as 0 from a = 40 on (exp(-40) = 4.2e-18), so that the product of two
#: such values, which the next layer and the backward pass form, is still a normal float32
#: (exp(-80) = 1.8e-35 > 1.2e-38): subnormal numbers make CPUs' arithmetic 10 to 50 times slower.
EXP_CUTOFF = 40.0


def _gaussian(xp, sz):
    """exp(-sz^2), 0 where sz^2 >= EXP_CUTOFF (no subnormal values); a product with the mask,
    as a select on a mask that changes from entry to entry is several times slower on CPUs."""
    a = sz * sz
    return xp.exp(-xp.minimum(a, EXP_CUTOFF)) * (a < EXP_CUTOFF)


def gauss_forward(z, sigma):
    """phi(z) = exp(-(sigma z)^2): the Gaussian activation (Ramasinghe and Lucey, ECCV 2022;
    WIRE's Gauss layer), 0 where the exponent passes EXP_CUTOFF. Returns out (P, C),
    cache (z, out, sigma)."""
    out = _gaussian(xp_of(z), sigma * z)
    return out, (z, out, sigma)


def gauss_backward(dout, cache):
    """dz = -2 sigma^2 z phi(z) dout, shape (P, C)."""
    z, out, sigma = cache
    return dout * (-2.0 * sigma * sigma) * z * out


def gabor_forward(z, omega0, sigma):
    """phi(z) = cos(omega0 z) exp(-(sigma z)^2): WIRE's Gabor wavelet, its real form (Saragadam
    et al., CVPR 2023: the real part of exp(i omega0 z - (sigma z)^2)); its Gaussian is 0 where
    the exponent passes EXP_CUTOFF. Returns out (P, C), cache (z, c, e, omega0, sigma) with
    c = cos(omega0 z) and e = exp(-(sigma z)^2), both (P, C)."""
    xp = xp_of(z)
    c, e = xp.cos(omega0 * z), _gaussian(xp, sigma * z)
    return c * e, (z, c, e, omega0, sigma)


def gabor_backward(dout, cache):
    """dz = -(omega0 sin(omega0 z) + 2 sigma^2 z c) e dout, shape (P, C)."""
    z, c, e, omega0, sigma = cache
    xp = xp_of(z)
    return dout * -(omega0 * xp.sin(omega0 * z) + 2.0 * sigma * sigma * z * c) * e


#: Below this |omega0 z| sinc's derivative is its Taylor series (exact to float64 rounding
#: there), as the closed form cancels: cos u and sin(u) / u agree in their leading digits.
SINC_SERIES = 0.1


def sinc_forward(z, omega0):
    """phi(z) = sin(u) / u with u = omega0 z, and 1 at u = 0 (Saratchandran et al., 2024, sinc
    activations for INRs); the division is exact to rounding however small u is. Returns
    out (P, C), cache (u, safe, out, omega0) with safe = u but 1 where u = 0, all (P, C)."""
    xp = xp_of(z)
    u = omega0 * z
    zero = u == 0
    safe = xp.where(zero, 1.0, u)
    out = xp.where(zero, 1.0, xp.sin(safe) / safe)
    return out, (u, safe, out, omega0)


def sinc_backward(dout, cache):
    """dz = omega0 (cos u - sinc u) / u dout, its series where |u| < SINC_SERIES, (P, C)."""
    u, safe, out, omega0 = cache
    xp = xp_of(u)
    slope = (xp.cos(safe) - out) / safe
    near = xp.flatnonzero(xp.abs(u) < SINC_SERIES)          # the series only where it is used
    us = u.ravel()[near]
    u2 = us * us
    slope.ravel()[near] = -us / 3.0 * (1.0 - u2 / 10.0 * (1.0 - u2 / 28.0 * (1.0 - u2 / 54.0 * (1.0 - u2 / 88.0))))
    return dout * omega0 * slope


#: name: (forward, backward, the parameters the forward takes after z, of network.Config).
PAIRS = {
    "sine": (sine_forward, sine_backward, ("omega0",)),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward, ("slope",)),
    "finer": (finer_forward, finer_backward, ("omega0",)),
    "gauss": (gauss_forward, gauss_backward, ("sigma",)),
    "gabor": (gabor_forward, gabor_backward, ("omega0", "sigma")),
    "sinc": (sinc_forward, sinc_backward, ("omega0",)),
}
ACTIVATIONS = tuple(PAIRS)


def activation_forward(name, z, omega0=1.0, slope=0.2, sigma=1.0):
    """The forward pass of activation ``name`` (``omega0``: its frequency, ``slope``: leaky
    ReLU's, ``sigma``: the Gaussian's and the Gabor wavelet's width; each takes its own)."""
    validate.choice("activation", name, ACTIVATIONS)
    forward, _, names = PAIRS[name]
    given = {"omega0": omega0, "slope": slope, "sigma": sigma}
    return forward(z, *(given[k] for k in names))


def activation_backward(name, dout, cache):
    """The backward pass of activation ``name``."""
    return PAIRS[name][1](dout, cache)
