"""The log-odds score: log(p / (1 - p)) from the logits, finite where p saturates, the gradient of p up to a
positive factor per clip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmark.explain.scores import LogOdds, score_model
from benchmark.model.i3d import ProbabilityModel


class _Head(nn.Module):
    """``(B, 3, T, H, W) -> (B, classes)`` logits: a linear map of the voxels, scaled."""

    def __init__(self, classes: int, scale: float) -> None:
        super().__init__()
        self.linear = nn.Linear(3 * 2 * 4 * 6, classes)
        self.scale = scale
        with torch.no_grad():
            self.linear.weight.copy_(torch.randn(self.linear.weight.shape, generator=torch.Generator().manual_seed(0)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1)) * self.scale


def _clips(n: int = 3) -> torch.Tensor:
    return torch.rand((n, 3, 2, 4, 6), generator=torch.Generator().manual_seed(1)) * 2 - 1


@pytest.mark.parametrize("classes", [2, 4])
def test_log_odds_equal_log_p_over_one_minus_p(classes):
    model = ProbabilityModel(_Head(classes, 0.05)).eval()
    x = _clips().double()
    model.double()
    with torch.no_grad():
        p = model(x)
        ours = LogOdds(model)(x)
    torch.testing.assert_close(ours, torch.log(p) - torch.log1p(-p), rtol=1e-10, atol=1e-10)


def test_log_odds_stay_finite_and_exact_where_p_rounds_to_one():
    model = ProbabilityModel(_Head(2, 20.0)).eval()
    x = _clips()
    with torch.no_grad():
        p = model(x)[:, 1]
        z = model.net(x)
        ours = LogOdds(model)(x)[:, 1]
    assert (p == 1).any() or (p == 0).any(), "the head must saturate the softmax for this test"
    assert torch.isfinite(ours).all()
    assert torch.equal(ours, z[:, 1] - z[:, 0])


def test_the_gradient_is_the_gradient_of_p_times_a_positive_factor():
    model = ProbabilityModel(_Head(2, 0.3)).eval().double()
    x = _clips().double().requires_grad_(True)
    (grad_p,) = torch.autograd.grad(model(x)[:, 1].sum(), x)
    (grad_l,) = torch.autograd.grad(LogOdds(model)(x)[:, 1].sum(), x)
    with torch.no_grad():
        p = model(x)[:, 1]
    factor = (p * (1 - p)).view(-1, 1, 1, 1, 1)
    torch.testing.assert_close(grad_l * factor, grad_p, rtol=1e-9, atol=1e-14)


def test_other_models_are_read_as_probabilities():
    probabilities = nn.Sequential(nn.Flatten(), nn.Linear(144, 2), nn.Softmax(dim=1))
    x = _clips()
    with torch.no_grad():
        p = probabilities(x)
        torch.testing.assert_close(LogOdds(probabilities)(x), torch.log(p) - torch.log1p(-p))


def test_score_model():
    model = ProbabilityModel(_Head(2, 1.0))
    assert score_model(model, "probability") is model
    assert isinstance(score_model(model, "log_odds"), LogOdds)
    with pytest.raises(ValueError, match="score must be one of"):
        score_model(model, "logit")
