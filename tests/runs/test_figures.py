"""loe_ref/runs/figures.py: the error map's scale, the expert mosaic's layout, and plots that
say False, instead of failing, where matplotlib is missing."""
import os

import numpy as np
import pytest

from loe_ref.runs import figures


def test_the_error_map_is_white_at_its_full_scale_and_averages_channels():
    target = np.zeros((2, 3, 3))
    recon = target.copy()
    recon[0, 0] = 0.05                              # half the full scale on every channel
    recon[1, 2, 0] = 0.6                            # twice it, averaged over three channels
    err = figures.error_map(recon, target)
    assert err.shape == (2, 3) and err[0, 0] == pytest.approx(0.5) and err[1, 2] == 1.0
    assert err[0, 1] == 0.0


def test_the_mosaic_puts_layers_side_by_side_in_palette_colours():
    maps = np.array([[[0, 1]], [[2, 13]]])          # L = 2 layers of 1 x 2 pixels
    out = figures.expert_mosaic(maps, gap=3)
    assert out.shape == (1, 2 * 2 + 3, 3)
    np.testing.assert_array_equal(out[0, 0], figures.PALETTE[0])
    np.testing.assert_array_equal(out[0, 6], figures.PALETTE[13 % len(figures.PALETTE)])
    assert (out[0, 2:5] == 1.0).all()               # the white gap


def test_plots_say_false_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "_pyplot", lambda: None)
    path = str(tmp_path / "c.png")
    assert figures.plot_curves(path, {"a": ([1, 2], [20.0, 21.0])}) is False
    assert not os.path.exists(path)
