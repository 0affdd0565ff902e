"""The memory estimates (loe_ref/fast/memory.py) against docs/fast.md, "Memory", and against
a measured peak; the refusals that use them."""
import json
import subprocess
import sys

import numpy as np
import pytest

from loe_ref.activations import ACTIVATIONS, activation_forward
from loe_ref.fast import memory
from loe_ref.network import Config
from tests.helpers import ROOT


def test_estimates_grow_with_what_they_should():
    cfg, f32 = Config(), np.float32
    base = memory.peak_bytes(cfg, 2 ** 18, 0, 65536, f32)[0]
    assert memory.peak_bytes(cfg, 2 ** 18, 2 ** 16, 65536, f32)[0] > memory.peak_bytes(cfg, 2 ** 18, 2048, 65536, f32)[0]
    assert memory.peak_bytes(Config(hidden=128), 2 ** 18, 0, 65536, f32)[0] > base
    assert memory.peak_bytes(Config(blend="linear"), 2 ** 18, 0, 65536, f32)[0] > base
    assert memory.peak_bytes(cfg, 2 ** 18, 0, 65536, np.float64)[0] > base
    assert memory.peak_bytes(cfg, 2 ** 22, 1024, 4096, f32)[1] < memory.peak_bytes(cfg, 2 ** 22, 1024, 65536, f32)[1]
    assert memory.peak_bytes(cfg, 2 ** 18, 0, 65536, f32, processes=2)[0] > base


@pytest.mark.parametrize("blend", ["nearest", "linear"])
@pytest.mark.parametrize("act", ["sine", "leaky_relu", "gabor"])
@pytest.mark.parametrize("backward", [True, False])
def test_step_estimate_is_the_documented_formula(blend, act, backward):
    """memory.step_bytes term by term as docs/method.md, section 7 writes it."""
    cfg = Config(blend=blend, act=act, hidden=48, layers=5, pe=2, out_channels=3)
    s, L, H, d, C, N, R = 4, 5, 48, 2, 3, 4, 1000
    D0 = d * (1 + 2 * 2)
    plan = 12 * L + 4 if blend == "nearest" else L * (s * N + 8 * 2 ** d + 8 * d)
    per_point = (s * (D0 + (L - 1) * H) + L * H * {"sine": s, "leaky_relu": 1, "gabor": 3 * s}[act] + plan
                 + (3 * s * H if backward else 2 * s * H) + 8 * d + 2 * s * C)
    assert memory.step_bytes(cfg, R, np.float32, backward=backward) == R * per_point


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cache_bytes_are_what_each_activation_keeps(act, dtype):
    """The estimate's bytes per entry are the arrays each forward pass puts in its cache."""
    z = np.random.default_rng(0).standard_normal((50, 8)).astype(dtype)
    _, cache = activation_forward(act, z)
    kept = sum(a.nbytes for a in cache if isinstance(a, np.ndarray))
    assert kept == z.size * memory.cache_bytes(act, np.dtype(dtype).itemsize)


def test_peak_estimate_is_the_documented_formula():
    cfg, s, P, B, S, w = Config(), 4, 512 * 512, 4096, 2048, 2
    n = memory.param_count(cfg)
    grid = P * (12 * 9 + 4 + 2 * s + 24 + 2 * 2 * s)
    fixed = P * (8 + s + max(8, 16)) + 4 * s * n + grid + memory.OVERHEAD
    train = fixed + B * (8 + 2 * s + s) + w * (memory.step_bytes(cfg, S, np.float32) + s * n)
    evaluate = fixed + P * (s + 2 * s) + w * memory.step_bytes(cfg, S, np.float32, backward=False)
    assert memory.peak_bytes(cfg, P, B, 65536, np.float32, processes=w) == (train, evaluate)


