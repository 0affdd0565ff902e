import numpy as np
import pytest

from loe_ref.grids import (
    arrangement,
    expert_maps,
    nearest_expert,
    pixel_coords,
)

S, L = 512, 9


def test_pixel_coords_are_centres_in_c_order():
    p = pixel_coords((2, 4))
    assert p.shape == (8, 2)
    np.testing.assert_array_equal(p[:4, 0], 0.25)
    np.testing.assert_array_equal(p[:4, 1], [0.125, 0.375, 0.625, 0.875])


@pytest.mark.parametrize("name", ["quadtree", "coarse_to_fine", "fine_to_coarse", "gray_code"])
def test_expert_maps_on_512_grid(name):
    alpha, beta = arrangement(name, L, 2)
    maps = expert_maps((S, S), alpha, beta, 2)
    n = np.arange(S)
    for i in range(1, L + 1):
        if name in ("quadtree", "coarse_to_fine"):
            t = (n // (S >> i)) % 2                     # 2^i cells per axis
        elif name == "fine_to_coarse":
            t = (n // (S >> (L + 1 - i))) % 2           # 2^(L+1-i) cells per axis
        else:
            t = ((n ^ (n >> 1)) >> (L - i)) & 1         # bit L-i of the Gray code of n
        expected = t[:, None] + 2 * t[None, :]
        np.testing.assert_array_equal(maps[i - 1], expected, err_msg=f"{name} layer {i}")


def test_every_pixel_gets_its_own_expert_combination():
    for name in ("quadtree", "fine_to_coarse"):
        maps = expert_maps((S, S), *arrangement(name, L, 2), 2).reshape(L, -1)
        codes = (maps * (4 ** np.arange(L))[:, None]).sum(axis=0)
        assert np.unique(codes).size == S * S


def test_gray_code_changes_one_layer_per_cell_boundary():
    alpha, beta = arrangement("gray_code", L, 2)
    maps = expert_maps((S,), alpha, beta, 2)
    changes = (np.diff(maps, axis=1) != 0).sum(axis=0)
    assert set(changes.tolist()) == {1}


def test_expert_index_mixed_radix_tile3():
    p = np.array([[0.1, 0.5, 0.9]])
    # alpha 3: cells 0, 1, 2 on the three axes -> j = 0 + 1*3 + 2*9
    assert nearest_expert(p, 3.0, 0.0, 3)[0] == 21


@pytest.mark.parametrize("args,match", [(("hexagon", 3, 2), "unknown grid 'hexagon'"),
                                        (("gray_code", 3, 3), "gray_code needs tile=2"),
                                        (("quadtree", 0, 2), "layers=0"),
                                        (("quadtree", 3, 0), "tile=0")])
def test_bad_arrangement(args, match):
    with pytest.raises(ValueError, match=match):
        arrangement(*args)


def test_an_expert_maps_window_is_the_full_maps_corner():
    alpha, beta = arrangement("gray_code", 5, 2)
    for shape, window, scale in [((40, 30), (8, 50), None), ((9, 10, 11), (3, 4, 5), [2.0, 1.0, 0.5])]:
        full = expert_maps(shape, alpha, beta, 2, scale=scale)
        corner = expert_maps(shape, alpha, beta, 2, window=window, scale=scale)
        np.testing.assert_array_equal(corner, full[(slice(None),) + tuple(slice(0, w) for w in window)])
