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


def train_small(capsys, out, *extra):
    """A SMALL run of 4 iterations into ``out``: (exit code, stdout, stderr)."""
    return run_cli(capsys, *SMALL, "--iters", "4", "--eval-every", "2", "--out", str(out), *extra)


def refused(capsys, tmp_path, *argv, match):
    """run.py refuses ``argv`` with exit code 2 and one line naming ``match``, and makes no folder."""
    out = tmp_path / "never"
    code, _, err = run_cli(capsys, *argv, "--out", str(out))
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and match in err, err
    assert not out.exists()


def snapshot(out):
    """Every file of the run in ``out`` with its time and bytes (not the lock, which names the last user)."""
    from loe_ref.runs.folder import LOCK_FILE
    return {f: (os.path.getmtime(os.path.join(out, f)), open(os.path.join(out, f), "rb").read())
            for f in sorted(os.listdir(out)) if f != LOCK_FILE}


def load_script(name):
    """The module of scripts/<name>.py (scripts are not a package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"{name}_script", os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keep_off_cells(p, alpha, beta, margin, shift=0.0, rng=None, tries=200, scale=None):
    """Move points whose q = alpha s p + beta - shift lies within ``margin`` (in q) of an integer
    (s: the axes' stretch ``scale``, 1 when None).

    shift = 0 guards the cell boundaries (where nearest blending jumps), shift = 1/2 the
    cell centres (where linear blending has its kinks). Offending coordinates are redrawn
    nearby until every layer is clear; returns the moved copy of p (P, d).
    """
    rng = rng or np.random.default_rng(0)
    p = p.copy()
    for _ in range(tries):
        bad = np.zeros(p.shape, dtype=bool)
        g = p if scale is None else p * np.asarray(scale)
        for a, b in zip(alpha, beta):
            q = a * g + b - shift
            bad |= np.abs(q - np.round(q)) < margin
        if not bad.any():
            return p
        p[bad] = np.clip(p[bad] + rng.uniform(-0.05, 0.05, size=int(bad.sum())), 1e-3, 1 - 1e-3)
    raise RuntimeError("could not move the points off the cell boundaries")


def preactivations_min(params, cfg, p):
    """Smallest |z| over every layer's pre-activations, per point (P,): the root network's
    layers run one by one on host arrays, blending on the stretched coordinates as it does."""
    from loe_ref.activations import activation_forward
    from loe_ref.backend import to_host
    from loe_ref.blending import blend_forward, coefficients
    from loe_ref.encoding import encode_forward
    from loe_ref.grids import grid_coords
    from loe_ref.layers import dynamic_linear_forward

    params = {k: to_host(v) for k, v in params.items()}
    alpha, beta = cfg.scales()
    h, _ = encode_forward(p, cfg.pe)
    g = grid_coords(p, cfg.axis_scales())
    zmin = np.full(p.shape[0], np.inf)
    for i in range(cfg.layers):
        idx, w, _ = blend_forward(cfg.blend, g, float(alpha[i]), float(beta[i]), cfg.tile)
        z, _ = dynamic_linear_forward(h, params[f"W{i + 1}"], params[f"b{i + 1}"], coefficients(idx, w, cfg.n_experts))
        zmin = np.minimum(zmin, np.abs(z).min(axis=1))
        h, _ = activation_forward(cfg.act, z, cfg.omega0, cfg.slope, cfg.sigma)
    return zmin
