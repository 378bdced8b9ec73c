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

On the project's I3D (``engine="auto"``) the perturbed clips are not even built: the model's first
convolution is split by feature (:mod:`benchmark.explain.engines.stem_split`), so a batch costs one matrix
product instead of its first convolutions and its copies of the clip. The similarity must then come
from the interpretable samples alone: KernelSHAP's kernel reads only them, and LIME's exponential
kernel is computed from per-feature sums by :class:`FeatureExpKernel` (the distance between ``x`` and
``x_z`` adds up over the features ``x_z`` takes from the baseline). Other similarity functions and other
models take the path above. The weights equal the plain path's to rounding (the tests check both).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import torch
from captum.attr import KernelShap, Lime
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from benchmark.explain.batching import model_memory_format
from benchmark.explain.engines.stem_split import stem_split

__all__ = ["ENGINES", "FeatureExpKernel", "surrogate_weights", "kernel_shap_kwargs"]

ENGINES: tuple[str, ...] = ("auto", "plain")
"""``auto``: split the I3D's first convolution by feature where possible; ``plain``: build every clip."""

_STEM_BUDGET_BYTES = 1024**3
"""The most memory the per-feature first-layer responses may take (70 supervoxels: 39 MB at the default
profile, 1.7 GB at the paper's 158x237 with the full-width I3D, which then takes the plain path)."""


