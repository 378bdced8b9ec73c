"""Cascading model-parameter randomisation of the I3D (Adebayo et al., *Sanity Checks for Saliency Maps*, 2018).

The trained I3D's blocks are re-initialised one group at a time, **from the logits down** (a cascade: each
step keeps the earlier steps' randomisation). :mod:`benchmark.harness.sanity` explains the same clips on each
progressively randomised copy and compares the maps (:mod:`benchmark.metrics.similarity`).

Cascade (:data:`CASCADE`): the I3D's 13 parameterised blocks in reverse forward order, in 7 steps::

    1 logits       logits
    2 Mixed_5      Mixed_5c, Mixed_5b
    3 Mixed_4f-4e  Mixed_4f, Mixed_4e
    4 Mixed_4d-4b  Mixed_4d, Mixed_4c, Mixed_4b
    5 Mixed_3      Mixed_3c, Mixed_3b
    6 Conv3d_2     Conv3d_2c_3x3, Conv3d_2b_1x1
    7 Conv3d_1a    Conv3d_1a_7x7          (full randomisation: no trained weight is left)

Re-initialisation (:func:`randomize_blocks`): every ``Conv3d`` weight is drawn from
``N(0, gain^2 / fan_in)`` (He initialisation: ``gain = sqrt(2)`` for the convolutions followed by a
ReLU, ``1`` for the linear ``logits`` convolution, whose bias is set to 0); every ``BatchNorm3d`` is
reset to the identity (weight 1, bias 0, running mean 0, running variance 1). A variance-preserving
draw keeps the randomised network's activations, and so its gradients, at a usable scale (PyTorch's
default ``kaiming_uniform(a=sqrt(5))`` shrinks them about 6-fold per layer), so that a map changes
because the model changed, not because the output went flat. Block ``b`` is drawn from its own
``torch.Generator`` seeded with ``sha256("{sanity.seed}/{b}")``: a block gets the same random weights at
every step in which it is randomised, and two runs give identical models.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Iterator, Sequence

import torch
from torch import nn

__all__ = ["CASCADE", "REINIT_RULE", "block_seed", "cascade_for", "cascade_networks", "randomize_blocks"]

CASCADE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("logits", ("logits",)),
    ("Mixed_5", ("Mixed_5c", "Mixed_5b")),
    ("Mixed_4f-4e", ("Mixed_4f", "Mixed_4e")),
    ("Mixed_4d-4b", ("Mixed_4d", "Mixed_4c", "Mixed_4b")),
    ("Mixed_3", ("Mixed_3c", "Mixed_3b")),
    ("Conv3d_2", ("Conv3d_2c_3x3", "Conv3d_2b_1x1")),
    ("Conv3d_1a", ("Conv3d_1a_7x7",)),
)
"""``(step label, I3D blocks re-initialised at that step)``, from the logits down; cumulative. A network truncated
after an earlier block (``I3D(final_endpoint=...)``) uses :func:`cascade_for`: the same steps without the blocks
it does not have."""

REINIT_RULE = ("Conv3d weights ~ N(0, gain^2 / fan_in), gain sqrt(2) (1 for logits), logits bias 0; "
               "BatchNorm3d reset to the identity; block b seeded with sha256('{seed}/{b}')")
"""The re-initialisation, in words, as the sanity records state it."""

_LINEAR_BLOCKS = frozenset({"logits"})
"""Blocks whose convolution is not followed by a ReLU (He gain 1 instead of sqrt(2))."""




def block_seed(seed: int, block: str) -> int:
    """The 63-bit seed of ``block``'s re-initialisation: ``sha256("{seed}/{block}")``."""
    digest = hashlib.sha256(f"{int(seed)}/{block}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def _reinit_module(module: nn.Module, generator: torch.Generator, gain: float) -> None:
    if isinstance(module, nn.Conv3d):
        fan_in = module.weight[0].numel()
        std = gain / math.sqrt(fan_in)
        draw = torch.randn(module.weight.shape, generator=generator, dtype=torch.float32)
        module.weight.copy_(draw.to(module.weight) * std)
        if module.bias is not None:
            module.bias.zero_()
    elif isinstance(module, nn.modules.batchnorm._BatchNorm):
        module.reset_parameters()  # weight 1, bias 0, running mean 0, running variance 1
    elif any(True for _ in module.parameters(recurse=False)):
        raise TypeError(f"randomize_blocks: no re-initialisation rule for {type(module).__name__}.")


def randomize_blocks(net: nn.Module, blocks: Sequence[str], *, seed: int) -> nn.Module:
    """Re-initialise the named top-level ``blocks`` of ``net`` in place (see the module docstring).

    Args:
        net: an :class:`benchmark.model.i3d.I3D` (or any module with those children).
        blocks: names of ``net``'s direct children, e.g. ``("Mixed_5c", "Mixed_5b")``.
        seed: the sanity seed; block ``b`` draws from :func:`block_seed` ``(seed, b)`` only.

    Returns:
        ``net`` (for chaining).

    Raises:
        ValueError: a name is not a child of ``net``.
    """
    children = dict(net.named_children())
    unknown = [b for b in blocks if b not in children]
    if unknown:
        raise ValueError(
            f"randomize_blocks: {unknown} are not blocks of the network; known: {sorted(children)}."
        )
    with torch.no_grad():
        for block in blocks:
            gen = torch.Generator().manual_seed(block_seed(seed, block))
            gain = 1.0 if block in _LINEAR_BLOCKS else math.sqrt(2.0)
            for module in children[block].modules():
                _reinit_module(module, gen, gain)
    return net


def cascade_for(net: nn.Module) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """:data:`CASCADE` restricted to the blocks ``net`` has (steps left empty are dropped), in the same order."""
    children = dict(net.named_children())
    steps = tuple((label, tuple(b for b in blocks if b in children)) for label, blocks in CASCADE)
    return tuple((label, blocks) for label, blocks in steps if blocks)


def cascade_networks(net: nn.Module, *, seed: int) -> Iterator[tuple[int, str, nn.Module]]:
    """The progressively randomised copies of ``net``: ``(step, label, network)`` for steps ``1..K``.

    Step ``k`` has the blocks of :func:`cascade_for` ``(net)[0..k-1]`` re-initialised; ``net`` is not modified.
    One copy is kept and advanced, so memory holds two networks at most.
    """
    current = copy.deepcopy(net).eval()
    for step, (label, blocks) in enumerate(cascade_for(net), start=1):
        randomize_blocks(current, blocks, seed=seed)
        yield step, label, current


