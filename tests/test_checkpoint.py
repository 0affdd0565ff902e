"""loe_ref/checkpoint.py: what is saved comes back, bit for bit (validation of damaged or
mismatched files is tested through the command line, tests/test_runs.py)."""
import numpy as np

from loe_ref.network import Config, init_params
from loe_ref.runs import checkpoint


def test_checkpoint_roundtrip(tmp_path):
    cfg = Config(grid="gray_code", act="leaky_relu", pe=2, blend="linear")
    params = init_params(cfg, 1)
    path = tmp_path / "ck.npz"
    checkpoint.save(path, params, cfg, extra={"adam_m/W1": params["W1"] * 0}, meta={"iteration": 3})
    cfg2, params2, extra, meta = checkpoint.load(path)
    assert cfg2 == cfg and meta == {"iteration": 3} and list(extra) == ["adam_m/W1"]
    assert all(np.array_equal(params[k], params2[k]) for k in params)
    assert [f.name for f in tmp_path.iterdir()] == ["ck.npz"]
