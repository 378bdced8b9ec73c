"""Reference inputs for the explainers that take one and for deletion/insertion.

Protocol, "Baseline": the default is a per-frame spatial Gaussian blur, 9 x 9 kernel,
``sigma = 0.3 * ((9 - 1) / 2 - 1) + 0.8 = 1.7`` (OpenCV's default for that size), reflect padding
(``torch``'s ``"reflect"``, which does not repeat the edge pixel: OpenCV's ``BORDER_REFLECT_101``),
applied in model-input space. The documented alternative is black: pixel value 0, which the model's
``[-1, 1]`` normalisation maps to ``-1``.

Baselines are built under ``torch.no_grad`` (not inference mode), so explainers may use them in
autograd graphs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

BLUR_KERNEL_SIZE = 9
BLUR_SIGMA = 0.3 * ((BLUR_KERNEL_SIZE - 1) / 2 - 1) + 0.8
"""1.7: the sigma of the blurred baseline."""

BASELINES: tuple[str, ...] = ("blur", "black")


def default_sigma(size: int) -> float:
    """OpenCV's sigma for a Gaussian kernel of ``size`` taps: ``0.3 * ((size - 1) / 2 - 1) + 0.8``."""
    return 0.3 * ((size - 1) / 2 - 1) + 0.8


def gaussian_kernel(
    size: int = BLUR_KERNEL_SIZE, sigma: float | None = None, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """The normalised 1-D Gaussian ``(size,)``: ``exp(-x^2 / (2 sigma^2))`` at ``x = -(size-1)/2 .. (size-1)/2``.

    It sums to 1.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"size: expected an odd positive integer, got {size!r}.")
    sigma = default_sigma(size) if sigma is None else float(sigma)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma: expected a positive finite number, got {sigma!r}.")
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return (kernel / kernel.sum()).to(dtype)


def blur_baseline(clip: torch.Tensor, size: int = BLUR_KERNEL_SIZE, sigma: float | None = None) -> torch.Tensor:
    """Blur every frame of a clip spatially with a separable Gaussian (reflect padding).

    Args:
        clip: ``(C, T, H, W)`` or ``(B, C, T, H, W)`` floating-point tensor; ``H, W > size // 2``.
        size: kernel taps per axis (9 by the protocol).
        sigma: standard deviation in pixels; ``None`` gives :func:`default_sigma` (1.7 for 9 taps).

    Returns:
        The blurred clip: same shape, dtype and device. Time and channels are not mixed.
    """
    _check_clip(clip, "clip")
    pad = size // 2
    height, width = clip.shape[-2:]
    if height <= pad or width <= pad:
        raise ValueError(
            f"clip: frames of {height}x{width} are too small for reflect padding of {pad} pixels; "
            f"use frames larger than {pad}x{pad} or a smaller kernel."
        )
    kernel = gaussian_kernel(size, sigma, dtype=clip.dtype).to(clip.device)
    with torch.no_grad():
        frames = clip.reshape(-1, 1, height, width)
        frames = F.pad(frames, (pad, pad, pad, pad), mode="reflect")
        frames = F.conv2d(frames, kernel.view(1, 1, 1, size))
        frames = F.conv2d(frames, kernel.view(1, 1, size, 1))
    return frames.reshape(clip.shape)


def black_baseline(clip: torch.Tensor, value: float = -1.0) -> torch.Tensor:
    """A clip of ``value`` everywhere (``-1``: pixel 0 through the ``[-1, 1]`` normalisation).

    Same shape, dtype and device as ``clip``.
    """
    _check_clip(clip, "clip")
    return torch.full_like(clip, float(value))


def make_baseline(name: str, clip: torch.Tensor) -> torch.Tensor:
    """The baseline called ``name`` (``"blur"`` or ``"black"``) for ``clip`` ``(C, T, H, W)`` or ``(B, C, T, H, W)``."""
    if name == "blur":
        return blur_baseline(clip)
    if name == "black":
        return black_baseline(clip)
    raise ValueError(f"baseline: unknown name {name!r}; choose one of {BASELINES} (params.yaml: evaluate.baseline).")


def _check_clip(clip: torch.Tensor, name: str) -> None:
    if not isinstance(clip, torch.Tensor):
        raise ValueError(f"{name}: expected a torch tensor, got {type(clip).__name__}.")
    if clip.ndim not in (4, 5):
        raise ValueError(f"{name}: expected shape (C, T, H, W) or (B, C, T, H, W), got {tuple(clip.shape)}.")
    if not clip.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point tensor, got {clip.dtype}.")
