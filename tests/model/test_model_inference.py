"""FoldedI3D gives the network's logits to float rounding, for every shape of network and input."""

from __future__ import annotations

import pytest
import torch

from benchmark.model.i3d import build_model
from benchmark.model.inference import FoldedI3D, fold_for_inference


def _with_random_statistics(net: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Non-trivial BatchNorm statistics and affine terms, so that folding them has something to get wrong."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm3d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.1)
    return net.eval()


@pytest.mark.parametrize(
    ("endpoint", "pool", "gray_stem", "grid"),
    [
        ("Mixed_3c", "avg", True, (20, 48, 72)),  # the ucsd_cpu network
        ("Mixed_5c", "avg", False, (20, 48, 72)),  # the published network (every pool kind)
        ("Mixed_4c", "max", True, (9, 25, 37)),  # odd sizes: asymmetric SAME padding everywhere
        ("Conv3d_2c_3x3", "avg", False, (5, 16, 21)),
    ],
)
def test_logits_match_the_network(endpoint, pool, gray_stem, grid) -> None:
    net = _with_random_statistics(
        build_model(0.25, seed=1, final_endpoint=endpoint, pool=pool, gray_stem=gray_stem), seed=2)
    folded = fold_for_inference(net)
    assert isinstance(folded, FoldedI3D)
    g = torch.Generator().manual_seed(3)
    grey = (torch.rand(3, 1, *grid, generator=g) * 2 - 1).expand(-1, 3, -1, -1, -1)
    colour = torch.rand(3, 3, *grid, generator=g) * 2 - 1
    for x in (grey.contiguous(), colour, colour.contiguous(memory_format=torch.channels_last_3d)):
        with torch.inference_mode():
            ref, ours = net(x), folded(x)
        assert ours.shape == ref.shape
        assert (ours - ref).abs().max() <= 1e-4 * ref.abs().max()


def test_copy_is_independent_of_later_weight_changes() -> None:
    net = _with_random_statistics(build_model(0.25, seed=0, final_endpoint="Mixed_3b"), seed=0)
    x = torch.rand(1, 3, 6, 16, 24)
    folded = fold_for_inference(net)
    before = folded(x)
    with torch.no_grad():
        net.Conv3d_1a_7x7.conv.weight.mul_(2)
    assert torch.equal(folded(x), before)


def test_training_mode_and_other_models_are_returned_as_is() -> None:
    net = build_model(0.25, seed=0, final_endpoint="Mixed_3b").train()
    assert fold_for_inference(net) is net
    other = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(2))
    assert fold_for_inference(other) is other


def test_rejects_a_wrong_input() -> None:
    folded = fold_for_inference(build_model(0.25, seed=0, final_endpoint="Mixed_3b").eval())
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        folded(torch.rand(1, 1, 4, 8, 8))
