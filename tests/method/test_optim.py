import math

import numpy as np

from loe_ref.backend import to_host
from loe_ref.optim import Adam


def test_adam_matches_the_formula_over_ten_steps(xp):
    rng = np.random.default_rng(7)
    theta0 = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal(4)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in theta0.items()} for _ in range(10)]
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    params = {k: xp.asarray(v.copy()) for k, v in theta0.items()}
    opt = Adam(params, lr=lr, betas=(b1, b2), eps=eps)
    for k, theta in theta0.items():
        flat = theta.ravel().copy()
        for i in range(flat.size):
            m = v = 0.0
            x = flat[i]
            for t in range(1, 11):
                g = grads[t - 1][k].ravel()[i]
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * g * g
                x -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
            flat[i] = x
        theta0[k] = flat.reshape(theta.shape)
    for t in range(10):
        opt.step(params, {k: xp.asarray(g) for k, g in grads[t].items()})
    assert opt.t == 10
    for k in theta0:
        np.testing.assert_allclose(to_host(params[k]), theta0[k], rtol=1e-12, atol=1e-14)


def test_adam_uses_the_learning_rate_of_each_step(xp):
    """step(lr=...) overrides the constructor's rate: what makes the schedules work."""
    g = {"a": xp.asarray(np.array([0.3, -2.0]))}
    rates = [0.5, 0.01, 0.2]
    params = {"a": xp.asarray(np.zeros(2))}
    opt = Adam(params, lr=1.0)
    expected = np.zeros(2)
    m = v = np.zeros(2)
    for t, lr in enumerate(rates, start=1):
        opt.step(params, g, lr)
        ga = to_host(g["a"])
        m = 0.9 * m + 0.1 * ga
        v = 0.999 * v + 0.001 * ga * ga
        expected = expected - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        np.testing.assert_allclose(to_host(params["a"]), expected, rtol=1e-12)
