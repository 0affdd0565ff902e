"""scripts/short_recipe.py: the study that chose the default command's recipe."""
import json

from loe_ref.training import recipes
from tests.helpers import load_script as _script


def test_variants_differ_only_in_their_stated_options():
    study = _script("short_recipe")
    first, chosen = study.run_options(*study.VARIANTS[0]), study.run_options("linear", 0.8, 8e-3, 0, 80)
    assert (first.iters, first.eval_every, first.batch, first.sampler) == (4608, 576, 4096, "epoch")
    assert (first.schedule, first.beta2, first.lr) == ("cosine", 0.99, 8e-3)
    short = recipes.recipe_options("short", 512 * 512)
    assert {k: getattr(chosen, k) for k in ("iters", "batch", "sampler", "schedule", "beta2", "lr", "seed")} == \
        {k: short.get(k, 0) for k in ("iters", "batch", "sampler", "schedule", "beta2", "lr", "seed")}
    assert len({study.folder("out", v) for v in study.VARIANTS}) == len(study.VARIANTS)


def test_report_tabulates_only_finished_variants(tmp_path, capsys):
    study = _script("short_recipe")
    done, stale = study.folder(str(tmp_path), study.VARIANTS[5]), study.folder(str(tmp_path), study.VARIANTS[0])
    for path, iters in ((done, 4608), (stale, 100)):
        (tmp_path / path).mkdir(parents=True)
        (tmp_path / path / "summary.json").write_text(json.dumps(
            {"iterations": iters, "peak_psnr": 38.8, "peak_iteration": iters, "final_psnr": 38.8, "cpu": "x"}))
    study.report(str(tmp_path))
    records = json.loads((tmp_path / "short_recipe.json").read_text())
    assert [r["variant"] for r in records] == [6]
    assert "| 6 | 72 | linear | 0.8 | 0.008 | 0 | 38.80 | 4608 |" in (tmp_path / "short_recipe.md").read_text()
