"""The cascading model-parameter randomisation of the I3D: order, coverage, seeding, usable gradients."""

from __future__ import annotations

import copy

import pytest
import torch

from benchmark.model.i3d import I3D, ProbabilityModel, build_model
from benchmark.model.randomization import CASCADE, block_seed, cascade_networks, randomize_blocks


@pytest.fixture(scope="module")
def tiny_net() -> I3D:
    return build_model(0.125, seed=0).eval()


def _copy(net):
    return copy.deepcopy(net)


def test_cascade_runs_from_the_logits_down_and_covers_every_parameterised_block(tiny_net):
    blocks = [b for _, group in CASCADE for b in group]
    with_params = [n for n, m in tiny_net.named_children() if any(True for _ in m.parameters())]
    assert blocks == with_params[::-1], "the cascade must visit the I3D's blocks in reverse forward order"
    assert blocks[0] == "logits" and blocks[-1] == "Conv3d_1a_7x7" and len(set(blocks)) == len(blocks)
    covered = {k for k in tiny_net.state_dict() if k.split(".")[0] in blocks}
    assert covered == set(tiny_net.state_dict()), "every weight and buffer belongs to a cascade step"
    assert 6 <= len(CASCADE) <= 8


def test_full_cascade_changes_every_weight_and_leaves_the_original_alone(tiny_net):
    before = {k: v.clone() for k, v in tiny_net.state_dict().items()}
    steps = list(cascade_networks(tiny_net, seed=0))
    assert [s for s, _, _ in steps] == list(range(1, len(CASCADE) + 1))
    assert [lab for _, lab, _ in steps] == [lab for lab, _ in CASCADE]
    assert all(torch.equal(v, tiny_net.state_dict()[k]) for k, v in before.items())
    final = steps[-1][2].state_dict()  # one network advanced in place: the last is fully random
    for name, p in tiny_net.named_parameters():
        if name.endswith("bn.weight"):
            assert torch.all(final[name] == 1), name
        elif name.endswith("bn.bias") or name == "logits.bias":
            assert torch.all(final[name] == 0), name
        else:
            assert not torch.equal(final[name], p), f"{name} was not re-initialised"
    for name in final:
        if name.endswith("running_mean"):
            assert torch.all(final[name] == 0)
        if name.endswith("running_var"):
            assert torch.all(final[name] == 1)


def test_reinitialisation_is_seeded_per_block_and_deterministic(tiny_net):
    a = [
        n.state_dict() for _, _, n in [(s, lab, _copy(n)) for s, lab, n in cascade_networks(tiny_net, seed=3)]
    ]
    b = [
        n.state_dict() for _, _, n in [(s, lab, _copy(n)) for s, lab, n in cascade_networks(tiny_net, seed=3)]
    ]
    for sa, sb in zip(a, b):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    other = randomize_blocks(_copy(tiny_net), ["logits"], seed=4).state_dict()
    assert not torch.equal(other["logits.weight"], a[0]["logits.weight"])
    # A block gets the same draw whether it is randomised alone or in the cascade.
    alone = randomize_blocks(_copy(tiny_net), ["Mixed_5b"], seed=3).state_dict()
    assert torch.equal(alone["Mixed_5b.b0.conv.weight"], a[-1]["Mixed_5b.b0.conv.weight"])
    assert block_seed(3, "Mixed_5b") != block_seed(3, "Mixed_5c") != block_seed(4, "Mixed_5c")
    with pytest.raises(ValueError, match="not blocks of the network"):
        randomize_blocks(_copy(tiny_net), ["Mixed_9z"], seed=0)


def test_randomised_network_keeps_a_usable_gradient(tiny_net):
    x = torch.rand(1, 3, 20, 32, 48) * 2 - 1
    *_, (_, _, full) = cascade_networks(tiny_net, seed=0)
    xs = x.clone().requires_grad_(True)
    ProbabilityModel(full)(xs)[:, 1].sum().backward()
    assert torch.isfinite(xs.grad).all() and xs.grad.abs().max() > 1e-6


def test_a_truncated_network_gets_the_cascade_of_the_blocks_it_has():
    from benchmark.model.randomization import cascade_for

    short = build_model(0.125, seed=0, final_endpoint="Mixed_3c").eval()
    steps = cascade_for(short)
    assert [label for label, _ in steps] == ["logits", "Mixed_3", "Conv3d_2", "Conv3d_1a"]
    blocks = [b for _, group in steps for b in group]
    with_params = [n for n, m in short.named_children() if any(True for _ in m.parameters())]
    assert blocks == with_params[::-1]
    *_, (_, _, full) = cascade_networks(short, seed=0)
    assert all(not torch.equal(full.state_dict()[k], v) for k, v in short.state_dict().items()
               if k.endswith("conv.weight"))
