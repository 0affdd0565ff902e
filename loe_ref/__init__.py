"""loe_ref: a NumPy/CuPy reference implementation of Levels-of-Experts INRs with sine activation."""
from .network import (
    Config,
    backward,
    forward,
    init_params,
    param_count,
    param_names,
    param_shapes,
)

__all__ = ["Config", "backward", "forward", "init_params", "param_count", "param_names", "param_shapes"]
