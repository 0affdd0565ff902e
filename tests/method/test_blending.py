import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.backend import to_host
from loe_ref.blending import (
    coefficients,
    coefficients_backward,
    cyclic_linear_backward,
    cyclic_linear_forward,
    nearest_backward,
    nearest_forward,
)
from tests.gradcheck import STEP, check_gradients, upstream
from tests.helpers import keep_off_cells

layer = st.fixed_dictionaries({
    "d": st.integers(1, 3), "tile": st.integers(1, 3), "P": st.integers(1, 30),
    "alpha": st.sampled_from([1.0, 2.0, 3.0, 4.0, 9.0, 2.5]), "beta": st.floats(0.0, 1.0),
    "seed": st.integers(0, 2 ** 16)})


def _points(c, shift):
    rng = np.random.default_rng(c["seed"])
    p = rng.uniform(0, 1, (c["P"], c["d"]))
    return keep_off_cells(p, [c["alpha"]], [c["beta"]], margin=4 * STEP * c["alpha"] + 1e-6,
                          shift=shift, rng=rng), rng


def hat_coefficients(p, alpha, beta, tile, blend):
    """B (P, N) written independently of blending.py: B_j(p) = prod_k w_k(m_k(j)) for expert
    j = sum_k m_k T^k. On axis k, with u = alpha p_k + beta (minus 1/2 for linear), nearest
    gives cell m weight 1 when m = floor(u) mod T; linear gives it the hat function
    1 - |u - c| summed over every periodic copy c = m + nT of its centre."""
    u = alpha * p + beta - (0.5 if blend == "linear" else 0.0)                 # (P, d)
    m = np.arange(tile)
    if blend == "nearest":
        w = (np.mod(np.floor(u), tile)[..., None] == m).astype(np.float64)    # (P, d, T)
    else:
        r = np.mod(u[..., None] - m, tile)
        w = np.maximum(0.0, 1.0 - r) + np.maximum(0.0, 1.0 - (tile - r))
    d = p.shape[1]
    cells = np.array([[(j // tile ** k) % tile for k in range(d)] for j in range(tile ** d)])   # (N, d)
    return np.stack([w[:, k, cells[:, k]] for k in range(d)], axis=2).prod(axis=2)


@given(layer)
def test_coefficients_backward_reads_each_corner(xp, c):
    """d loss / d w from d loss / d B: the finite-difference check of ``coefficients``."""
    p, rng = _points(c, 0.5)
    idx, w, _ = cyclic_linear_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
    w = to_host(w)
    G = upstream(rng, (c["P"], c["tile"] ** c["d"]))
    dw = to_host(coefficients_backward(xp.asarray(G), idx))

    def f():
        return float((to_host(coefficients(idx, xp.asarray(w), G.shape[1])) * G).sum())

    check_gradients(f, {"w": w}, {"w": dw})


@given(layer)
def test_nearest_equals_per_point_selection(xp, c):
    p, _ = _points(c, 0.0)
    idx, w, _ = nearest_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
    assert idx.shape == w.shape == (c["P"], 1) and (to_host(w) == 1).all()
    for n in range(c["P"]):
        j = sum((math.floor(c["alpha"] * p[n, k] + c["beta"]) % c["tile"]) * c["tile"] ** k
                for k in range(c["d"]))
        assert int(idx[n, 0]) == j


@given(layer)
def test_linear_coefficients_are_a_partition_of_unity(xp, c):
    p, _ = _points(c, 0.0)
    idx, w, _ = cyclic_linear_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
    B = to_host(coefficients(idx, w, c["tile"] ** c["d"]))
    assert (B >= 0).all()
    np.testing.assert_allclose(B.sum(axis=1), 1.0, atol=1e-12)


@given(layer)
def test_linear_agrees_with_nearest_at_cell_centres(xp, c):
    rng = np.random.default_rng(c["seed"])
    cells = rng.integers(0, 1000, (c["P"], c["d"]))
    p = (cells + 0.5 - c["beta"]) / c["alpha"]
    n_exp = c["tile"] ** c["d"]
    idx_l, w_l, _ = cyclic_linear_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
    idx_n, w_n, _ = nearest_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
    np.testing.assert_allclose(to_host(coefficients(idx_l, w_l, n_exp)),
                               to_host(coefficients(idx_n, w_n, n_exp)), atol=1e-9)


@given(layer)
def test_linear_backward_matches_finite_differences(xp, c):
    p, rng = _points(c, 0.5)
    G = upstream(rng, (c["P"], 2 ** c["d"]))
    idx0, w, cache = cyclic_linear_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
    dp = to_host(cyclic_linear_backward(xp.asarray(G), cache))

    def f():
        idx, w, _ = cyclic_linear_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
        assert (to_host(idx) == to_host(idx0)).all()
        return float((to_host(w) * G).sum())

    check_gradients(f, {"p": p}, {"p": dp})


@given(layer)
def test_nearest_backward_is_zero_off_boundaries(xp, c):
    p, rng = _points(c, 0.0)
    _, _, cache = nearest_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
    dp = to_host(nearest_backward(None, cache))
    G = upstream(rng, (c["P"],))

    def f():
        idx, _, _ = nearest_forward(xp.asarray(p), c["alpha"], c["beta"], c["tile"])
        return float((to_host(idx)[:, 0] * G).sum())

    check_gradients(f, {"p": p}, {"p": dp})


@given(layer)
def test_coefficients_equal_periodic_hat_functions(xp, c):
    """Both blends against ``hat_coefficients``, the coefficients written another way."""
    for blend, shift in (("nearest", 0.0), ("linear", 0.5)):
        p, _ = _points(c, shift)
        idx, w, _ = (nearest_forward if blend == "nearest" else cyclic_linear_forward)(
            xp.asarray(p), c["alpha"], c["beta"], c["tile"])
        B = to_host(coefficients(idx, w, c["tile"] ** c["d"]))
        want = hat_coefficients(p, c["alpha"], c["beta"], c["tile"], blend)
        np.testing.assert_allclose(B, want, rtol=1e-12, atol=1e-12, err_msg=blend)


@pytest.mark.parametrize("tile", [2, 3, 4])
def test_linear_blending_wraps_from_the_last_cell_to_the_first(xp, tile):
    """A point in the upper half of the last cell, or the lower half of the first, blends
    the last expert with the first (mod T), not with itself (a clamp)."""
    alpha = float(tile)                                       # one tile over [0, 1]
    p = xp.asarray([[(tile - 0.25) / alpha], [0.25 / alpha]])     # u = T - 3/4 and u = -1/4
    idx, w, _ = cyclic_linear_forward(p, alpha, 0.0, tile)
    B = to_host(coefficients(idx, w, tile))
    np.testing.assert_allclose(B[0, [tile - 1, 0]], [0.75, 0.25], atol=1e-15)
    np.testing.assert_allclose(B[1, [tile - 1, 0]], [0.25, 0.75], atol=1e-15)
    assert B.sum() == pytest.approx(2.0)
