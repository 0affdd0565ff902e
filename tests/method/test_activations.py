import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.activations import (
    ACTIVATIONS,
    SINC_SERIES,
    activation_backward,
    activation_forward,
)
from loe_ref.backend import to_host
from tests.gradcheck import check_gradients, upstream


@given(st.sampled_from(ACTIVATIONS), st.integers(1, 20), st.integers(1, 5), st.sampled_from([1.0, 3.0, 30.0]),
       st.floats(0.0, 0.9), st.sampled_from([0.5, 1.0, 3.0, 10.0]), st.integers(0, 2 ** 16))
def test_activation_backward_matches_finite_differences(xp, name, P, C, omega0, slope, sigma, seed):
    """Every activation; z is kept off 0, the kink of leaky ReLU and of FINER's |z|."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((P, C))
    near = np.abs(z) < 1e-2
    z[near] = np.where(z[near] < 0, -1e-2, 1e-2)
    G = upstream(rng, (P, C))
    _, cache = activation_forward(name, xp.asarray(z), omega0, slope, sigma)
    dz = to_host(activation_backward(name, xp.asarray(G), cache))

    def f():
        return float((to_host(activation_forward(name, xp.asarray(z), omega0, slope, sigma)[0]) * G).sum())

    check_gradients(f, {"z": z}, {"z": dz})


def test_sinc_is_smooth_across_its_series(xp):
    """sinc is sin(u) / u down to u = 0, where it is 1; its derivative, a series near 0, passes
    finite differences on both sides of the switch and at 0."""
    omega0 = 2.0
    u = np.array([[-SINC_SERIES * 1.0001, -SINC_SERIES * 0.9999, -1e-9, 0.0, 3e-5, SINC_SERIES * 0.9999,
                   SINC_SERIES * 1.0001, 2.0]])
    z = u / omega0
    out, cache = activation_forward("sinc", xp.asarray(z), omega0)
    safe = np.where(u == 0, 1.0, u)
    np.testing.assert_allclose(to_host(out), np.where(u == 0, 1.0, np.sin(safe) / safe), rtol=1e-15, atol=1e-15)
    G = np.random.default_rng(0).uniform(0.5, 1.5, u.shape)
    dz = to_host(activation_backward("sinc", xp.asarray(G), cache))

    def f():
        return float((to_host(activation_forward("sinc", xp.asarray(z), omega0)[0]) * G).sum())

    check_gradients(f, {"z": z}, {"z": dz})


def test_sinc_derivative_keeps_float32_accuracy_near_zero(xp):
    """Where the closed form would cancel (|u| < SINC_SERIES), float32's derivative stays
    within a few units of float32 rounding of float64's: the series is what is used there;
    past the switch the closed form loses at most a few more digits' worth (1e-4)."""
    u = np.concatenate([np.linspace(-0.3, 0.3, 6001), [0.0, 1e-30, -1e-3]])[None, :]

    def slope(dtype):
        v = xp.asarray(u.astype(dtype))
        return to_host(activation_backward("sinc", xp.ones_like(v), activation_forward("sinc", v, 1.0)[1]))

    exact, got = slope(np.float64), slope(np.float32)
    assert got.dtype == np.float32
    series = np.abs(u.astype(np.float32)) < SINC_SERIES          # as float32 sees the switch
    np.testing.assert_allclose(got[series], exact[series], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(got[~series], exact[~series], rtol=1e-4)


def test_activation_values(xp):
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    value = lambda name, **kw: to_host(activation_forward(name, xp.asarray(z), **kw)[0])   # noqa: E731
    np.testing.assert_allclose(value("sine", omega0=3.0), np.sin(3 * z))
    np.testing.assert_allclose(value("leaky_relu", slope=0.2), [[-0.4, -0.1, 0.0, 0.5, 2.0]])
    np.testing.assert_allclose(value("finer", omega0=3.0), np.sin(3 * (np.abs(z) + 1) * z))
    np.testing.assert_allclose(value("gauss", sigma=2.0), np.exp(-4 * z ** 2))
    np.testing.assert_allclose(value("gabor", omega0=3.0, sigma=2.0), np.cos(3 * z) * np.exp(-4 * z ** 2))
    np.testing.assert_allclose(value("sinc", omega0=3.0), np.sinc(3 * z / np.pi))


def test_an_unknown_activation_is_named():
    with pytest.raises(ValueError, match="unknown activation 'swish'; expected one of sine, leaky_relu, finer"):
        activation_forward("swish", np.zeros((1, 1)))


@pytest.mark.parametrize("name", ["gauss", "gabor"])
def test_no_subnormal_values(xp, name):
    """exp(-(sigma z)^2) far out would be subnormal (10 to 50 times slower on CPUs), and so would
    the product of two small values that the next layer forms: 0 there."""
    z = np.linspace(-20, 20, 4001, dtype=np.float32)[None, :]
    out, cache = activation_forward(name, xp.asarray(z), 3.0, sigma=10.0)
    dz = activation_backward(name, xp.asarray(np.ones_like(z)), cache)
    for a in (to_host(out), to_host(dz)):
        assert a.dtype == np.float32
        tiny = np.abs(a[a != 0]).min()
        assert tiny >= np.finfo(np.float32).tiny, tiny
    tiny = np.abs(to_host(out)[to_host(out) != 0]).min()
    assert tiny * tiny >= np.finfo(np.float32).tiny, tiny
