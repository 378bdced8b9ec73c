"""The I3D's published graph: layer order, nodes, multiply-adds, and the rest of the network from a layer."""

from __future__ import annotations

import pytest
import torch

from benchmark.model.graph import Concat, LocalOp, conv_macs, i3d_graph, output_sizes, pass_macs, run_after
from benchmark.model.i3d import build_model, pad_same


@pytest.fixture(scope="module")
def tiny():
    return build_model(0.125, seed=0).eval()


def test_layers_are_the_feature_children_in_order(tiny):
    layers = i3d_graph(tiny)
    children = [name for name, _ in tiny.named_children()]
    assert [layer.name for layer in layers] == children[: children.index("pool")]
    for layer in layers:
        assert layer.nodes[-1].name == layer.name
    mixed = dict(i3d_graph(tiny))["Mixed_3b"]
    assert isinstance(mixed[-1], Concat) and mixed[-1].sources == ("Mixed_3b.b0", "Mixed_3b.b1b", "Mixed_3b.b2b",
                                                                   "Mixed_3b.b3b")
    assert [n.source for n in mixed if isinstance(n, LocalOp)] == [
        "MaxPool3d_3a_3x3", "MaxPool3d_3a_3x3", "Mixed_3b.b1a", "MaxPool3d_3a_3x3", "Mixed_3b.b2a",
        "MaxPool3d_3a_3x3", "Mixed_3b.b3a",
    ]


def test_nodes_apply_the_networks_own_modules(tiny):
    x = torch.randn(1, 3, 8, 16, 24)
    first = i3d_graph(tiny)[0].nodes[0]
    with torch.no_grad():
        ours = first.apply(pad_same(x, first.kernel, first.stride, first.pad_value))
        torch.testing.assert_close(ours, tiny.Conv3d_1a_7x7(x), rtol=0, atol=0)


def test_output_sizes_equal_the_activations(tiny):
    layers = i3d_graph(tiny)
    sizes = output_sizes(layers, (20, 24, 36))
    seen = {}
    handles = [getattr(tiny, layer.name).register_forward_hook(
        lambda m, a, o, name=layer.name: seen.__setitem__(name, tuple(o.shape[2:]))) for layer in layers]
    try:
        with torch.no_grad():
            tiny(torch.randn(1, 3, 20, 24, 36))
    finally:
        for handle in handles:
            handle.remove()
    assert seen == {layer.name: sizes[layer.name] for layer in layers}


@pytest.mark.parametrize("layer", ["Conv3d_1a_7x7", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_5c"])
def test_run_after_finishes_the_forward_pass(tiny, layer):
    x = torch.randn(2, 3, 8, 16, 24)
    h = x
    with torch.no_grad():
        for name, module in tiny.named_children():
            h = module(h)
            if name == layer:
                break
        torch.testing.assert_close(run_after(tiny, h, layer), torch.softmax(tiny(x), dim=1), rtol=0, atol=0)


def test_mac_counter_matches_a_hand_count_of_the_first_layers():
    net = build_model(width=1.0, seed=0)
    macs = conv_macs(net, (3, 20, 158, 237))
    assert macs["Conv3d_1a_7x7"] == 10 * 79 * 119 * 64 * 3 * 7**3
    assert macs["Conv3d_2c_3x3"] == 10 * 40 * 60 * 192 * 64 * 27
    assert macs["Mixed_3b.b1b"] == 10 * 20 * 30 * 128 * 96 * 27
    assert macs["logits"] == 1024 * 2
    assert pass_macs(net, (3, 20, 158, 237)) == sum(macs.values())
    assert 24e9 < sum(macs.values()) < 28e9  # ~53 GFLOP per clip (pitfalls.md)
