"""The score a gradient is taken of: ``p(target)`` itself, or its log-odds (the same direction, no underflow).

Every explainer explains ``p(target)``, the softmax output of the model it is handed. For a method that reads
the gradient at **one** input (plain saliency, Grad-CAM), the log-odds ``l = log(p / (1 - p))`` gives the
same explanation: ``d l / d x = (d p / d x) / (p (1 - p))``, the gradient of ``p`` times a positive number per
clip, and no metric depends on the scale of a map. It is also the better-conditioned one. In float32 the
softmax's backward multiplies by ``1 - p``, which is a few units in the last place when ``p`` is near 1: the
gradient of ``p`` then weighs the target logit with a relative error of 1 % at log-odds 12.6 and 17 % at 15
(the default profile's model reaches 15.4 on evaluation clips; measured against float64), and drops it
altogether from log-odds 17, where ``p`` rounds to 1. The log-odds of ``ProbabilityModel(net)`` are computed from
the network's logits, ``z_t - logsumexp(z_others)`` (``z_1 - z_0`` with two classes), without a softmax.

Methods that combine gradients or outputs at several inputs (Integrated Gradients, occlusion, RISE,
ablation) are *not* invariant to this choice and explain ``p`` itself. Extremal perturbations optimise a
reward, for which the authors use the network's scores: the log-odds (:mod:`benchmark.explain.extremal`).

:class:`LogOdds` is a drop-in replacement for the model: it maps ``(B, ...)`` to ``(B, classes)`` log-odds,
so Captum's ``target`` selects a class as before. Every evaluation still runs the network's ``logits`` layer,
where the harness counts passes.
"""

from __future__ import annotations

import torch
from torch import nn

from benchmark.model.i3d import ProbabilityModel

__all__ = ["SCORES", "LogOdds", "score_model"]

SCORES: tuple[str, ...] = ("log_odds", "probability")
"""``log_odds``: :class:`LogOdds` of the model; ``probability``: the model itself (``p``)."""


class LogOdds(nn.Module):
    """``x -> log(p_c / (1 - p_c))`` for every class ``c``: ``(B, ...)`` to ``(B, classes)``.

    For :class:`~benchmark.model.i3d.ProbabilityModel` the values come from the network's logits ``z``:
    ``z_c - logsumexp_{k != c} z_k``, exact and finite however confident the network is. Any other model is
    taken to return probabilities, and its log-odds are ``log(p) - log1p(-p)`` (infinite where ``p`` rounds to
    0 or 1).

    Args:
        model: the explained model (``ProbabilityModel(I3D)`` in the harness); not modified.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.model, ProbabilityModel):
            z = self.model.net(x)
            if z.shape[1] == 2:  # the benchmark's head: exactly z_1 - z_0 and its negative
                d = z[:, 1] - z[:, 0]
                return torch.stack([-d, d], dim=1)
            others = torch.eye(z.shape[1], dtype=torch.bool, device=z.device)
            rest = z.unsqueeze(1).expand(-1, z.shape[1], -1).masked_fill(others, -torch.inf)
            return z - torch.logsumexp(rest, dim=2)
        p = self.model(x)
        return torch.log(p) - torch.log1p(-p)


def score_model(model: nn.Module, score: str) -> nn.Module:
    """The function a gradient method differentiates: ``model`` (``"probability"``) or :class:`LogOdds`
    of it (``"log_odds"``).

    Raises:
        ValueError: ``score`` is not one of :data:`SCORES` (the message names the submission param).
    """
    if score == "probability":
        return model
    if score == "log_odds":
        return LogOdds(model)
    raise ValueError(f"params: score must be one of {list(SCORES)}, got {score!r}.")
