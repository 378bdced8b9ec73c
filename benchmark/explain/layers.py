"""Which Inception block a layer-based method reads, on the network it is actually handed.

A layer-based explainer (Grad-CAM) names a block of the I3D in its ``params`` (``layer: Mixed_4f``). A
profile may run a network that ends earlier (truncated after ``Mixed_4f`` or ``Mixed_3c``, with its own
``logits`` head), so a named block may be missing. :func:`resolve_block` applies one documented rule:

    **the named block; where the network does not have it, the deepest Inception block it has before
    that block in the I3D's order** (``Mixed_3b`` ... ``Mixed_5c``).

So ``Mixed_4f`` reads ``Mixed_4f`` on the full I3D, ``Mixed_3c`` on a network that ends at ``Mixed_3c``; it
never fails for a missing block, only for a name that is no Inception block of the I3D (a typo) or a
network without any block at or before it. The blocks are the network's children in forward order that
are Inception blocks (:class:`~benchmark.model.i3d.InceptionBlock`, or a child named like one).
"""

from __future__ import annotations

from torch import nn

from benchmark.model.i3d import INCEPTION_CHANNELS, InceptionBlock

__all__ = ["I3D_BLOCKS", "inception_blocks", "resolve_block", "unwrap_network"]

I3D_BLOCKS: tuple[str, ...] = tuple(INCEPTION_CHANNELS)
"""The I3D's Inception blocks in forward order: ``Mixed_3b``, ``Mixed_3c``, ``Mixed_4b`` ... ``Mixed_5c``."""


def unwrap_network(model: nn.Module) -> nn.Module:
    """The network inside ``ProbabilityModel`` (its ``net``), or ``model`` itself."""
    net = getattr(model, "net", None)
    return net if isinstance(net, nn.Module) else model


def inception_blocks(model: nn.Module) -> list[str]:
    """The names of the network's Inception blocks (children), in forward order."""
    net = unwrap_network(model)
    return [name for name, child in net.named_children()
            if isinstance(child, InceptionBlock) or name in INCEPTION_CHANNELS]


def resolve_block(model: nn.Module, name: str) -> str:
    """The block to read for ``name`` on ``model``'s network (the rule in the module docstring).

    Args:
        model: ``ProbabilityModel(I3D)`` or the network itself, full or truncated.
        name: an Inception block of the I3D (:data:`I3D_BLOCKS`), e.g. ``"Mixed_4f"``.

    Returns:
        A child name of the network: ``name``, or the deepest block before it that the network has.

    Raises:
        ValueError: ``name`` is not an I3D Inception block, or the network has no block at or before it.
    """
    if name not in I3D_BLOCKS:
        raise ValueError(f"params: layer must be one of the I3D's Inception blocks {list(I3D_BLOCKS)}, got {name!r}.")
    present = inception_blocks(model)
    if name in present:
        return name
    order = I3D_BLOCKS.index(name)
    earlier = [b for b in present if b in I3D_BLOCKS and I3D_BLOCKS.index(b) < order]
    if not earlier:
        raise ValueError(
            f"layer {name!r}: the network has no Inception block at or before it (it has {present or 'none'})."
        )
    return earlier[-1]
