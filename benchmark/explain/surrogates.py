"""Captum's LIME and KernelSHAP estimators over a feature mask, without the per-sample overhead.

Captum's ``LimeBase.attribute`` builds every perturbed clip on its own (a full-size mask, two
products and a sum per sample), concatenates them into batches and only then runs the model. On a
video that bookkeeping costs as much as the model. :func:`surrogate_weights` runs the *same*
estimator of a Captum ``Lime`` / ``KernelShap`` object:

* the interpretable samples come from the explainer's own ``perturb_func`` (a function or a
  generator), drawn in the same order from the same global RNG, so a seeded run draws exactly the
  samples Captum would draw (nothing else in the loop consumes random numbers);
* each sample's model input is ``where(z[feature_mask], x, b)``, built batch by batch in place
  (Captum's ``z * x + (1 - z) * b`` gives the same values);
* each sample's similarity is the explainer's own ``similarity_func`` called with the same
  arguments, and the surrogate is the explainer's own ``interpretable_model`` fitted on the same
  ``(samples, outputs, similarities)`` dataset.

With ``batch_size`` equal to Captum's ``perturbations_per_eval`` and
``memory_format=torch.contiguous_format`` the result equals Captum's
``attribute(..., return_input_shape=False)`` bit for bit (the tests check it).

By default the model sees its batches channels-last on a CPU (:func:`model_memory_format`): the
same values in another order in memory. With one CPU thread and batches of 16 or more, PyTorch runs
every convolution of the I3D through oneDNN, which then keeps channels-last activations, and
``max_pool3d`` on channels-last activations is several times faster than on contiguous ones (on
contiguous ones it took half of the forward time). Measured on the I3D at width 0.25, 20x48x72, one
thread: 14.3 ms per forward sample at batch 16 contiguous, 7.0-7.8 ms channels-last at batch 16-32
(13.4-14.2 ms below batch 16, hence :func:`benchmark.explain.batching.forward_batch_size`). oneDNN
may pick other kernels for the other layout, so model outputs can differ in the last bits (about
1e-11 on the I3D's probabilities) and the surrogate weights from Captum's by rounding (relative
differences of 2e-7 to 6e-6 on real UCSD clips with the trained model).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from captum.attr import Lime
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from benchmark.explain.batching import model_memory_format

__all__ = ["surrogate_weights", "kernel_shap_kwargs"]


def kernel_shap_kwargs(num_features: int) -> dict[str, Any]:
    """The extra perturbation arguments Captum's ``KernelShap.attribute`` passes: the distribution of
    coalition sizes ``p(k) ~ (M - 1) / (k (M - k))`` (``p(0) = 0``), as a ``Categorical``."""
    from torch.distributions.categorical import Categorical

    sizes = torch.arange(num_features, dtype=torch.float)
    probs = torch.tensor(num_features - 1) / (sizes * (num_features - sizes))
    probs[0] = 0.0
    return {"num_select_distribution": Categorical(probs)}


def surrogate_weights(
    explainer: Lime,
    model: nn.Module,
    clip: torch.Tensor,
    baseline: torch.Tensor,
    feature_mask: torch.Tensor,
    *,
    target: int,
    n_samples: int,
    batch_size: int,
    extra_kwargs: dict[str, Any] | None = None,
    memory_format: torch.memory_format | None = None,
) -> torch.Tensor:
    """The surrogate's weights, one per feature, as Captum's ``explainer.attribute`` computes them.

    Args:
        explainer: a Captum ``Lime`` (or ``KernelShap``) whose ``perturb_func``, ``similarity_func``
            and ``interpretable_model`` define the estimator.
        model: ``(N, C, T, H, W) -> (N, classes)``; run under ``torch.no_grad``.
        clip: ``x``, ``(1, C, T, H, W)``.
        baseline: ``b``, the same shape.
        feature_mask: ``(T, H, W)`` integer ids ``0..K-1`` (shared by every channel).
        target: the explained output column.
        n_samples: perturbed samples.
        batch_size: samples per model call (Captum's ``perturbations_per_eval``).
        extra_kwargs: further keyword arguments Captum passes to the perturbation and similarity
            functions (KernelSHAP: :func:`kernel_shap_kwargs`).
        memory_format: the layout of the batches the model sees (``None``: :func:`model_memory_format`;
            ``torch.contiguous_format``: Captum's). ``similarity_func`` sees contiguous samples, as in Captum.

    Returns:
        ``(K,)`` weights (what ``return_input_shape=False`` returns, flattened).
    """
    if clip.dim() != 5 or clip.shape[0] != 1 or baseline.shape != clip.shape:
        raise ValueError(
            f"surrogate_weights: clip and baseline must both be (1, C, T, H, W), got {tuple(clip.shape)} "
            f"and {tuple(baseline.shape)}."
        )
    if tuple(feature_mask.shape) != tuple(clip.shape[2:]) or feature_mask.dtype != torch.long:
        raise ValueError(
            f"surrogate_weights: feature_mask must be a LongTensor {tuple(clip.shape[2:])}, got "
            f"{tuple(feature_mask.shape)} {feature_mask.dtype}."
        )
    if n_samples < 1 or batch_size < 1:
        raise ValueError(f"surrogate_weights: n_samples and batch_size must be >= 1, got {n_samples}, {batch_size}.")
    layout = model_memory_format(clip) if memory_format is None else memory_format
    num_features = int(feature_mask.max()) + 1
    full_mask = feature_mask.expand_as(clip[0]).unsqueeze(0)
    kwargs = {"feature_mask": full_mask, "baselines": baseline, "num_interp_features": num_features}
    kwargs.update(extra_kwargs or {})

    draw = _sampler(explainer, clip, kwargs)
    samples = torch.cat([draw() for _ in range(n_samples)])  # (n, K): drawn in Captum's order
    mask_index = feature_mask.to(clip.device).flatten()
    outputs, similarities = [], []
    with torch.no_grad():
        buffer = clip.new_empty((min(batch_size, n_samples), *clip.shape[1:]))
        for start in range(0, n_samples, batch_size):
            chunk = samples[start : start + batch_size].to(clip.device)
            batch = buffer[: len(chunk)]
            # (n, 1, T, H, W): each voxel's feature kept or not (index_select, then bool: the fastest)
            keep = chunk.index_select(1, mask_index).bool().view(len(chunk), 1, *feature_mask.shape)
            torch.where(keep, clip, baseline, out=batch)
            for i in range(len(chunk)):
                sim = explainer.similarity_func(clip, batch[i : i + 1], chunk[i : i + 1], **kwargs)
                similarities.append(
                    sim.flatten() if isinstance(sim, torch.Tensor) else torch.tensor([sim], device=clip.device)
                )
            out = model(batch.contiguous(memory_format=layout))  # a copy unless layout is contiguous
            outputs.append(out[:, target] if out.dim() == 2 else out)
    dataset = TensorDataset(samples.float(), torch.cat(outputs).float(), torch.cat(similarities).float())
    explainer.interpretable_model.fit(DataLoader(dataset, batch_size=n_samples))
    return explainer.interpretable_model.representation().detach().flatten()


def _sampler(explainer: Lime, clip: torch.Tensor, kwargs: dict[str, Any]):
    """A callable returning the next interpretable sample ``(1, K)`` of the explainer's perturb_func."""
    perturb = explainer.perturb_func
    if inspect.isgeneratorfunction(perturb):
        generator = perturb(clip, **kwargs)
        return lambda: next(generator)
    return lambda: perturb(clip, **kwargs)
