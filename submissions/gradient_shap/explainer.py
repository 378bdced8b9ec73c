"""GradientSHAP (Captum 0.9 defaults) with the blurred clip as the only reference, in one batched pass.

Captum's ``GradientShap.attribute`` runs the estimator through ``NoiseTunnel``: it draws a reference
per sample (NumPy), adds Gaussian noise to ``n_samples`` copies of the clip (torch), draws a point
``x_j = r_j x + (1 - r_j) b`` between reference and clip per sample (NumPy), runs one forward and
backward pass over the ``n_samples`` points and averages ``(x - b) * grad_j``; on the way it
materialises a ``stdev`` tensor and the noise the size of the batch, and sums of squared
attributions it never returns. :func:`_draw` draws the same random numbers from the same global
generators in the same order, and :func:`explain` computes the same expression with the same
operations (for all clips in one pass), so
the attributions equal Captum's for the same seed bit for bit
(``tests/submissions/test_gradient_shap.py``). With ``stdevs = 0`` (the default) Captum's noise is an
exact zero; it is then not drawn (only torch's global RNG, which nothing else here reads, is left in
a different state inside :func:`seeded`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmark.explain.batching import batch_memory_format
from benchmark.explain.seeding import seeded


def explain(
    model: nn.Module,
    clips: torch.Tensor,
    *,
    target: int,
    baselines: torch.Tensor,
    params: Mapping[str, Any],
    generator: torch.Generator,
) -> torch.Tensor:
    """GradientSHAP attributions ``(B, 3, T, H, W)`` for ``clips`` ``(B, 3, T, H, W)``.

    Each clip is explained against its own blurred baseline (Captum would otherwise draw references
    from the whole batch). The random numbers come from torch's and NumPy's global RNGs, seeded from
    ``generator`` by :func:`seeded`, as Captum draws them. ``params``: ``n_samples`` (>= 1) and
    ``stdevs`` (>= 0). Cost: ``n_samples`` forward + backward samples per clip, every clip's in one batch
    (the harness passes one clip at a time).
    """
    n_samples, stdev = int(params["n_samples"]), float(params["stdevs"])
    if n_samples < 1 or not stdev >= 0:
        raise ValueError(
            f"gradient_shap: params n_samples must be >= 1 and stdevs >= 0, got {n_samples}, {stdev} "
            "(submission.yaml or params.yaml: profiles.<profile>.submission_params.gradient_shap)."
        )
    if baselines.shape != clips.shape:
        raise ValueError(
            f"gradient_shap: baselines {tuple(baselines.shape)} must have the clips' shape {tuple(clips.shape)}."
        )
    inputs, references = clips.detach(), baselines.detach()
    with seeded(generator):  # every clip's numbers drawn in turn, as clip-by-clip calls would draw them
        drawn = [_draw(inputs[i : i + 1], references[i : i + 1], n_samples, stdev) for i in range(inputs.shape[0])]
    noisy = torch.cat([d[0].expand(n_samples, *inputs.shape[1:]) for d in drawn])  # (B * n, C, T, H, W)
    points = torch.cat([d[1] for d in drawn])
    reference = references.repeat_interleave(n_samples, dim=0)
    # one forward + backward pass over every clip's samples; channels-last where it runs in oneDNN
    with torch.enable_grad():
        points = points.contiguous(memory_format=batch_memory_format(points)).requires_grad_()
        outputs = model(points)[:, target]
        (gradients,) = torch.autograd.grad(outputs, points, grad_outputs=torch.ones_like(outputs))
    attributions = ((noisy - reference) * gradients).view(inputs.shape[0], n_samples, *inputs.shape[1:])
    return (attributions.sum(dim=1) * 1 / n_samples).contiguous()  # NoiseTunnel's expression, rounding included


def _draw(
    clip: torch.Tensor, baseline: torch.Tensor, n_samples: int, stdev: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Captum's random draws for one clip ``(1, C, T, H, W)``: ``(x~, p)``, the noisy clip ``x~``
    (``(1, ...)`` when ``stdev == 0``, else ``(n, ...)``) and the points ``p_j = r_j x~_j + (1 - r_j) b``
    ``(n, C, T, H, W)`` with ``r_j ~ U(0, 1)``; GradientSHAP is ``mean_j (x~_j - b) * d model(p_j) / d p_j``.
    """
    samples = (n_samples, *clip.shape[1:])
    # NoiseTunnel draws the references first: n_samples indices into the (single) baseline.
    # With one baseline every index is 0, so the baseline itself broadcasts to Captum's n copies.
    np.random.choice(baseline.shape[0], n_samples)
    if stdev > 0:
        noisy = clip + torch.normal(0, torch.tensor(stdev, device=clip.device).repeat(samples))
    else:
        noisy = clip  # Captum adds an exact zero; broadcasting gives the same values as its n copies
    rand = torch.tensor(np.random.uniform(0.0, 1.0, n_samples), device=clip.device, dtype=clip.dtype)
    rand = rand.view(n_samples, *([1] * (clip.dim() - 1)))
    return noisy, rand * noisy + (1.0 - rand) * baseline