class FeatureExpKernel:
    """Captum's exponential similarity kernel (``get_exp_kernel_similarity_function``), also computable
    from interpretable samples alone.

    ``similarity = exp(-d^2 / (2 * kernel_width^2))`` with ``d`` the Euclidean distance, or one minus
    the cosine similarity, between the flattened clip ``x`` and the perturbed clip ``x_z``. Called
    like Captum's kernel (``(original, perturbed, sample, **kwargs) -> float``) it computes exactly that.
    :meth:`for_features` returns the same function of the samples ``z`` (``(n, K)``) for clips made of
    features of ``x`` or ``b``: the squared distance, the dot product and the norms add up over the
    features, so they come from per-feature sums (float64) without building ``x_z``.

    Args:
        distance: ``"euclidean"`` or ``"cosine"``.
        kernel_width: the kernel's width.
    """

    def __init__(self, distance: str = "euclidean", kernel_width: float = 1.0) -> None:
        if distance not in ("euclidean", "cosine"):
            raise ValueError(f"FeatureExpKernel: distance must be 'euclidean' or 'cosine', got {distance!r}.")
        if not kernel_width > 0:
            raise ValueError(f"FeatureExpKernel: kernel_width must be > 0, got {kernel_width!r}.")
        self.distance, self.kernel_width = distance, float(kernel_width)

    def __call__(self, original_inp: torch.Tensor, perturbed_inp: torch.Tensor, _sample: Any, **_: Any) -> float:
        x, y = original_inp.flatten().float(), perturbed_inp.flatten().float()
        if self.distance == "euclidean":
            d = torch.norm(x - y)
        else:
            d = 1 - torch.nn.functional.cosine_similarity(x, y, dim=0)
        return math.exp(-1 * (d**2) / (2 * (self.kernel_width**2)))

    def for_features(
        self, clip: torch.Tensor, baseline: torch.Tensor, feature_mask: torch.Tensor
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """``z (n, K) -> similarities (n,)`` (float64) for ``x`` = ``clip``, ``b`` = ``baseline``
        (``(1, C, T, H, W)``) and ``feature_mask`` ``(T, H, W)`` with ids ``0..K-1``."""
        ids = feature_mask.flatten().to(clip.device)
        k = int(ids.max()) + 1
        x = clip[0].double().flatten(1)  # (C, T*H*W)
        b = baseline[0].double().flatten(1)

        def per_feature(values: torch.Tensor) -> torch.Tensor:  # (C, THW) -> (K,)
            return torch.zeros(k, dtype=torch.float64, device=clip.device).index_add_(0, ids, values.sum(0))

        width2 = 2 * self.kernel_width**2
        if self.distance == "euclidean":
            dd = per_feature((x - b) ** 2)

            def similarities(z: torch.Tensor) -> torch.Tensor:
                d2 = (1 - z.double()) @ dd
                return torch.exp(-d2.clamp(min=0) / width2)

            return similarities
        xx, xb, bb = per_feature(x * x), per_feature(x * b), per_feature(b * b)

        def cosine(z: torch.Tensor) -> torch.Tensor:
            z = z.double()
            dot = z @ xx + (1 - z) @ xb
            norm = torch.sqrt(xx.sum()) * torch.sqrt((z @ xx + (1 - z) @ bb).clamp(min=0))
            d = 1 - dot / norm.clamp(min=1e-8)
            return torch.exp(-(d**2) / width2)

        return cosine


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
    engine: str = "auto",
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
            Plain engine only.
        engine: ``"auto"``: the first-convolution split (:mod:`benchmark.explain.engines.stem_split`) when the model
            is the project's eval-mode I3D, the responses fit in 1 GiB and the similarity can come from the
            samples (KernelSHAP's kernel, :class:`FeatureExpKernel`); else, and with ``"plain"``, every
            perturbed clip is built and run.

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
    if engine not in ENGINES:
        raise ValueError(f"surrogate_weights: engine must be one of {ENGINES}, got {engine!r}.")
    layout = model_memory_format(clip) if memory_format is None else memory_format
    num_features = int(feature_mask.max()) + 1
    full_mask = feature_mask.expand_as(clip[0]).unsqueeze(0)
    kwargs = {"feature_mask": full_mask, "baselines": baseline, "num_interp_features": num_features}
    kwargs.update(extra_kwargs or {})

    draw = _sampler(explainer, clip, kwargs)
    samples = torch.cat([draw() for _ in range(n_samples)])  # (n, K): drawn in Captum's order
    similarity = _sample_similarity(explainer, clip, baseline, feature_mask, kwargs) if engine == "auto" else None
    split = None
    if similarity is not None:
        split, _ = stem_split(model, clip, baseline, feature_mask, budget_bytes=_STEM_BUDGET_BYTES)
    if split is not None:
        outputs, similarities = [], similarity(samples)
        for start in range(0, n_samples, batch_size):
            out = split.probabilities(samples[start : start + batch_size])
            outputs.append(out[:, target])
    else:
        outputs, similarities = _plain_outputs(explainer, model, clip, baseline, feature_mask, samples, kwargs,
                                               target=target, batch_size=batch_size, layout=layout)
    dataset = TensorDataset(samples.float(), torch.cat(outputs).float(), similarities.float())
    explainer.interpretable_model.fit(DataLoader(dataset, batch_size=n_samples))
    return explainer.interpretable_model.representation().detach().flatten()


def _plain_outputs(explainer, model, clip, baseline, feature_mask, samples, kwargs, *, target, batch_size, layout):
    """Build every perturbed clip, run it, and call the explainer's similarity on it (Captum's arguments)."""
    n_samples = len(samples)
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
    return outputs, torch.cat(similarities)


def _sample_similarity(
    explainer, clip, baseline, feature_mask, kwargs
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``z (n, K) -> similarities (n,)`` without the perturbed clips, or ``None`` when the explainer's
    similarity function may need them."""
    func = explainer.similarity_func
    if isinstance(func, FeatureExpKernel):
        return func.for_features(clip, baseline, feature_mask)
    default_shap_kernel = getattr(func, "__func__", None) is KernelShap.kernel_shap_similarity_kernel
    if isinstance(explainer, KernelShap) and default_shap_kernel:

        def kernel_shap(z: torch.Tensor) -> torch.Tensor:  # reads only the sample (Captum's arguments otherwise)
            return torch.cat([func(clip, None, z[i : i + 1], **kwargs).flatten() for i in range(len(z))])

        return kernel_shap
    return None


def _sampler(explainer: Lime, clip: torch.Tensor, kwargs: dict[str, Any]):
    """A callable returning the next interpretable sample ``(1, K)`` of the explainer's perturb_func."""
    perturb = explainer.perturb_func
    if inspect.isgeneratorfunction(perturb):
        generator = perturb(clip, **kwargs)
        return lambda: next(generator)
    return lambda: perturb(clip, **kwargs)
