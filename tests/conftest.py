import os

import pytest
from hypothesis import HealthCheck, settings

from loe_ref.backend import gpu_available

settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BACKENDS = ["cpu", pytest.param("gpu", marks=pytest.mark.skipif(
    not gpu_available(), reason="CuPy with a CUDA GPU is not available"))]


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
