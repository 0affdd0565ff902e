import importlib.util
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

#: Where the real CuPy is not installed, the strict stand-in (tests/standin/cupy) takes its
#: place, so every GPU variant of the tests runs; its subprocesses find it by PYTHONPATH.
STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "standin")
if importlib.util.find_spec("cupy") is None:
    sys.path.insert(0, STANDIN)
    os.environ["PYTHONPATH"] = os.pathsep.join([STANDIN] + [p for p in [os.environ.get("PYTHONPATH")] if p])

from loe_ref.backend import gpu_available  # noqa: E402

settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BACKENDS = ["cpu", pytest.param("gpu", marks=pytest.mark.skipif(
    not gpu_available(), reason="CuPy with a CUDA GPU is not available (nor the stand-in)"))]


@pytest.fixture(params=BACKENDS, scope="session")
def xp(request):
    """The array module of each available backend; tests draw data with NumPy and move it."""
    from loe_ref.backend import get_xp
    return get_xp(request.param)


def pytest_terminal_summary(terminalreporter):
    from tests.gradcheck import WORST
    if WORST["where"] is not None:
        name, i, a, n = WORST["where"]
        terminalreporter.write_line(
            f"gradient checks: worst relative error {WORST['error']:.2e} at {name}{list(i)} "
            f"(analytic {a:.6g}, numerical {n:.6g})")
