"""The one gradient-check helper of the test suite.

Central differences in float64 (the fourth-order stencil
(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h), a random upstream gradient, and the
relative error |a - n| / max(|a|, |n|, floor) per entry; a failure names the worst entry.
"""
import numpy as np

TOL = 1e-6
FLOOR = 1e-4
STEP = 1e-4
WORST = {"error": 0.0, "where": None}   # the worst error of the session, for the summary


def upstream(rng, shape):
    """A random upstream gradient (never all ones), so no backward term can hide."""
    return rng.standard_normal(shape)


def numerical_gradient(f, x, h=STEP):
    """d f / d x for scalar f() that reads the float64 array x, perturbed in place."""
    assert x.dtype == np.float64, "gradient checks run in float64"
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        vals = []
        for step in (2 * h, h, -h, -2 * h):
            flat[i] = orig + step
            vals.append(f())
        flat[i] = orig
        gflat[i] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * h)
    return grad


def check_gradients(f, inputs, analytic, tol=TOL, floor=FLOOR, h=STEP, steps=None):
    """Compare ``analytic[name]`` with central differences of f() w.r.t. ``inputs[name]``.

    f reads the arrays of ``inputs`` (perturbed in place). ``steps`` may give a smaller
    step for an input that f varies fast in (coordinates under omega0 = 30 and fine
    grids), where the stencil's truncation error h^4 f^(5) / 30 would dominate. Returns the worst relative
    error; raises AssertionError naming the worst entry when it exceeds ``tol``.
    """
    worst = (0.0, None)
    for name, x in inputs.items():
        a = np.asarray(analytic[name], dtype=np.float64)
        n = numerical_gradient(f, x, (steps or {}).get(name, h))
        assert a.shape == n.shape, f"{name}: analytic shape {a.shape} != {n.shape}"
        rel = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
        if rel.size:
            i = np.unravel_index(int(np.argmax(rel)), rel.shape)
            if rel[i] >= worst[0]:
                worst = (float(rel[i]), (name, i, float(a[i]), float(n[i])))
    err, where = worst
    if where is not None and err >= WORST["error"]:
        WORST.update(error=err, where=where)
    if err > tol:
        name, i, a_i, n_i = where
        raise AssertionError(f"gradient mismatch: worst relative error {err:.3e} > {tol:.0e} "
                             f"at {name}{list(i)}: analytic {a_i:.10g}, numerical {n_i:.10g}")
    return err
