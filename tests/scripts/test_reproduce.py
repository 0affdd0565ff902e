"""scripts/reproduce.py: the table's rows trained, reused, refused and listed."""
import json
import os
import shutil
import sys

import pytest

from loe_ref.runs import studies
from tests.helpers import ROOT, load_script


def _table(capsys, monkeypatch, out, *argv):
    """Run scripts/reproduce.py as its command line does, on a 16 x 16 camera unless argv
    names --out; (exit code, stdout, stderr)."""
    module = load_script("reproduce")
    monkeypatch.setattr(sys, "argv", ["reproduce.py", *argv] if "--out" in argv else
                        ["reproduce.py", "--size", "16", "--iters", "6", "--eval-every", "3", "--batch", "64",
                         "--out", str(out), *argv])
    code = studies.script_main(module.main)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_records_every_field_and_reuses_finished_rows(tmp_path, capsys, monkeypatch):
    code, out, _ = _table(capsys, monkeypatch, tmp_path, "--rows", "3,9")
    assert code == 0 and out.count("== ") == 2
    records = json.load(open(tmp_path / "table1.json"))
    assert [r["row"] for r in records] == ["fine_to_coarse sine", "MLP leaky_relu PE-8"]
    fields = {"row", "grid", "act", "blend", "tile", "layers", "hidden", "init", "omega0", "pe", "lr",
              "schedule", "batch", "iterations", "equivalents", "size", "parameters", "peak_psnr",
              "peak_iteration", "seconds", "cpu"}
    assert fields <= set(records[0]), fields - set(records[0])
    assert records[0]["act"] == "sine" and records[0]["iterations"] == 6 and records[0]["size"] == 16
    code, out, _ = _table(capsys, monkeypatch, tmp_path, "--rows", "")       # lists, trains nothing
    assert code == 0 and "== " not in out and json.load(open(tmp_path / "table1.json")) == records
    assert (tmp_path / "table1.md").read_text().count("| fine_to_coarse sine |") == 1


def test_table_refuses_a_finished_row_trained_differently(tmp_path, capsys, monkeypatch):
    assert _table(capsys, monkeypatch, tmp_path, "--rows", "1")[0] == 0
    code, out, err = _table(capsys, monkeypatch, tmp_path, "--rows", "1", "--lr", "0.02")
    assert code == 2 and "== " not in out
    assert "trained differently" in err and "lr: 0.003 in the checkpoint, 0.02 now" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("rows", ["0", "11", "2,x"])
def test_table_rows_are_checked(tmp_path, capsys, monkeypatch, rows):
    code, _, err = _table(capsys, monkeypatch, tmp_path, "--rows", rows)
    assert code == 2 and "numbers run from 1 to 10" in err and not os.listdir(tmp_path)


def test_the_default_command_is_the_protocol_of_the_committed_512_table(tmp_path, capsys, monkeypatch):
    """Every finished row of results/table1_512 validates (configuration and recipe) under the defaults."""
    root = os.path.join(ROOT, "results", "table1_512")
    rows = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "summary.json")))
    assert len(rows) >= 4
    for d in rows:
        os.makedirs(tmp_path / d)
        for f in ("summary.json", "checkpoint.npz"):
            shutil.copy(os.path.join(root, d, f), tmp_path / d / f)
    code, out, err = _table(capsys, monkeypatch, tmp_path, "--rows", "", "--out", str(tmp_path))
    assert code == 0, err
    listed = json.load(open(tmp_path / "table1.json"))
    assert sorted(r["row"].replace(" ", "_") for r in listed) == rows
    for r in listed:
        summary = json.load(open(os.path.join(root, r["row"].replace(" ", "_"), "summary.json")))
        assert r["peak_psnr"] == round(summary["peak_psnr"], 2) and r["equivalents"] == 2000


def test_table_refuses_a_row_another_process_is_training(tmp_path, capsys, monkeypatch):
    from loe_ref.runs.folder import FolderLock, fcntl
    if fcntl is None:
        pytest.skip("folder locks need POSIX fcntl")
    with FolderLock(str(tmp_path / "fine_to_coarse_sine")):
        code, out, err = _table(capsys, monkeypatch, tmp_path, "--rows", "3")
    assert code == 2 and "== " not in out and "is in use by another process" in err
    assert os.listdir(tmp_path / "fine_to_coarse_sine") == [".lock"]
