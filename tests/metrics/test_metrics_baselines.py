"""The blurred and black baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from benchmark.metrics import BLUR_SIGMA, black_baseline, blur_baseline, gaussian_kernel, make_baseline


def test_kernel_sums_to_one_and_has_sigma_1_7():
    assert BLUR_SIGMA == pytest.approx(1.7, abs=1e-12)
    k = gaussian_kernel().numpy()
    assert k.shape == (9,)
    assert k.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(k, k[::-1], rtol=0, atol=0)
    # k[x] / k[0] = exp(-x^2 / (2 sigma^2)) recovers sigma from any tap
    for x in range(1, 5):
        sigma = math.sqrt(-(x**2) / (2 * math.log(k[4 + x] / k[4])))
        assert sigma == pytest.approx(1.7, abs=1e-12)


def _reference_blur(clip: np.ndarray) -> np.ndarray:
    """Direct 9 x 9 correlation of every frame with the outer-product kernel after reflect padding."""
    k = gaussian_kernel().numpy()
    k2 = np.outer(k, k)
    out = np.empty_like(clip)
    for index in np.ndindex(clip.shape[:-2]):
        frame = np.pad(clip[index], 4, mode="reflect")
        H, W = clip.shape[-2:]
        for y in range(H):
            for x in range(W):
                out[index + (y, x)] = (frame[y : y + 9, x : x + 9] * k2).sum()
    return out


def test_blur_matches_a_direct_2d_convolution():
    clip = np.random.default_rng(0).normal(size=(3, 2, 7, 11))
    got = blur_baseline(torch.from_numpy(clip)).numpy()
    np.testing.assert_allclose(got, _reference_blur(clip), rtol=0, atol=1e-12)


def test_blur_keeps_constants_frames_and_channels_apart():
    assert torch.allclose(blur_baseline(torch.full((3, 2, 6, 6), 0.3)), torch.full((3, 2, 6, 6), 0.3))
    clip = torch.zeros(3, 4, 20, 20, dtype=torch.float64)
    clip[1, 2, 10, 10] = 1.0
    out = blur_baseline(clip)
    assert out[1, 2].sum().item() == pytest.approx(1.0, abs=1e-12)  # away from the border: mass kept
    out[1, 2] = 0.0
    assert out.abs().max().item() == 0.0  # nothing leaked into other frames or channels


def test_blur_batches_and_keeps_dtype_and_shape():
    clips = torch.randn(2, 3, 2, 8, 9)
    out = blur_baseline(clips)
    assert out.shape == clips.shape and out.dtype == torch.float32
    assert torch.equal(out[1], blur_baseline(clips[1]))


def test_baselines_can_enter_autograd_graphs():
    clip = torch.randn(3, 2, 8, 8)
    x = torch.randn(3, 2, 8, 8, requires_grad=True)
    ((x - blur_baseline(clip)) ** 2).sum().backward()
    assert x.grad is not None


def test_black_and_make_baseline():
    clip = torch.randn(3, 2, 8, 8)
    black = black_baseline(clip)
    assert torch.equal(black, torch.full_like(clip, -1.0))
    assert torch.equal(make_baseline("black", clip), black)
    assert torch.equal(make_baseline("blur", clip), blur_baseline(clip))
    with pytest.raises(ValueError, match="blur"):
        make_baseline("gray", clip)


def test_bad_inputs():
    with pytest.raises(ValueError, match="too small"):
        blur_baseline(torch.zeros(3, 2, 4, 20))
    with pytest.raises(ValueError, match="floating"):
        blur_baseline(torch.zeros(3, 2, 10, 10, dtype=torch.uint8))
    with pytest.raises(ValueError, match="shape"):
        black_baseline(torch.zeros(10, 10))
    with pytest.raises(ValueError, match="odd"):
        gaussian_kernel(8)
