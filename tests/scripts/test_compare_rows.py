"""scripts/compare_rows.py: two rows compared over their whole curves."""
import json

from tests.helpers import ROOT, load_script


def test_compare_rows_counts_the_evaluations_where_a_leads():
    module = load_script("compare_rows")
    a = {64: 30.0, 128: 31.0, 192: 33.0, 256: 35.0}
    b = {64: 31.0, 128: 31.0, 192: 32.0, 256: 34.0, 320: 36.0}
    lines = module.compare(a, b, per_equivalent=64, thresholds=(33.0, 40.0))
    assert lines == ["A ahead at 2 of 4 shared evaluations",
                     "A not ahead at 2: first at 1, last at 2 equivalents",
                     "A first at 33 dB or more: 3 equivalents",
                     "A first at 40 dB or more: never"]


def test_compare_rows_gives_each_row_its_best_within_the_shorter_time():
    module = load_script("compare_rows")
    row = lambda it, psnr, s: dict(iteration=it, loss=0.1, psnr=psnr, seconds=s)       # noqa: E731
    a = [row(64, 30.0, 10.0), row(128, 33.0, 20.0), row(192, 32.0, 30.0), row(256, 40.0, 40.0)]
    b = [row(64, 31.0, 15.0), row(128, 32.5, 25.0)]
    assert module.equal_time(a, b) == ["within 25 s (the shorter row's time):",
                                       "  A best 33.00 dB, at iteration 128",
                                       "  B best 32.50 dB, at iteration 128"]


def test_compare_rows_reads_the_budget_from_the_summaries(capsys, monkeypatch):
    """The committed rows of the 512 x 512 table: equivalents from each row's own batch and pixels."""
    import sys
    module = load_script("compare_rows")
    rows = [f"{ROOT}/results/table1_512/{r}" for r in ("quadtree_sine", "quadtree_leaky_relu")]
    monkeypatch.setattr(sys, "argv", ["compare_rows.py", *rows, "--at", "35"])
    module.main()
    out = capsys.readouterr().out
    summary = json.load(open(f"{rows[0]}/summary.json"))
    first = next(h["iteration"] for h in summary["history"] if h["psnr"] >= 35)
    assert f"A first at 35 dB or more: {first * summary['batch'] / summary['pixels']:g} equivalents" in out
