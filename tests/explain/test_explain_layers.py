"""Resolving a layer-based method's block on full and truncated I3Ds."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmark.explain.layers import I3D_BLOCKS, inception_blocks, resolve_block
from benchmark.model.i3d import I3D, ProbabilityModel, build_model


def truncated_i3d(last: str, width: float = 0.0625) -> nn.Module:
    """The I3D ending at ``last`` with its 2-class head, as a truncated profile runs it (``final_endpoint``)."""
    torch.manual_seed(0)
    return I3D(num_classes=2, width=width, final_endpoint=last).eval()


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
