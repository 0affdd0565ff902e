#!/usr/bin/env python3
"""The paper's open question: an activation that works with every grid arrangement?

Every activation of loe_ref (sine with the default initialisation and with SIREN's, leaky
ReLU, FINER, Gaussian, WIRE's real Gabor wavelet, sinc) in the paper's network on camera
512 x 512, nearest experts, under one short protocol: the short recipe (batches of 4,096,
linear decay to 0, beta2 0.8), each budget with its own schedule. Two phases:

- search: each activation's rate (and its scale parameter, where it has one) chosen on one
  arrangement only, fine_to_coarse (the paper's default), at 150 equivalents, seed 0, by
  peak PSNR over the small grid ``SEARCH``; then frozen, so no activation is tuned per grid;
- study: the chosen setting of every activation on the three distinct arrangements
  (quadtree, which is also coarse_to_fine, fine_to_coarse and gray_code) at 150 and 600
  equivalents, seeds 0 and 1;
  its run on fine_to_coarse at 150 equivalents with seed 0 is the search's own run.

Finished runs are reused and unfinished ones resume (studies.train_row), so the same command
continues an interrupted study. Processes that run the same phase share its runs: each
takes the next run that no other trains, so one process per core keeps every core busy to
the end; ``--part k/n`` instead takes every n-th run from the k-th; --report only
tabulates. Records: results/activations_512/.

    taskset -c 0 python scripts/activations.py --phase study &    # after the search
    taskset -c 1 python scripts/activations.py --phase study &
    python scripts/activations.py --report
"""
import itertools
import os
import sys

from loe_ref.network import Config
from loe_ref.runs import studies
from loe_ref.training import recipes
from loe_ref.training.options import TrainOptions

PIXELS = 512 * 512
OUT = "results/activations_512"
#: The distinct arrangements: coarse_to_fine is quadtree's other name (grids.arrangement), and
#: the study's first five coarse_to_fine runs repeated quadtree's to the last digit.
GRIDS = ("quadtree", "fine_to_coarse", "gray_code")
SEARCH_GRID, SEARCH_BUDGET, BUDGETS, SEEDS = "fine_to_coarse", 150, (150, 600), (0, 1)
#: How far below the best of its arrangement and budget an activation may be, in dB, to count as working there.
TOLERANCE = 0.5
#: Each activation: its fixed Config keywords, and the grid its search takes (rate, and
#: its scale parameter where it has one). SIREN's family searches around SIREN's rate 1e-4,
#: up to 1e-3 since 3e-4 topped the first grid; the Gaussian's and the Gabor wavelet's down to
#: 1e-3 and 3e-4, since their lowest rate topped their first grids; the Gabor wavelet's
#: (omega0, sigma) down to (2.5, 0.5) and then (1.25, 0.25), since its smallest pair topped
#: its grid twice ((5, 1), then (2.5, 0.5)); sinc's rate down to 1e-3, since 3e-3 topped
#: its first grid.
SEARCH = {
    "sine": (dict(act="sine"), dict(lr=[3e-3, 8e-3, 2e-2])),
    "sine_siren": (dict(act="sine", init="siren", omega0=30.0), dict(lr=[3e-5, 1e-4, 3e-4, 1e-3])),
    "leaky_relu": (dict(act="leaky_relu"), dict(lr=[3e-3, 8e-3, 2e-2])),
    "finer": (dict(act="finer", init="finer", omega0=30.0), dict(lr=[3e-5, 1e-4, 3e-4, 1e-3], first_bias=[1.0, 5.0])),
    "gauss": (dict(act="gauss"), dict(lr=[1e-3, 3e-3, 8e-3, 2e-2], sigma=[1.0, 3.0, 10.0])),
    "gabor": (dict(act="gabor"), dict(lr=[3e-4, 1e-3, 3e-3, 8e-3],
                                      omega0_sigma=[(1.25, 0.25), (2.5, 0.5), (5.0, 1.0), (10.0, 3.0), (20.0, 10.0)])),
    "sinc": (dict(act="sinc"), dict(lr=[1e-3, 3e-3, 8e-3, 2e-2], omega0=[1.0, 3.0, 10.0])),
}


def settings(name):
    """Every setting of ``name``'s search: dicts of lr and Config keywords."""
    base, grid = SEARCH[name]
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        s = dict(zip(keys, values))
        if "omega0_sigma" in s:
            s["omega0"], s["sigma"] = s.pop("omega0_sigma")
        yield s


def tag(setting):
    return "_".join(f"{k}{v:g}" for k, v in sorted(setting.items()))


def config(name, setting, grid):
    base = SEARCH[name][0]
    return Config(grid=grid, **base, **{k: v for k, v in setting.items() if k != "lr"})


