"""Each baseline, and each added method that is a Captum method, as a plain Captum call with Captum's
default performance settings.

Same method and method parameters as the submission (steps, samples, windows, supervoxels, layer), but
Captum's defaults for everything that only changes speed: ``perturbations_per_eval=1``,
``internal_batch_size=None`` and ``return_input_shape=True`` (Captum spreads the surrogate weights
itself). These are what a user gets from the Captum documentation; the benchmark reports our time
against them. RISE and extremal perturbations have no Captum counterpart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from captum._utils.models.linear_model import SkLearnLasso
from captum.attr import (
    FeatureAblation,
    GradientShap,
    GuidedBackprop,
    IntegratedGradients,
    KernelShap,
    LayerAttribution,
    LayerGradCam,
    Lime,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from captum.attr._core.lime import get_exp_kernel_similarity_function
from torch import nn

from benchmark.explain.geometry import scale_window
from benchmark.explain.layers import resolve_block
from benchmark.explain.scores import score_model
from benchmark.explain.seeding import seeded
from benchmark.explain.supervoxels import slic_supervoxels

CaptumRun = Callable[[nn.Module, torch.Tensor, torch.Tensor, Mapping[str, Any], torch.Generator, int], torch.Tensor]
"""``run(model, clip (1, 3, T, H, W), baseline, params, generator, target) -> attributions``."""


def _ig(model, x, b, params, generator, target):
    return IntegratedGradients(model).attribute(
        x.clone(), baselines=b.clone(), target=target, n_steps=int(params["n_steps"]), method=str(params["method"])
    )


def _ig_sg(model, x, b, params, generator, target):
    with seeded(generator):
        return NoiseTunnel(IntegratedGradients(model)).attribute(
            x.clone(), nt_type=str(params["nt_type"]), nt_samples=int(params["nt_samples"]),
            stdevs=float(params["stdevs"]), baselines=b.clone(), target=target,
            n_steps=int(params["n_steps"]), method=str(params["method"]),
        )


def _gradient_shap(model, x, b, params, generator, target):
    with seeded(generator):
        return GradientShap(model).attribute(
            x.clone(), baselines=b.clone(), n_samples=int(params["n_samples"]), stdevs=float(params["stdevs"]),
            target=target,
        )


def _guided_backprop(model, x, b, params, generator, target):
    return GuidedBackprop(model).attribute(x.clone().requires_grad_(True), target=target)


def _occlusion(model, x, b, params, generator, target):
    channels, _, height, width = x.shape[1:]
    window = scale_window(params["window"], (height, width))
    stride = scale_window(params["stride"], (height, width))
    with torch.no_grad():
        return Occlusion(model).attribute(
            x.clone(), sliding_window_shapes=(channels, *window), strides=(channels, *stride),
            baselines=b.clone(), target=target,
        )


def _lime(model, x, b, params, generator, target):
    lime = Lime(
        model,
        interpretable_model=SkLearnLasso(alpha=float(params["alpha"])),
        similarity_func=get_exp_kernel_similarity_function(
            str(params["distance"]), kernel_width=float(params["kernel_width"])
        ),
    )
    segments = slic_supervoxels(x[0], int(params["n_segments"]), float(params["compactness"]))
    with seeded(generator), torch.no_grad():
        return lime.attribute(
            x.clone(), baselines=b.clone(), target=target, feature_mask=segments.expand_as(x[0]).unsqueeze(0),
            n_samples=int(params["n_samples"]),
        )


def _kernel_shap(model, x, b, params, generator, target):
    segments = slic_supervoxels(x[0], int(params["n_segments"]), float(params["compactness"]))
    with seeded(generator), torch.no_grad():
        return KernelShap(model).attribute(
            x.clone(), baselines=b.clone(), target=target, feature_mask=segments.expand_as(x[0]).unsqueeze(0),
            n_samples=int(params["n_samples"]),
        )


def _grad_cam(model, x, b, params, generator, target):
    layer = getattr(model.net, resolve_block(model, str(params["layer"])))
    cam = LayerGradCam(score_model(model, str(params["score"])), layer).attribute(
        x.clone(), target=target, relu_attributions=bool(params["relu"])
    )
    return LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode=str(params["interpolation"]))


def _saliency(model, x, b, params, generator, target):
    return Saliency(score_model(model, str(params["score"]))).attribute(
        x.clone().requires_grad_(True), target=target, abs=bool(params["abs"])
    )


def _feature_ablation(model, x, b, params, generator, target):
    segments = slic_supervoxels(x[0], int(params["n_segments"]), float(params["compactness"]))
    with torch.no_grad():
        return FeatureAblation(model).attribute(
            x.clone(), baselines=b.clone(), target=target, feature_mask=segments.expand_as(x[0]).unsqueeze(0)
        )


CAPTUM_DEFAULTS: dict[str, CaptumRun] = {
    "integrated_gradients": _ig,
    "ig_smoothgrad": _ig_sg,
    "gradient_shap": _gradient_shap,
    "guided_backprop": _guided_backprop,
    "occlusion_large": _occlusion,
    "occlusion_small": _occlusion,
    "lime": _lime,
    "kernel_shap": _kernel_shap,
    "grad_cam": _grad_cam,
    "saliency": _saliency,
    "supervoxel_ablation": _feature_ablation,
}
"""The methods that are a Captum method, by submission name (``random``, ``rise`` and ``extremal_perturbation``
have no Captum counterpart)."""
