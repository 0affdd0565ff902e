"""The progress bar and log lines."""


from loe_ref.runs.progress import Progress


def test_progress_shows_a_dash_before_the_first_evaluation_and_the_time_left():
    bar = Progress(100, start=0, quiet=True)
    line = bar.line(0, now=bar.start)
    assert "loss - PSNR - dB" in line and "nan" not in line and "- left" in line
    bar.update(10, 0.5, 20.0)
    line = bar.line(10, now=bar.start + 20.0)
    assert "loss 5.000e-01 PSNR 20.00 dB" in line and "2.00 s/it" in line and "3:00 left" in line
