import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.activations import activation_backward, activation_forward
from loe_ref.backend import to_host
from tests.gradcheck import check_gradients, upstream


@given(st.sampled_from(["sine", "leaky_relu"]), st.integers(1, 20), st.integers(1, 5),
       st.sampled_from([1.0, 3.0, 30.0]), st.floats(0.0, 0.9), st.integers(0, 2 ** 16))
def test_activation_backward_matches_finite_differences(xp, name, P, C, omega0, slope, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((P, C))
    near = np.abs(z) < 1e-2
    z[near] = np.where(z[near] < 0, -1e-2, 1e-2)   # moved off the leaky-ReLU kink at 0
    G = upstream(rng, (P, C))
    _, cache = activation_forward(name, xp.asarray(z), omega0, slope)
    dz = to_host(activation_backward(name, xp.asarray(G), cache))

    def f():
        return float((to_host(activation_forward(name, xp.asarray(z), omega0, slope)[0]) * G).sum())

    check_gradients(f, {"z": z}, {"z": dz})


def test_activation_values(xp):
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_allclose(to_host(activation_forward("sine", xp.asarray(z), 3.0)[0]), np.sin(3 * z))
    np.testing.assert_allclose(to_host(activation_forward("leaky_relu", xp.asarray(z), slope=0.2)[0]),
                               [[-0.4, -0.1, 0.0, 0.5, 2.0]])
