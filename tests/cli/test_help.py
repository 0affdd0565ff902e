"""run.py's help and its up-front checks of the render's options."""
import signal
import subprocess
import sys
import time

import pytest

import run
from tests.helpers import ROOT, SMALL, default_signals, refused
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
    assert code == 2 and "must name a file ending in .png (image)" in err and not (tmp_path / "x.jpg").exists()


@pytest.mark.parametrize("delay", [0.1, 0.15, 0.2, 0.3])
def test_ctrl_c_while_starting_is_one_line(tmp_path, delay):
    """Ctrl-C while the libraries load once printed a KeyboardInterrupt traceback."""
    proc = subprocess.Popen([sys.executable, "run.py", *SMALL, "--iters", "100000", "--out", str(tmp_path / "o")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr and stderr.count("\n") <= 2, stderr


def test_grid_scales_past_the_dtype_are_refused(tmp_path, capsys):
    """--layers 130 on quadtree (scale 2^130) once ran with overflow warnings and garbage experts."""
    refused(capsys, tmp_path, *SMALL, "--layers", "130", "--grid", "quadtree",
            match="layer 130 of --grid quadtree (--layers 130, --tile 2) has the scale 1.36e+39")