def run_options(budget, seed, lr):
    o = recipes.recipe_options("short", PIXELS, equivalents=budget, seed=seed, lr=lr)
    o["eval_every"] = recipes.every(2.5 if budget <= 150 else 10, PIXELS, o["batch"])
    o["checkpoint_every"] = o["eval_every"] * 10
    return TrainOptions(image="camera", **o)


def search_dir(name, setting):
    return os.path.join(OUT, "search", name, tag(setting))


def search_summary(name, setting):
    """The summary of the search's run of ``setting``, None until it finished."""
    return studies.finished(search_dir(name, setting), config(name, setting, SEARCH_GRID),
                            run_options(SEARCH_BUDGET, 0, setting["lr"]))


def search_runs():
    return [(name, s, search_dir(name, s)) for name in SEARCH for s in settings(name)]


def chosen(name, summaries=None):
    """The search's best setting of ``name`` by peak PSNR (None until its runs finished);
    ``summaries``: its settings' search summaries, in ``settings`` order, when already read."""
    summaries = [search_summary(name, s) for s in settings(name)] if summaries is None else summaries
    if any(summary is None for summary in summaries):
        return None
    peaks = [summary["peak_psnr"] or 0 for summary in summaries]
    return list(settings(name))[peaks.index(max(peaks))]


def study_dir(budget, seed, grid, name, setting):
    """The folder of a study's run; on the search's arrangement, budget and seed it is the
    search's run of the chosen setting, the very same run (same configuration and options)."""
    if (budget, seed, grid) == (SEARCH_BUDGET, 0, SEARCH_GRID):
        return search_dir(name, setting)
    return os.path.join(OUT, "study", f"E{budget}_seed{seed}", grid, name)


def study_runs():
    """Every run of the study, the shorter budget's first (its table fills in first)."""
    settings_of = {name: chosen(name) for name in SEARCH}
    unfinished = [name for name, s in settings_of.items() if s is None]
    if unfinished:
        raise ValueError(f"the search of {', '.join(unfinished)} is not finished; run --phase search first")
    return [(name, settings_of[name], study_dir(budget, seed, grid, name, settings_of[name]), budget, seed, grid)
            for budget, seed, name, grid in itertools.product(BUDGETS, SEEDS, SEARCH, GRIDS)]


def report():
    rows, best = [], {}
    for name in SEARCH:
        summaries = [search_summary(name, s) for s in settings(name)]
        best[name] = chosen(name, summaries)
        for s, summary in zip(settings(name), summaries):
            rows.append({"phase": "search", "activation": name, "setting": s, "grid": SEARCH_GRID,
                         "equivalents": SEARCH_BUDGET, "seed": 0,
                         "peak_psnr": summary and summary["peak_psnr"], "seconds": summary and summary["seconds"],
                         "finished": bool(summary), "diverged": bool(summary and "diverged" in summary)})
    for name in SEARCH:
        s = best[name]
        for budget, seed, grid in itertools.product(BUDGETS, SEEDS, GRIDS):
            summary = s and studies.finished(study_dir(budget, seed, grid, name, s),
                                             config(name, s, grid), run_options(budget, seed, s["lr"]))
            rows.append({"phase": "study", "activation": name, "setting": s, "grid": grid, "equivalents": budget,
                         "seed": seed, "peak_psnr": summary and summary["peak_psnr"],
                         "seconds": summary and summary["seconds"], "finished": bool(summary),
                         "diverged": bool(summary and "diverged" in summary)})
    studies.write_table(OUT, "activations", rows,
                        ["phase", "activation", "setting", "grid", "equivalents", "seed", "peak PSNR (dB)"],
                        lambda r: [r["phase"], r["activation"], r["setting"] and tag(r["setting"]), r["grid"],
                                   r["equivalents"], r["seed"], psnr_cell(r)])
    study = [r for r in rows if r["phase"] == "study"]
    table, everywhere = by_grid(study)
    at = "; ".join(f"at {b} equivalents " + ("not yet known" if names is None else ", ".join(names) or "none")
                   for b, names in everywhere.items())
    both = answer(everywhere)
    verdict = (f"within {TOLERANCE:g} dB of the best on every arrangement: {at}; at every budget: "
               + ("not yet known" if both is None else ", ".join(both) or "none")
               + f" ({sum(r['finished'] for r in study)} of the study's {len(study)} runs have finished)")
    studies.write_table(OUT, "activations_by_grid", table, ["equivalents", "activation"] + list(GRIDS)
                        + ["worst gap (dB)"], lambda r: [r["equivalents"], r["activation"]] + grid_cells(r),
                        preface=f"Peak PSNR (dB), the mean of seeds {', '.join(map(str, SEEDS))}, with its rank on "
                                f"that arrangement at that budget (quadtree is also coarse_to_fine); {verdict}.\n\n")
    studies.write_table(OUT, "activations_by_seed", by_seed(study), ["equivalents", "seed", "activation"] + list(GRIDS)
                        + ["worst gap (dB)"], lambda r: [r["equivalents"], r["seed"], r["activation"]] + grid_cells(r),
                        preface="Peak PSNR (dB) of each seed alone, with its rank on that arrangement among that "
                                "seed's runs at that budget, and the worst gap among them; \"-\" until the run "
                                "finished (the worst gap: until the seed's runs at that budget finished).\n\n")


