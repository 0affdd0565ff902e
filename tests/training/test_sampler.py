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


def test_replacement_draws_a_new_batch_every_step():
    """Each step's draw depends on the step (a sampler ignoring it would repeat one batch)."""
    s = PixelSampler("replacement", 10000, 64, 3)
    batches = [tuple(s.indices(it)) for it in range(5)]
    assert len(set(batches)) == 5
    np.testing.assert_array_equal(s.indices(3), np.random.default_rng([3, 3]).integers(0, 10000, 64))


def test_every_epoch_has_its_own_order():
    """Epoch e walks permutation e (a sampler ignoring the epoch would repeat one order)."""
    s = PixelSampler("epoch", 120, 40, seed=3)
    epochs = [np.concatenate([s.indices(3 * e + k) for k in range(3)]) for e in range(4)]
    assert len({tuple(e) for e in epochs}) == 4
    for e, drawn in enumerate(epochs):
        np.testing.assert_array_equal(drawn, np.random.default_rng([3, e, 1]).permutation(120))


def test_the_two_latest_permutations_are_kept():
    """A batch spans at most two epochs: permutations e - 1 and e stay cached, older ones go."""
    s = PixelSampler("epoch", 100, 30, seed=0)
    for it in range(8):                                 # up to positions 210..239: epoch 2
        s.indices(it)
    assert sorted(s._perms) == [1, 2]
