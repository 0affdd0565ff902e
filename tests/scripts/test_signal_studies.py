"""scripts/high_res.py and scripts/signals_study.py: the networks they compare and their runs."""
import os

from loe_ref.network import param_count
from tests.helpers import load_script


def test_high_res_compares_networks_of_about_the_same_size_and_depth():
    hr = load_script("high_res")
    runs = hr.iters_runs()
    assert len(runs) == len(set(runs)) == sum(len(s[2]) for s in hr.SIGNALS.values()) * len(hr.MODELS)
    for name in hr.SIGNALS:
        cfgs = {m: hr.config(m, name) for m in hr.MODELS}
        loe = param_count(cfgs["LoE sine"])
        assert all(abs(param_count(c) - loe) < 0.01 * loe for c in cfgs.values()), name
        assert len({c.layers for c in cfgs.values()}) == 1
    assert hr.config("LoE sine", "retina 1411").layers == 11 and hr.config("SIREN", "retina 512").layers == 9
    assert hr.config("LoE sine", "chirp sound").axis_scale == [24000 / 512]
    assert len({hr.folder(p, n, b, m) for p in ("iters", "time") for m, n, b in runs}) == 2 * len(runs)


def test_high_res_times_each_network_to_the_seconds_of_loe(tmp_path, monkeypatch):
    from loe_ref.runs import studies
    hr = load_script("high_res")
    runs = {"LoE sine": (100.0, 2000), "SIREN": (400.0, 2000)}          # seconds, iterations

    def finished(out, cfg, opts):
        model = os.path.basename(out).replace("_", " ")
        if model not in runs or f"{os.sep}iters{os.sep}" not in out:
            return None
        return {"seconds": runs[model][0], "iterations": runs[model][1], "folder": out}

    monkeypatch.setattr(studies, "finished", finished)
    assert hr.time_iters("SIREN", "retina 512", 20) == 500
    assert hr.time_iters("MLP PE-8", "retina 512", 20) is None
    assert hr.result("time", "LoE sine", "retina 512", 20) == hr.result("iters", "LoE sine", "retina 512", 20)
    assert hr.result("time", "SIREN", "retina 512", 20) is None         # not trained for its seconds yet


def test_signals_study_runs_are_distinct():
    study = load_script("signals_study")
    runs = study.runs()
    assert len({r[5] for r in runs}) == len(runs)
    assert [r[4] for r in runs if r[6] == [48000]] == [[46.875], [93.75], [187.5]]


def test_a_run_short_of_its_iterations_is_not_finished(tmp_path, capsys, monkeypatch):
    """A run with fewer iterations than planned (a run a signal stopped writes its summary too) is not finished."""
    from loe_ref.network import Config
    from loe_ref.runs import studies
    from loe_ref.training.options import TrainOptions
    cfg = Config(layers=2, hidden=4)
    opts = TrainOptions(image="coins", size=[8, 8], iters=6, eval_every=2)
    out = str(tmp_path / "row")
    studies.train_row(out, cfg, TrainOptions(**{**opts.__dict__, "iters": 6}), "row")
    assert studies.finished(out, cfg, opts)["iterations"] == 6
    assert studies.finished(out, cfg, TrainOptions(**{**opts.__dict__, "iters": 8})) is None
