"""Named training recipes, and budgets in full-image equivalents.

A budget of E full-image equivalents is E x pixels / batch iterations (E iterations when
every step takes the whole image): the unit in which run.py's --equivalents, the recipe
study, the table and the budget study count (docs/results.md). A recipe fixes the batch,
the rate and its schedule, Adam's beta2, the budget and how often to evaluate; the
options a user gives replace its values.
"""
import math

from .options import DEFAULT_LR, SCHEDULE_WORDS, SIREN_INITS

#: short: the default command's recipe, chosen by measurement (docs/results.md, "The default
#: command"); table: the protocol of the 512 x 512 table; full-batch: every pixel each step,
#: the command's behaviour before the short recipe.
RECIPES = {
    "short": dict(batch=4096, sampler="epoch", lr=8e-3, siren_lr=1e-4, schedule="linear", beta2=0.8,
                  equivalents=80, evaluations=10, checkpoints=4),
    "table": dict(batch=4096, sampler="epoch", lr=3e-3, siren_lr=1e-4, schedule="cosine", beta2=0.99,
                  equivalents=2000, evaluations=400, checkpoints=80),
    "full-batch": dict(batch=0, sampler="epoch", lr=DEFAULT_LR["default"], siren_lr=DEFAULT_LR["siren"],
                       schedule="constant", beta2=0.999, equivalents=100, evaluations=10, checkpoints=1),
}


def describe(name):
    """Recipe ``name`` in words, for --help: batch, rate, schedule, beta2, budget, evaluations."""
    r = RECIPES[name]
    batch = "every pixel each step" if r["batch"] == 0 else f"batches of {r['batch']} pixels"
    return (f"{batch}, lr {r['lr']:g} ({r['siren_lr']:g} with `init` siren or finer), {SCHEDULE_WORDS[r['schedule']]}, "
            f"Adam's beta2 {r['beta2']:g}, {r['equivalents']:g} full-image equivalents, "
            f"{r['evaluations']} evaluations")


def iterations(equivalents, pixels, batch):
    """Iterations of a budget of ``equivalents`` full-image equivalents (at least one)."""
    if not (math.isfinite(equivalents) and equivalents > 0):
        raise ValueError(f"equivalents={equivalents!r} must be a positive number")
    return max(1, math.ceil(equivalents * pixels / (batch or pixels)))


def equivalents(iters, pixels, batch):
    """Full-image equivalents of ``iters`` iterations."""
    return iters * (batch or pixels) / pixels


def every(equivalents, pixels, batch):
    """Iterations between events (evaluations, checkpoints) spaced ``equivalents`` apart."""
    return max(1, int(equivalents * pixels // (batch or pixels)))


def spacing(iters, count):
    """Iterations between ``count`` evenly spaced events (evaluations, checkpoints) of a run."""
    return max(1, iters // max(1, count))


def recipe_options(name, pixels, init="default", **given):
    """TrainOptions fields of recipe ``name`` for an image of ``pixels``; ``given`` replace its values.

    ``given`` may hold ``equivalents`` (the budget) or ``iters``, not both.
    """
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; expected one of {', '.join(RECIPES)}")
    if given.get("iters") is not None and given.get("equivalents") is not None:
        raise ValueError("give the budget as iters or as equivalents, not both")
    r = RECIPES[name]
    out = {k: r[k] for k in ("batch", "sampler", "schedule", "beta2")}
    if out["batch"] >= pixels:                 # a small image: every pixel each step
        out["batch"] = 0
    out["lr"] = r["siren_lr"] if init in SIREN_INITS else r["lr"]
    out.update({k: v for k, v in given.items() if v is not None and k != "equivalents"})
    if out.get("iters") is None:
        out["iters"] = iterations(given.get("equivalents") or r["equivalents"], pixels, out["batch"])
    out.setdefault("eval_every", spacing(out["iters"], r["evaluations"]))
    out.setdefault("checkpoint_every", spacing(out["iters"], r["checkpoints"]))
    return out


def axis_scale_for(kind, recorded, cfg):
    """The grids' stretch per axis a new run of a ``kind`` signal takes when none is given
    (docs/signals.md, "The grids' stretch per axis"): a sound's finest grid gets one cell per
    sample as it was recorded (``recorded``: its grid before any resampling), s = N /
    max_i alpha_i; the other kinds none ([], 1 on every axis)."""
    if kind != "sound":
        return []
    alpha, _ = cfg.scales()
    return [recorded[0] / float(alpha.max())]
