"""run.py's help and its up-front checks of the render's options."""

import pytest

import run
from tests.helpers import run_cli as _run


def test_help_lists_images_and_reads_well(capsys):
    with pytest.raises(SystemExit):
        run.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "camera" in text and "astronaut" in text and "(default default)" not in text
    assert "--overwrite" in text


def test_render_checks_the_extension_up_front(tmp_path, capsys):
    code, _, err = _run(capsys, "--render", str(tmp_path / "missing.npz"), "--size", "8", "8",
                        "--out", str(tmp_path / "x.jpg"))
    assert code == 2 and "must name a .png file" in err and not (tmp_path / "x.jpg").exists()
