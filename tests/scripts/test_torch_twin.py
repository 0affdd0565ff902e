"""benchmarks/torch_twin.py's BatchTwin (where PyTorch is installed; it is never a dependency):
the same network as loe_ref, so the timings compare like with like."""
import numpy as np
import pytest

from loe_ref.fast.shards import sse_and_grads
from loe_ref.grids import pixel_coords
from loe_ref.network import Config, init_params

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("grid,act", [("fine_to_coarse", "sine"), ("quadtree", "leaky_relu")])
def test_the_batch_twin_has_loe_refs_loss_and_gradients(grid, act):
    from benchmarks.torch_twin import BatchTwin
    cfg = Config(grid=grid, act=act, layers=4, hidden=8)
    params = {k: v.astype(np.float32) for k, v in init_params(cfg, 3).items()}
    p = pixel_coords((16, 16), np.float32)[::3]
    target = np.random.default_rng(0).uniform(-1, 1, (p.shape[0], 1)).astype(np.float32)
    sse, grads = sse_and_grads(params, cfg, p, target)
    twin = BatchTwin(torch, cfg, params, lr=1e-3, betas=(0.9, 0.99))
    loss = ((twin.forward(torch.from_numpy(p)) - torch.from_numpy(target)) ** 2).mean()
    loss.backward()
    assert loss.item() == pytest.approx(float(sse) / target.size, rel=1e-5)
    for k, g in grads.items():
        np.testing.assert_allclose(twin.params[k].grad.numpy(), g, rtol=1e-4, atol=1e-5 * np.abs(g).max())