def grid_cells(r):
    """A ``by_grid`` row's cells: each arrangement's PSNR with its rank, and the worst gap."""
    return (["-" if r[g] is None else f"{r[g]:.2f} ({r['rank'][g]})" for g in GRIDS]
            + ["-" if r["worst_gap"] is None else f"{r['worst_gap']:.2f}"])


def psnr_cell(r):
    """A run's peak PSNR, "-" until it finished, marked when the run diverged (before it: its peak)."""
    peak = "-" if r["peak_psnr"] is None else f"{r['peak_psnr']:.2f}"
    return f"{peak} (diverged)" if r["diverged"] else peak


def by_grid(rows):
    """The study's table, a row per budget and activation: the mean peak PSNR over the seeds on
    each arrangement (None until every seed finished), its rank there among the activations
    at that budget ("rank": {grid: 1 for the best}) and the worst gap to the best activation
    of an arrangement; and for each budget the activations within TOLERANCE of the best on
    every arrangement (None until that budget's runs finished)."""
    runs = {}
    for r in rows:
        runs.setdefault((r["equivalents"], r["activation"], r["grid"]), []).append(r["peak_psnr"])
    mean = {k: None if None in v else sum(v) / len(v) for k, v in runs.items()}
    table = []
    for budget, name in itertools.product(BUDGETS, SEARCH):
        row = {"equivalents": budget, "activation": name, "worst_gap": None}
        for grid in GRIDS:
            row[grid] = mean.get((budget, name, grid))
            column = [mean.get((budget, n, grid)) for n in SEARCH]
            if row[grid] is not None and None not in column:
                gap = max(column) - row[grid]
                row["worst_gap"] = gap if row["worst_gap"] is None else max(row["worst_gap"], gap)
        table.append(row)
    for budget, grid in itertools.product(BUDGETS, GRIDS):
        done = sorted((r for r in table if r["equivalents"] == budget and r[grid] is not None), key=lambda r: -r[grid])
        for rank, r in enumerate(done, 1):
            r.setdefault("rank", {})[grid] = rank
    everywhere = {}
    for budget in BUDGETS:
        means = [mean.get((budget, n, g)) for n, g in itertools.product(SEARCH, GRIDS)]
        everywhere[budget] = None if None in means else [
            r["activation"] for r in table if r["equivalents"] == budget and r["worst_gap"] <= TOLERANCE]
    return table, everywhere


def by_seed(rows):
    """``by_grid``'s table for each seed alone, a row per budget, seed and activation (its
    "seed" added), so that a budget's first seed can be read before the second finished."""
    table = [dict(r, seed=seed) for seed in SEEDS for r in by_grid([r for r in rows if r["seed"] == seed])[0]]
    return sorted(table, key=lambda r: (r["equivalents"], r["seed"]))


def answer(everywhere):
    """The activations within TOLERANCE of the best on every arrangement at every budget, from
    ``by_grid``'s per-budget lists; None while unknown (settled early when the budgets that
    finished leave none)."""
    known = [names for names in everywhere.values() if names is not None]
    common = [n for n in SEARCH if all(n in names for names in known)]
    return common if not common or len(known) == len(everywhere) else None


def main():
    args = studies.parser(__doc__, ["search", "study"]).parse_args()
    if args.report or args.phase is None:
        report()
        return
    if args.phase == "search":
        for name, s, out in studies.share(search_runs(), args.part):
            studies.train_row(out, config(name, s, SEARCH_GRID), run_options(SEARCH_BUDGET, 0, s["lr"]),
                              f"search {name} {tag(s)}", keep_diverged=True, skip_busy=True)
    else:
        for name, s, out, budget, seed, grid in studies.share(study_runs(), args.part):
            studies.train_row(out, config(name, s, grid), run_options(budget, seed, s["lr"]),
                              f"{name} {grid} E{budget} seed {seed}", keep_diverged=True, skip_busy=True)
    report()


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
