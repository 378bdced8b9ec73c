"""Resolving a layer-based method's block on full and truncated I3Ds."""

from __future__ import annotations

import pytest
from torch import nn

from benchmark.explain.layers import I3D_BLOCKS, inception_blocks, resolve_block
from benchmark.model.i3d import ProbabilityModel, build_model


def truncated_i3d(last: str, width: float = 0.0625) -> nn.Module:
    """An I3D that ends at ``last`` with a new 2-class ``logits`` head (what a truncated profile may run)."""
    net = build_model(width=width, seed=0)
    names = [name for name, _ in net.named_children()]
    for name in names[names.index(last) + 1 : names.index("avg_pool")]:
        delattr(net, name)
    net.logits = nn.Conv3d(getattr(net, last).out_channels, 2, kernel_size=1, bias=True)
    return net


def test_the_full_i3d_has_every_block():
    net = build_model(width=0.0625, seed=0)
    assert inception_blocks(net) == list(I3D_BLOCKS)
    assert inception_blocks(ProbabilityModel(net)) == list(I3D_BLOCKS)
    for name in I3D_BLOCKS:
        assert resolve_block(ProbabilityModel(net), name) == name


@pytest.mark.parametrize(("last", "asked", "read"), [
    ("Mixed_4f", "Mixed_4f", "Mixed_4f"),
    ("Mixed_4f", "Mixed_5c", "Mixed_4f"),
    ("Mixed_3c", "Mixed_4f", "Mixed_3c"),
    ("Mixed_3c", "Mixed_3b", "Mixed_3b"),
    ("Mixed_4b", "Mixed_5b", "Mixed_4b"),
])
def test_a_truncated_network_reads_the_deepest_block_it_has(last, asked, read):
    net = truncated_i3d(last)
    assert inception_blocks(net)[-1] == last
    assert resolve_block(ProbabilityModel(net), asked) == read


def test_unknown_names_and_missing_blocks_are_named():
    with pytest.raises(ValueError, match="Inception blocks"):
        resolve_block(build_model(width=0.0625, seed=0), "Mixed_6a")
    with pytest.raises(ValueError, match="no Inception block at or before"):
        resolve_block(nn.Sequential(nn.Conv3d(3, 2, 1)), "Mixed_4f")
