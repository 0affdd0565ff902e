"""The fast path: the root network's numbers, computed the way CPUs and GPUs like.

Routing plans that sort each layer's points by expert (routing.py, network.py, layers.py),
batches cut into shards summed along a fixed tree (shards.py) and shared among worker
processes (workers.py), the CPU's and allocator's settings (cpu.py), the parameters in one
flat array (flat.py), the pixel grid's cached plans (grid.py) and the memory estimates
that refuse what cannot fit (memory.py). Training goes through one door, ``Engine``.
docs/fast.md describes each part; tests/fast/ holds each to the root network.
"""
from .engine import Engine

__all__ = ["Engine"]
