"""loe_ref/runs/studies.py: how a study's runs are shared among processes."""
import pytest

from loe_ref.runs import studies


def test_share_splits_the_runs_among_processes():
    runs = list(range(7))
    assert studies.share(runs, "0/2") + studies.share(runs, "1/2") == [0, 2, 4, 6, 1, 3, 5]
    assert studies.share(runs, "0/1") == runs
    for bad in ("2/2", "-1/2", "x", "1/0"):
        with pytest.raises(ValueError, match="`part`"):
            studies.share(runs, bad)
