import numpy as np
import pytest

from loe_ref.backend import to_host
from loe_ref.fast.grid import GridEvaluator, chunked_predictions, pixel_coords_at
from loe_ref.fast.network import forward
from loe_ref.fast.routing import plan_for
from loe_ref.grids import pixel_coords
from loe_ref.network import Config, init_params


def test_chunked_predictions_cover_the_grid(xp):
    cfg = Config(layers=3, hidden=5)
    dev = {k: xp.asarray(v) for k, v in init_params(cfg, 0).items()}
    whole = to_host(forward(dev, plan_for(cfg, xp.asarray(pixel_coords((9, 11)))), cfg)[0])
    parts = list(chunked_predictions(dev, cfg, (9, 11), chunk=20))
    assert [s for s, _ in parts] == list(range(0, 99, 20))
    np.testing.assert_allclose(np.concatenate([to_host(b) for _, b in parts]), whole, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("cached", [True, False])
def test_grid_evaluator_with_and_without_cached_plans(xp, cached, monkeypatch):
    import loe_ref.fast.grid as evaluate
    monkeypatch.setattr(evaluate, "PLAN_CACHE_PIXELS", 10 ** 6 if cached else 10)
    cfg = Config(blend="linear", layers=4, hidden=8)
    dev = {k: xp.asarray(v) for k, v in init_params(cfg, 0).items()}
    grid = GridEvaluator(cfg, (20, 30), xp, np.float64, chunk=77)
    assert (grid.plans is not None) == cached
    whole = to_host(forward(dev, plan_for(cfg, xp.asarray(pixel_coords((20, 30)))), cfg)[0])
    np.testing.assert_allclose(to_host(grid.predict(dev)), whole, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("blend", ["nearest", "linear"])
def test_evaluation_stays_in_the_parameters_dtype(xp, blend, monkeypatch):
    """A float32 evaluation builds float32 plans and runs float32 products (no float64 work)."""
    import loe_ref.fast.network as network
    import loe_ref.fast.shards as shards
    cfg = Config(blend=blend, layers=3, hidden=8)
    dev = {k: xp.asarray(v.astype(np.float32)) for k, v in init_params(cfg, 0).items()}
    seen = []
    real_plan = shards.plan_for
    layer = "sorted_linear_forward" if blend == "nearest" else "dynamic_linear_forward"
    real_layer = getattr(network, layer)

    def plan_for_spy(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        seen.append(plan.p.dtype)
        seen.extend(r.coef.dtype for r in plan.routes if blend == "linear")
        return plan

    def layer_spy(x, W, b, route):
        out, cache = real_layer(x, W, b, route)
        seen.extend([x.dtype, out.dtype])
        return out, cache

    monkeypatch.setattr(shards, "plan_for", plan_for_spy)
    monkeypatch.setattr(network, layer, layer_spy)
    for s, block in chunked_predictions(dev, cfg, (9, 11), chunk=40):
        seen.append(block.dtype)
    seen.append(GridEvaluator(cfg, (5, 4), xp, np.float32).predict(dev).dtype)
    assert seen and set(seen) == {np.dtype(np.float32)}, seen


@pytest.mark.parametrize("cached", [True, False])
def test_a_videos_frames_errors_add_up_to_its_whole(xp, cached, monkeypatch):
    """Engine.frame_sse: each frame's squared error, whether the grid's plans are cached or the
    grid is taken in chunks that straddle frames, is the frame's own; together they are the whole's."""
    import loe_ref.fast.grid as evaluate
    from loe_ref.fast import Engine
    from loe_ref.losses import squared_error_rows
    monkeypatch.setattr(evaluate, "PLAN_CACHE_PIXELS", 10 ** 6 if cached else 10)
    cfg = Config(in_dims=3, out_channels=2, layers=3, hidden=6)
    shape = (5, 6, 7)
    y = np.random.default_rng(1).uniform(-1, 1, (210, 2))
    engine = Engine(cfg, lambda: init_params(cfg, 0), y, shape, 0, 37, np.float64, xp)
    frames = engine.frame_sse()
    whole = to_host(forward(engine.params, plan_for(cfg, xp.asarray(pixel_coords(shape))), cfg)[0])
    rows = to_host(squared_error_rows(xp.asarray(whole), xp.asarray(y)))
    np.testing.assert_allclose(frames, rows.reshape(5, 42).sum(axis=1), rtol=1e-12)
    assert frames.shape == (5,) and engine.psnr() == pytest.approx(10 * np.log10(y.size / frames.sum()), rel=1e-12)
    engine.close()


def test_pixel_coords_at_matches_the_full_grid():
    for shape in [(7,), (5, 6), (3, 4, 5)]:
        full = pixel_coords(shape)
        idx = np.random.default_rng(0).integers(0, full.shape[0], 40)
        np.testing.assert_array_equal(pixel_coords_at(idx, shape), full[idx])
