"""Hypothesis strategies that several test files draw from."""
from hypothesis import strategies as st

from loe_ref.activations import ACTIVATIONS
from loe_ref.network import Config


@st.composite
def configs(draw, tiles=(1, 2, 3), blends=("nearest", "linear")):
    d = draw(st.integers(1, 3))
    tile = draw(st.sampled_from(tiles))
    layers = draw(st.integers(1, 3))
    grids = ["quadtree", "fine_to_coarse", "custom"] + (["gray_code"] if tile == 2 else [])
    grid = draw(st.sampled_from(grids))
    alpha = beta = []
    if grid == "custom":
        alpha = draw(st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 5.0]), min_size=layers, max_size=layers))
        beta = draw(st.lists(st.floats(0.0, 1.0), min_size=layers, max_size=layers))
    act = draw(st.sampled_from(ACTIVATIONS))
    init = draw(st.sampled_from(["default", "kaiming"] + (["siren"] if act == "sine" else [])
                                + (["finer"] if act == "finer" else [])))
    omega0 = 30.0 if init in ("siren", "finer") else draw(st.sampled_from([1.0, 2.0]))
    axis_scale = draw(st.one_of(st.just([]), st.lists(st.sampled_from([0.25, 1.0, 2.0, 3.0]), min_size=d, max_size=d)))
    return Config(in_dims=d, out_channels=draw(st.sampled_from([1, 3])), hidden=draw(st.integers(1, 5)),
                  layers=layers, tile=tile, blend=draw(st.sampled_from(blends)),
                  grid=grid, alpha=alpha, beta=beta, act=act, omega0=omega0,
                  slope=draw(st.sampled_from([0.2, 0.01])), init=init, pe=draw(st.integers(0, 2)),
                  sigma=draw(st.sampled_from([0.5, 1.0, 3.0])), first_bias=draw(st.sampled_from([1.0, 5.0])),
                  axis_scale=axis_scale)
