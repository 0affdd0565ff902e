import numpy as np
import pytest

from loe_ref.training.sampler import PixelSampler


def test_epochs_draw_every_pixel_once_and_batches_span_epochs():
    s = PixelSampler("epoch", 120, 50, seed=3)
    drawn = np.concatenate([s.indices(it) for it in range(12)])          # five epochs
    for e in range(5):
        assert sorted(drawn[120 * e:120 * (e + 1)]) == list(range(120))
    again = PixelSampler("epoch", 120, 50, seed=3)                      # a function of (seed, step) alone
    np.testing.assert_array_equal(again.indices(7), drawn[350:400])


def test_replacement_and_seeds_differ():
    a = PixelSampler("replacement", 120, 50, 3).indices(0)
    assert a.shape == (50,) and a.max() < 120
    assert not np.array_equal(a, PixelSampler("epoch", 120, 50, 3).indices(0))
    assert not np.array_equal(PixelSampler("epoch", 120, 50, 3).indices(0), PixelSampler("epoch", 120, 50, 4).indices(0))


def test_unknown_sampler():
    with pytest.raises(ValueError, match="unknown sampler 'shuffle'"):
        PixelSampler("shuffle", 10, 2, 0)
