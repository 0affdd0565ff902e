"""The protocol of the studies: recipes, budgets in full-image equivalents, Table I's rows.

A budget of E full-image equivalents is E x pixels / batch iterations (E iterations when
every step takes the whole image): the unit in which run.py's --equivalents, the recipe
study, the table and the budget study count (docs/results.md). A recipe fixes the batch,
the rate and its schedule, Adam's beta2, the budget and how often to evaluate; the
options a user gives replace its values. ``TABLE_ROWS`` are the networks of the paper's
Table I and the baselines beside them; the scripts refer to them by number (1-based).
"""
import math

from .options import SCHEDULE_WORDS

#: short: the default command's recipe, chosen by measurement (docs/results.md, "The default
#: command"); table: the protocol of the 512 x 512 table; full-batch: every pixel each step,
#: the command's behaviour before the short recipe.
RECIPES = {
    "short": dict(batch=4096, sampler="epoch", lr=8e-3, siren_lr=1e-4, schedule="linear", beta2=0.8,
                  equivalents=80, evaluations=10, checkpoints=4),
    "table": dict(batch=4096, sampler="epoch", lr=3e-3, siren_lr=1e-4, schedule="cosine", beta2=0.99,
                  equivalents=2000, evaluations=400, checkpoints=80),
    "full-batch": dict(batch=0, sampler="epoch", lr=1e-2, siren_lr=1e-3, schedule="constant", beta2=0.999,
                       equivalents=100, evaluations=10, checkpoints=1),
}


def describe(name):
    """Recipe ``name`` in words, for --help: batch, rate, schedule, beta2, budget, evaluations."""
    r = RECIPES[name]
    batch = "every pixel each step" if r["batch"] == 0 else f"batches of {r['batch']} pixels"
    return (f"{batch}, lr {r['lr']:g} ({r['siren_lr']:g} with `init` siren), {SCHEDULE_WORDS[r['schedule']]}, "
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


def options(name, pixels, init="default", **given):
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
    out["lr"] = r["siren_lr"] if init == "siren" else r["lr"]
    out.update({k: v for k, v in given.items() if v is not None and k != "equivalents"})
    if out.get("iters") is None:
        out["iters"] = iterations(given.get("equivalents") or r["equivalents"], pixels, out["batch"])
    out.setdefault("eval_every", spacing(out["iters"], r["evaluations"]))
    out.setdefault("checkpoint_every", spacing(out["iters"], r["checkpoints"]))
    return out


#: name, the paper's PSNR on camera (Table I, dB) or None, ``network.Config`` keywords.
TABLE_ROWS = [
    ("fine_to_coarse leaky_relu", 34.26, dict(grid="fine_to_coarse", act="leaky_relu")),
    ("quadtree leaky_relu", 33.46, dict(grid="quadtree", act="leaky_relu")),
    ("fine_to_coarse sine", 39.05, dict(grid="fine_to_coarse", act="sine")),
    ("quadtree sine", 35.33, dict(grid="quadtree", act="sine")),
    ("fine_to_coarse sine siren-init", None, dict(grid="fine_to_coarse", act="sine", init="siren", omega0=30.0)),
    ("quadtree sine siren-init", None, dict(grid="quadtree", act="sine", init="siren", omega0=30.0)),
    ("gray_code sine", None, dict(grid="gray_code", act="sine")),
    ("fine_to_coarse sine linear", None, dict(grid="fine_to_coarse", act="sine", blend="linear")),
    ("MLP leaky_relu PE-8", None, dict(tile=1, hidden=126, act="leaky_relu", pe=8)),
    ("SIREN 128 hidden", None, dict(tile=1, hidden=128, act="sine", init="siren", omega0=30.0)),
]


def folder_name(name):
    """A row's folder name: its name with underscores for spaces."""
    return name.replace(" ", "_")


def select(text, count, option="rows"):
    """0-based indices from ``text``, comma-separated numbers from 1 to ``count`` ("" gives none)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if not t.isdigit() or not 1 <= int(t) <= count]
    if bad:
        raise ValueError(f"`{option}` {bad[0]!r}: numbers run from 1 to {count}")
    return [int(t) - 1 for t in items]
