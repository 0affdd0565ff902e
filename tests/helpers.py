"""What several test files share: coordinates kept off cell boundaries and blending kinks,
the command line run in-process, and the scripts loaded as modules."""
import os
import signal

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: A small, fast run of run.py: coins at 24 x 32, 3 layers of 8, the full-batch recipe.
SMALL = ["--image", "coins", "--size", "24", "32", "--layers", "3", "--hidden", "8", "--quiet", "--recipe", "full-batch"]


def default_signals():
    """For a child process that a test signals: the stopping signals at their defaults, so a
    test run under nohup (SIGHUP ignored) or in a background job (SIGINT ignored) still tests
    the handlers; run.py leaves a signal its parent ignored alone, as it should."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def run_cli(capsys, *argv):
    """run.py's main in this process: (exit code, stdout, stderr)."""
    import run
    code = run.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def load_script(name):
    """The module of scripts/<name>.py (scripts are not a package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"{name}_script", os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keep_off_cells(p, alpha, beta, margin, shift=0.0, rng=None, tries=200):
    """Move points whose q = alpha p + beta - shift lies within ``margin`` (in q) of an integer.

    shift = 0 guards the cell boundaries (where nearest blending jumps), shift = 1/2 the
    cell centres (where linear blending has its kinks). Offending coordinates are redrawn
    nearby until every layer is clear; returns the moved copy of p (P, d).
    """
    rng = rng or np.random.default_rng(0)
    p = p.copy()
    for _ in range(tries):
        bad = np.zeros(p.shape, dtype=bool)
        for a, b in zip(alpha, beta):
            q = a * p + b - shift
            bad |= np.abs(q - np.round(q)) < margin
        if not bad.any():
            return p
        p[bad] = np.clip(p[bad] + rng.uniform(-0.05, 0.05, size=int(bad.sum())), 1e-3, 1 - 1e-3)
    raise RuntimeError("could not move the points off the cell boundaries")


def preactivations_min(params, plan, cfg):
    """Smallest |z| over every layer's pre-activations, per point in natural order (P,)."""
    from loe_ref.activations import activation_forward
    from loe_ref.backend import to_host
    from loe_ref.encoding import encode_forward
    from loe_ref.layers import blended_linear_forward, expert_linear_forward

    routes = plan.routes
    h, _ = encode_forward(plan.p[routes[0].order], cfg.pe)
    zmin = np.full(plan.p.shape[0], np.inf)
    for i, route in enumerate(routes):
        if i and route.gather is not None:
            h = h[route.gather]
        if cfg.blend == "nearest":
            z, _ = expert_linear_forward(h, params[f"W{i + 1}"], params[f"b{i + 1}"], route.offsets)
        else:
            z, _ = blended_linear_forward(h, params[f"W{i + 1}"], params[f"b{i + 1}"], route.coef)
        order = to_host(route.order)
        zmin[order] = np.minimum(zmin[order], np.abs(to_host(z)).min(axis=1))
        h, _ = activation_forward(cfg.act, z, cfg.omega0, cfg.slope)
    return zmin
