"""Which models the layer-by-layer engines take.

The engines that run the project's I3D piecewise (incremental occlusion, the LIME/KernelSHAP
first-convolution split) reach into ``ProbabilityModel(I3D)``, run some layers themselves and the rest with
the network's own modules (:mod:`benchmark.model.graph`). Every sample they evaluate ends in the network's
own ``logits`` layer, where the harness counts model passes (:mod:`benchmark.harness.metering`), so forward
samples mean the same whichever engine ran.
"""

from __future__ import annotations

from torch import nn

from benchmark.model.i3d import I3D, ProbabilityModel


def unwrap_i3d(model: nn.Module) -> tuple[I3D | None, str]:
    """``(I3D, "")`` when ``model`` is ``ProbabilityModel(I3D)``, else ``(None, reason)``."""
    inner = model
    if not isinstance(inner, ProbabilityModel):
        return None, f"the model is a {type(inner).__name__}, not benchmark.model.i3d.ProbabilityModel(I3D)"
    if type(inner.net) is not I3D:
        return None, f"the wrapped network is a {type(inner.net).__name__}, not benchmark.model.i3d.I3D"
    return inner.net, ""


def layerwise_support(model: nn.Module) -> str:
    """``""`` when ``model`` is an eval-mode ``ProbabilityModel(I3D)`` (see :func:`unwrap_i3d`), else why not."""
    net, reason = unwrap_i3d(model)
    if net is None:
        return reason
    if any(m.training for m in net.modules()):
        return "the I3D is in training mode (BatchNorm then mixes the batch, so layers are not local); call .eval()"
    return ""
