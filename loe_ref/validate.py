"""The checks every configuration shares: one wording per kind of bad value, one line each."""
import math

import numpy as np


def positive_int(name, value):
    """``value`` must be an integer >= 1 (``True`` is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")


def non_negative_int(name, value, meaning=""):
    """``value`` must be an integer >= 0; ``meaning`` says what 0 stands for."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer{f' ({meaning})' if meaning else ''}")


def positive_number(name, value):
    """``value`` must be a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={value!r} must be a positive number")


def in_unit_interval(name, value):
    """``value`` must lie in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not 0 <= value < 1:
        raise ValueError(f"{name}={value!r} must lie in [0, 1)")


def choice(name, value, allowed):
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")
