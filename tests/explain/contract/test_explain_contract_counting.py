"""PassCounter: forward and backward samples, checked against Captum's known costs."""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients, Occlusion

from benchmark.explain.contract.counting import PassCounter, PassCounts


def test_integrated_gradients_30_steps_in_batches_of_8(toy_model, toy_clips):
    counter = PassCounter(toy_model)
    IntegratedGradients(counter).attribute(
        toy_clips[:1], baselines=toy_clips[:1] * 0, target=1, n_steps=30, internal_batch_size=8
    )
    assert counter.counts == PassCounts(forward=30, backward=30)


def test_integrated_gradients_counts_scale_with_the_batch(toy_model, toy_clips):
    counter = PassCounter(toy_model)
    IntegratedGradients(counter).attribute(toy_clips, target=1, n_steps=5, internal_batch_size=4)
    assert counter.counts == PassCounts(forward=10, backward=10)


def test_occlusion_is_forward_only(toy_model, toy_clips):
    counter = PassCounter(toy_model)
    Occlusion(counter).attribute(
        toy_clips[:1],
        sliding_window_shapes=(3, 2, 4, 6),
        strides=(3, 2, 4, 6),
        target=1,
        perturbations_per_eval=3,
    )
    # 2 x 2 x 2 windows plus the unperturbed clip
    assert counter.counts == PassCounts(forward=9, backward=0)


def test_a_forward_without_grad_counts_no_backward(toy_model, toy_clips):
    counter = PassCounter(toy_model)
    with torch.inference_mode():
        out = counter(toy_clips)
    assert out.shape == (2, 2)
    assert counter.counts == PassCounts(forward=2, backward=0)


def test_backward_counts_only_where_a_gradient_reaches_the_output(toy_model, toy_clips):
    counter = PassCounter(toy_model)
    x = toy_clips.clone().requires_grad_(True)
    counter(x)  # a graph that nobody differentiates
    counter(x)[:, 1].sum().backward()
    assert counter.counts == PassCounts(forward=4, backward=2)
    counter.reset()
    assert counter.counts == PassCounts(0, 0)


def test_the_wrapper_is_transparent(toy_model, toy_clips):
    counter = PassCounter(toy_model)
    with torch.no_grad():
        assert torch.equal(counter(toy_clips), toy_model(toy_clips))
    assert toy_model.relu in list(counter.modules())
