"""loe_ref/fast/shards.py: the fixed tree over a batch's shards (the routed sums themselves are
held to the root network in tests/fast/test_network.py, and split among processes in test_workers.py)."""
import numpy as np
import pytest

from loe_ref.fast import shards


def test_shards_cover_the_batch_in_order():
    assert shards.shard_ranges(5000, np) == [(0, 2048), (2048, 4096), (4096, 5000)]
    assert shards.shard_ranges(7, np, rows=3) == [(0, 3), (3, 6), (6, 7)]


def test_the_tree_adds_pairwise_at_the_middle_shard():
    order = shards.tree_sum(0, 5, lambda k: str(k), lambda a, b: f"({a}+{b})")
    assert order == "((0+1)+(2+(3+4)))"


def test_subtrees_split_the_tree_where_the_sum_does():
    assert shards.subtrees(0, 5, 1) == [(0, 2), (2, 5)]
    assert shards.subtrees(0, 5, 2) == [(0, 1), (1, 2), (2, 3), (3, 5)]
    assert shards.subtrees(0, 1, 3) == [(0, 1)]
    known = {node: shards.tree_sum(*node, str, lambda a, b: f"({a}+{b})") for node in shards.subtrees(0, 5, 2)}
    assert shards.tree_sum(0, 5, None, lambda a, b: f"({a}+{b})", depth=2, known=known) == "((0+1)+(2+(3+4)))"


def test_an_empty_batch_is_an_error_not_a_recursion():
    with pytest.raises(ValueError, match="empty batch"):
        shards.tree_sum(0, 0, str, lambda a, b: a + b)
