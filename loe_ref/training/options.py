"""How to train, as opposed to what (``network.Config``): the options of one run.

The learning-rate schedules are docs/method.md, section 6. Named sets of these options
(recipes, budgets in full-image equivalents) are recipes.py.
"""
import math
from dataclasses import dataclass, field

from .. import validate
from .data import KINDS
from .sampler import SAMPLERS

#: The learning-rate schedules (``TrainOptions.lr_at``), each as a recipe's description reads it.
SCHEDULE_WORDS = {"constant": "a constant rate", "cosine": "cosine decay to 1/100", "linear": "linear decay to 0",
                  "step": "step decay to 1/100"}
SCHEDULES = tuple(SCHEDULE_WORDS)
DTYPES = ("float32", "float64")
#: The rate when ``lr`` is not given, by initialisation: these options' defaults are the
#: full-batch recipe (recipes.py), whose rates these are.
DEFAULT_LR = {"default": 1e-2, "siren": 1e-3}
#: The initialisations of SIREN's family (omega0 = 30 and SIREN's weights), which take its rates.
SIREN_INITS = ("siren", "finer")


@dataclass
class TrainOptions:
    """How to train, as opposed to what (``network.Config``).

    lr None picks ``DEFAULT_LR`` (1e-2 for the default and Kaiming inits, 1e-3 for SIREN's).
    ``image`` names the signal (any kind, data.py) and ``kind`` its kind, None to take it
    from the file. batch 0 trains on every sample each step; otherwise ``sampler`` draws the batches:
    "epoch" walks through one random permutation of the pixels after another (no pixel
    is drawn twice before all were drawn), "replacement" draws every batch afresh.
    beta2 is Adam's second-moment decay. size resamples the signal before fitting (one
    size per coordinate dim).
    """
    image: str = "camera"
    kind: str = None
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
            validate.positive_int(name, getattr(self, name))
        validate.non_negative_int("batch", self.batch, "0 = the whole image")
        validate.non_negative_int("seed", self.seed)
        if self.lr is not None:
            validate.positive_number("lr", self.lr)
        if self.size and (not 1 <= len(self.size) <= 3 or min(self.size) < 2):
            raise ValueError(f"size={list(self.size)} must be one to three sizes of at least 2 (one per "
                             f"coordinate dim: N; H W; T H W or D H W)")
        if self.kind is not None:
            validate.choice("kind", self.kind, KINDS)
        validate.in_unit_interval("beta2", self.beta2)
        validate.choice("sampler", self.sampler, SAMPLERS)
        validate.choice("schedule", self.schedule, SCHEDULES)
        validate.choice("dtype", self.dtype, DTYPES)

    def learning_rate(self, cfg):
        """``lr``, or without it the default rate of ``cfg``'s initialisation (``DEFAULT_LR``)."""
        if self.lr is not None:
            return self.lr
        return DEFAULT_LR["siren" if cfg.init in SIREN_INITS else "default"]

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
