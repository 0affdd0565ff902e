"""The one gradient-check helper of the test suite.

Central differences in float64 with the sixth-order stencil
f'(x) ~ (f(x+3h) - 9 f(x+2h) + 45 f(x+h) - 45 f(x-h) + 9 f(x-2h) - f(x-3h)) / 60h, a random
upstream gradient, and the relative error |a - n| / max(|a|, |n|, floor) per entry; a
failure names the worst entry.

Step and floor follow the two errors of a difference quotient, entry by entry, so the
verdict does not hinge on what a random draw made of the function:
- Truncation (h^6 f^(7) / 140). The fourth-order quotient from the same points (+-h, +-2h)
  differs from the sixth-order one by about its own truncation error; where that
  difference exceeds ``SAFETY * tol`` of the entry, the function varies too fast for h (a fine grid
  under omega0 = 30) and the entry is evaluated again with h / 4, down to ``STEP / 256``.
  Where it does not, the sixth-order error is below 1e-3 tol.
- Round-off (about eps sum_k |c_k f(x + k h)| / h, times ``NOISE``) is the floor: an entry
  is judged relative to itself where it stands above the noise / tol, and against that
  noise below it, never finer than the quotient can resolve.
"""
import numpy as np

TOL = 1e-6
FLOOR = 1e-4
STEP = 1e-4
#: Offsets k and weights c_k of the sixth-order quotient f'(x) ~ sum_k c_k f(x + k h) / h ...
STENCIL6 = {3: 1 / 60, 2: -9 / 60, 1: 45 / 60, -1: -45 / 60, -2: 9 / 60, -3: -1 / 60}
#: ... and of the fourth-order one from the same points, the estimate of truncation.
STENCIL4 = {2: -1 / 12, 1: 8 / 12, -1: -8 / 12, -2: 1 / 12}
#: Round-off of f in units of eps |f|: f is a sum of many rounded terms.
NOISE = 10.0
#: The fourth/sixth-order difference must stay below this share of ``tol``: before the
#: asymptotic regime (nested sines of omega0 = 30) the sixth-order error was seen at 5 times
#: that difference (FINER, linear blending, Hypothesis seed 17344).
SAFETY = 0.1
#: Step refinements at most (h / 4 each) where the function varies too fast.
REFINE = 4
WORST = {"error": 0.0, "where": None}   # the worst error of the session, for the summary


def upstream(rng, shape):
    """A random upstream gradient (never all ones), so no backward term can hide."""
    return rng.standard_normal(shape)


def _quotient(f, flat, i, h):
    """(sixth-order quotient, fourth-order quotient, round-off bound) of entry i at step h."""
    orig = flat[i]
    values = {}
    for k in STENCIL6:
        flat[i] = orig + k * h
        values[k] = f()
    flat[i] = orig
    n6 = sum(c * values[k] for k, c in STENCIL6.items()) / h
    n4 = sum(c * values[k] for k, c in STENCIL4.items()) / h
    noise = NOISE * np.finfo(np.float64).eps * sum(abs(c * values[k]) for k, c in STENCIL6.items()) / h
    return n6, n4, noise


def numerical_gradient(f, x, h=STEP, tol=TOL, floor=FLOOR):
    """(d f / d x, round-off bound of each entry) for scalar f() that reads the float64 array x.

    x is perturbed in place and restored. Each entry starts at step h and is refined
    (h / 4, at most ``REFINE`` times) while the fourth- and sixth-order quotients differ by
    more than ``SAFETY * tol`` of max(|n|, floor) and by more than the round-off.
    """
    assert x.dtype == np.float64, "gradient checks run in float64"
    grad, noise = np.zeros_like(x), np.zeros_like(x)
    flat, gflat, nflat = x.reshape(-1), grad.reshape(-1), noise.reshape(-1)
    for i in range(flat.size):
        step = h
        for _ in range(REFINE + 1):
            n6, n4, bound = _quotient(f, flat, i, step)
            if abs(n6 - n4) <= max(SAFETY * tol * max(abs(n6), floor), bound):
                break
            step /= 4
        gflat[i], nflat[i] = n6, bound
    return grad, noise


def check_gradients(f, inputs, analytic, tol=TOL, floor=FLOOR, h=STEP):
    """Compare ``analytic[name]`` with central differences of f() w.r.t. ``inputs[name]``.

    f reads the arrays of ``inputs`` (perturbed in place). The denominator of the relative
    error is max(|a|, |n|, floor, noise / tol): no entry is judged finer than the
    difference quotient can resolve. Returns the worst relative error; raises
    AssertionError naming the worst entry when it exceeds ``tol``.
    """
    worst = (0.0, None)
    for name, x in inputs.items():
        a = np.asarray(analytic[name], dtype=np.float64)
        n, noise = numerical_gradient(f, x, h, tol, floor)
        assert a.shape == n.shape, f"{name}: analytic shape {a.shape} != {n.shape}"
        rel = np.abs(a - n) / np.maximum.reduce([np.abs(a), np.abs(n), np.full(a.shape, floor), noise / tol])
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
