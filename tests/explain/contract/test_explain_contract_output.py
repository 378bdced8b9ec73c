"""check_output: what a submission returns."""

from __future__ import annotations

import pytest
import torch

from benchmark.explain.contract.errors import SubmissionError
from benchmark.explain.contract.output import check_output


@pytest.fixture
def clips() -> torch.Tensor:
    return torch.zeros(2, 3, 4, 5, 6)


def test_both_shapes_are_accepted_as_float32(clips):
    full = check_output(torch.ones(2, 3, 4, 5, 6, dtype=torch.float64), clips)
    assert full.dtype == torch.float32 and full.shape == clips.shape
    reduced = check_output(torch.ones(2, 4, 5, 6, requires_grad=True), clips)
    assert reduced.shape == (2, 4, 5, 6) and not reduced.requires_grad


@pytest.mark.parametrize(
    "attr, message",
    [
        (torch.ones(1, 3, 4, 5, 6), "shape (1, 3, 4, 5, 6)"),
        (torch.ones(2, 4, 5), "shape (2, 4, 5)"),
        (torch.ones(2, 3, 4, 5, 6, dtype=torch.int64), "dtype torch.int64"),
        (torch.full((2, 3, 4, 5, 6), float("nan")), "NaN/inf"),
        (torch.tensor(float("inf")).expand(2, 4, 5, 6), "NaN/inf"),
        ((torch.ones(2, 3, 4, 5, 6),), "returned tuple"),
    ],
)
def test_bad_outputs_name_the_submission(clips, attr, message):
    with pytest.raises(SubmissionError) as error:
        check_output(attr, clips, name="my_method")
    assert message in str(error.value)
    assert "submissions/my_method/explainer.py" in str(error.value)
