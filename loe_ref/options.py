"""How to train, as opposed to what (``network.Config``): the options of one run.

The learning-rate schedules are docs/method.md, section 6. Named sets of these options
(recipes, budgets in full-image equivalents) are recipes.py.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from .sampler import SAMPLERS

#: The learning-rate schedules (``TrainOptions.lr_at``), each as a recipe's description reads it.
SCHEDULE_WORDS = {"constant": "a constant rate", "cosine": "cosine decay to 1/100", "linear": "linear decay to 0",
                  "step": "step decay to 1/100"}
SCHEDULES = tuple(SCHEDULE_WORDS)
DTYPES = ("float32", "float64")


@dataclass
class TrainOptions:
    """How to train, as opposed to what (``network.Config``).

    lr None picks 1e-2 for the default and Kaiming inits and 1e-3 for SIREN's.
    batch 0 trains on every pixel each step; otherwise ``sampler`` draws the batches:
    "epoch" walks through one random permutation of the pixels after another (no pixel
    is drawn twice before all were drawn), "replacement" draws every batch afresh.
    beta2 is Adam's second-moment decay. size resizes the image before fitting.
    """
    image: str = "camera"
    size: list = field(default_factory=list)
    iters: int = 100
    lr: float = None
    schedule: str = "constant"
    seed: int = 0
    dtype: str = "float32"
    batch: int = 0
    sampler: str = "epoch"
    beta2: float = 0.999
    eval_every: int = 10
    checkpoint_every: int = 100
    chunk: int = 65536
    device: str = "cpu"

    def __post_init__(self):
        for name in ("iters", "eval_every", "checkpoint_every", "chunk"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if not isinstance(self.batch, (int, np.integer)) or self.batch < 0:
            raise ValueError(f"batch={self.batch!r} must be a non-negative integer (0 = the whole image)")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r} must be a positive number")
        if self.size and (len(self.size) != 2 or min(self.size) < 2):
            raise ValueError(f"size={list(self.size)} must be two sizes of at least 2 (height width)")
        if not (isinstance(self.beta2, (int, float)) and 0 <= self.beta2 < 1):
            raise ValueError(f"beta2={self.beta2!r} must lie in [0, 1)")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; expected one of {', '.join(SAMPLERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; expected one of {', '.join(SCHEDULES)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}; expected one of {', '.join(DTYPES)}")

    def learning_rate(self, cfg):
        if self.lr is not None:
            return self.lr
        return 1e-3 if cfg.init == "siren" else 1e-2

    def lr_at(self, cfg, it):
        """Learning rate of step ``it`` (0-based), docs/method.md, section 6.

        constant; cosine: decay to 1/100 of it over ``iters``; linear: decay towards 0, the
        last step taking 1/``iters`` of it; step: 1/10 of it from half the run, 1/100 from
        three quarters.
        """
        lr = self.learning_rate(cfg)
        if self.schedule == "cosine":
            lr *= 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * it / self.iters))
        elif self.schedule == "linear":
            lr *= 1.0 - it / self.iters
        elif self.schedule == "step":
            lr *= 1.0 if 2 * it < self.iters else 0.1 if 4 * it < 3 * self.iters else 0.01
        return lr