@pytest.mark.slow
@pytest.mark.parametrize("case", range(9))
def test_memory_estimate_within_a_quarter_of_the_measured_peak(case):
    """Every case of benchmarks/memory.py: the refusal threshold is close to reality."""
    out = subprocess.run([sys.executable, "benchmarks/memory.py", "--one", str(case)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    ratio = json.loads(out.stdout.strip().splitlines()[-1])["estimate_over_measured"]
    assert 0.75 <= ratio <= 1.25, ratio


def test_what_cannot_fit_is_refused_with_the_parameter_that_lowers_it():
    cfg = Config()
    with pytest.raises(memory.MemoryLimitError, match=r"`batch` 65536 needs about .* GiB .* lower .*`batch`"):
        memory.check_memory(cfg, 512 * 512, 65536, 65536, np.float32, available=2 ** 20)
    big = 4096 * 4096                 # beyond the cached grid: evaluations go chunk by chunk
    train, evaluate = memory.peak_bytes(cfg, big, 1, 2 ** 20, np.float32)
    assert evaluate > train
    with pytest.raises(memory.MemoryLimitError, match="lower `chunk`"):
        memory.check_memory(cfg, big, 1, 2 ** 20, np.float32, available=(train + evaluate) // 2 + 1)
    with pytest.raises(memory.MemoryLimitError, match=r"loading the 13000 x 13000 signal needs about 1.6 GiB"):
        memory.check_load((13000, 13000, 1), available=2 ** 30)
    memory.check_render(cfg, (30000, 30000), 65536, available=2 ** 30)      # a band at a time: it fits
    with pytest.raises(memory.MemoryLimitError, match=r"rendering 30000 x 30000 pixels .* lower `chunk`"):
        memory.check_render(cfg, (30000, 30000), 65536, available=2 ** 24)
    with pytest.raises(memory.MemoryLimitError, match=r"may write up to 0.8 GiB .* lower `size`"):
        memory.check_render(cfg, (30000, 30000), 65536, available=2 ** 30, free_disk=2 ** 29)
    with pytest.raises(memory.MemoryLimitError, match=r"the pictures of a 5000 x 5000 signal .* lower `size`"):
        memory.check_memory(cfg, 5000 * 5000, 4096, 65536, np.float32, available=2 ** 30, shape=(5000, 5000))
    memory.check_memory(cfg, 5000 * 5000, 4096, 65536, np.float32, available=2 ** 30)     # pictures unasked


@pytest.mark.parametrize("kwargs,named", [(dict(tile=1000), "`tile` (now 1000)"), (dict(pe=100000), "`pe` (now 100000)"),
                                          (dict(hidden=20000), "`hidden` (now 20000)")])
def test_a_step_refusal_names_the_option_that_dominates_it(kwargs, named):
    """--tile 100000 and --pe 100000000 were once told to lower --batch or --hidden."""
    cfg = Config(**kwargs)
    with pytest.raises(memory.MemoryLimitError, match=r"lower " + named.replace("(", r"\(").replace(")", r"\)")):
        memory.check_memory(cfg, 512 * 512, 4096, 65536, np.float32, available=2 ** 28)


def test_load_and_render_estimates_are_their_formulas():
    """docs/fast.md, "Memory": 10 bytes a decoded value, and 8 C + 16 bytes a resized pixel;
    a render holds 13 bytes a value, a chunk's coordinates and one shard's forward pass."""
    assert memory.load_bytes((100, 70, 3)) == 100 * 70 * 3 * 10
    assert memory.load_bytes((100, 70, 3), (40, 50)) == 100 * 70 * 3 * 10 + 40 * 50 * (3 * 8 + 16)
    cfg = Config(out_channels=3)
    band = memory.band_bytes(cfg, 300, 1000)
    px = (1000 // 300) * 300
    assert band == px * (24 + 2 * 4 + 3 * (4 + 24 + 2)) + memory.step_bytes(cfg, px, np.float32, backward=False)
    assert memory.render_bytes(cfg, (200, 300), 1000) == memory.render_bytes(cfg, (90000, 300), 1000) == \
        band + memory.OVERHEAD
    assert memory.band_bytes(cfg, 5000, 1000) == 5000 * (24 + 8 + 90) + memory.step_bytes(cfg, 2048, np.float32,
                                                                                           backward=False)
    assert memory.picture_sizes(cfg, (200, 300)) == (9, 200 * 300, 200 * 300)
    assert memory.picture_sizes(Config(layers=40), (3000, 2000)) == (16, 512 * 341, 1000 * 667)
    assert memory.pictures_bytes(cfg, (200, 300), 1000) == 200 * 300 * (7 + 36 * 9 + 51) + band + memory.FIGURES


def test_every_refusal_takes_exactly_what_fits():
    """Each refusal's boundary: the estimate itself is available, so it runs; a byte less is refused."""
    cfg = Config()
    train, evaluate = memory.peak_bytes(cfg, 512 * 512, 4096, 65536, np.float32)
    need = max(train, evaluate)
    memory.check_memory(cfg, 512 * 512, 4096, 65536, np.float32, available=need)
    with pytest.raises(memory.MemoryLimitError):
        memory.check_memory(cfg, 512 * 512, 4096, 65536, np.float32, available=need - 1)
    big = 4096 * 4096                                   # evaluation dominates: its own refusal
    train, evaluate = memory.peak_bytes(cfg, big, 1, 2 ** 20, np.float32)
    memory.check_memory(cfg, big, 1, 2 ** 20, np.float32, available=evaluate)
    with pytest.raises(memory.MemoryLimitError, match="lower `chunk`"):
        memory.check_memory(cfg, big, 1, 2 ** 20, np.float32, available=evaluate - 1)
    need = memory.load_bytes((3000, 2000, 1))
    memory.check_load((3000, 2000, 1), available=need)
    with pytest.raises(memory.MemoryLimitError):
        memory.check_load((3000, 2000, 1), available=need - 1)
    need = memory.render_bytes(cfg, (2000, 3000), 65536)
    memory.check_render(cfg, (2000, 3000), 65536, available=need, free_disk=2000 * 3000)
    with pytest.raises(memory.MemoryLimitError):
        memory.check_render(cfg, (2000, 3000), 65536, available=need - 1)
    with pytest.raises(memory.MemoryLimitError):
        memory.check_render(cfg, (2000, 3000), 65536, available=need, free_disk=2000 * 3000 - 1)
    need = memory.fixed_bytes(cfg, 3000 * 2000, 4096, np.float32) + memory.pictures_bytes(cfg, (3000, 2000), 65536)
    memory.check_memory(cfg, 3000 * 2000, 4096, 65536, np.float32, available=need, shape=(3000, 2000))
    with pytest.raises(memory.MemoryLimitError, match="pictures"):
        memory.check_memory(cfg, 3000 * 2000, 4096, 65536, np.float32, available=need - 1, shape=(3000, 2000))
