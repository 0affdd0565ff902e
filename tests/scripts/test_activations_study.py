"""scripts/activations.py: its search, its frozen choice and the study's runs."""
import itertools

import pytest

from tests.helpers import load_script


def test_search_settings_are_distinct_and_valid():
    study = load_script("activations")
    runs = study.search_runs()
    assert len({out for _, _, out in runs}) == len(runs)
    for name, setting, _ in runs:
        cfg = study.config(name, setting, study.SEARCH_GRID)
        assert cfg.act == study.SEARCH[name][0]["act"] and "lr" in setting


def test_study_waits_for_the_search_then_runs_the_short_budget_first(tmp_path, monkeypatch):
    from loe_ref.runs import studies
    study = load_script("activations")
    monkeypatch.setattr(study, "OUT", str(tmp_path))
    with pytest.raises(ValueError, match="the search of sine, sine_siren, .* is not finished"):
        study.study_runs()
    peak = {study.tag(s): 30.0 + i for i, s in enumerate(study.settings("gauss"))}
    monkeypatch.setattr(studies, "finished", lambda out, cfg, opts: {"peak_psnr": peak.get(out.split("/")[-1], 1.0)})
    assert study.chosen("gauss") == max(study.settings("gauss"), key=lambda s: peak[study.tag(s)])
    runs = study.study_runs()
    n = len(study.SEARCH) * len(study.GRIDS) * len(study.SEEDS)
    assert len(runs) == len({r[2] for r in runs}) == n * len(study.BUDGETS)
    assert {r[3] for r in runs[:n]} == {min(study.BUDGETS)}
    searched = [r for r in runs if (r[3], r[4], r[5]) == (study.SEARCH_BUDGET, 0, study.SEARCH_GRID)]
    assert len(searched) == len(study.SEARCH)
    assert all(r[2] == study.search_dir(r[0], study.chosen(r[0])) for r in searched)    # the search's own run


def test_the_answer_names_the_activations_within_the_tolerance_everywhere():
    study = load_script("activations")
    names, rows = list(study.SEARCH), []
    for budget, seed, name, grid in itertools.product(study.BUDGETS, study.SEEDS, names, study.GRIDS):
        psnr = 40.0 - names.index(name)                          # sine best, sine_siren 1 dB below, ...
        if name == "sine_siren":
            psnr = 39.7 if grid != "gray_code" or budget != 600 else 40.4   # 0.3 below, and once ahead
        rows.append({"equivalents": budget, "seed": seed, "activation": name, "grid": grid, "peak_psnr": psnr})
    table, everywhere = study.by_grid(rows)
    assert everywhere == {150: ["sine", "sine_siren"], 600: ["sine", "sine_siren"]}
    assert study.answer(everywhere) == ["sine", "sine_siren"]
    worst = {(r["equivalents"], r["activation"]): r["worst_gap"] for r in table}
    assert abs(worst[(600, "sine")] - 0.4) < 1e-9 and abs(worst[(150, "leaky_relu")] - 2.0) < 1e-9
    rank = {(r["equivalents"], r["activation"]): r["rank"] for r in table}
    assert rank[(150, "sine_siren")]["gray_code"] == 2 and rank[(600, "sine_siren")]["gray_code"] == 1
    assert rank[(600, "sine")]["gray_code"] == 2 and rank[(600, names[-1])]["quadtree"] == len(names)
    rows[0]["peak_psnr"] = None                                  # one run unfinished: no answer yet
    assert study.by_grid(rows)[1] == {150: None, 600: ["sine", "sine_siren"]}
    assert study.answer(study.by_grid(rows)[1]) is None
    for r in rows:                                               # 150 finished with none everywhere: settled
        if r["equivalents"] == 150:
            r["peak_psnr"] = 40.0 - names.index(r["activation"]) + (r["grid"] == "gray_code") * 2 * names.index(r["activation"])
    rows[-1]["peak_psnr"] = None
    _, everywhere = study.by_grid(rows)
    assert everywhere == {150: [], 600: None} and study.answer(everywhere) == []


def test_a_diverged_run_shows_its_peak_before_it():
    study = load_script("activations")
    assert study.psnr_cell({"peak_psnr": 12.345, "diverged": True}) == "12.35 (diverged)"
    assert study.psnr_cell({"peak_psnr": None, "diverged": False}) == "-"


def test_each_seed_has_its_own_ranks_and_gaps():
    study = load_script("activations")
    names, rows = list(study.SEARCH), []
    for budget, seed, name, grid in itertools.product(study.BUDGETS, study.SEEDS, names, study.GRIDS):
        psnr = 40.0 - names.index(name)                          # sine best, sine_siren 1 dB below, ...
        if name == "sine_siren" and seed == 1:
            psnr = 41.0                                          # ... but with seed 1 ahead everywhere
        rows.append({"equivalents": budget, "seed": seed, "activation": name, "grid": grid,
                     "peak_psnr": None if (budget, seed) == (600, 1) and name == names[-1] else psnr})
    table = study.by_seed(rows)
    assert [(r["equivalents"], r["seed"]) for r in table][::len(names)] == [(150, 0), (150, 1), (600, 0), (600, 1)]
    row = {(r["equivalents"], r["seed"], r["activation"]): r for r in table}
    assert row[(150, 0, "sine_siren")]["rank"]["quadtree"] == 2 and row[(150, 1, "sine_siren")]["rank"]["quadtree"] == 1
    assert row[(150, 0, "sine")]["worst_gap"] == 0.0 and abs(row[(150, 1, "sine")]["worst_gap"] - 1.0) < 1e-9
    assert row[(600, 1, "sine")]["quadtree"] == 40.0 and row[(600, 1, "sine")]["worst_gap"] is None   # a run missing
    assert abs(study.by_grid(rows)[0][1]["quadtree"] - 40.0) < 1e-9                  # sine_siren's mean of 39 and 41
