"""Metric declarations: names, directions, families and the primary set."""

from __future__ import annotations

import pytest

from benchmark.metrics import (
    METRIC_FAMILIES,
    METRICS,
    MetricSpec,
    cost_names,
    get_metric,
    metrics_in_family,
    primary_metrics,
    register,
    score_names,
)
from benchmark.metrics.cost import COST_METRICS
from benchmark.metrics.faithfulness import FAITHFULNESS_METRICS
from benchmark.metrics.localization import LOCALIZATION_METRICS
from benchmark.metrics.robustness import ROBUSTNESS_METRICS

EXPECTED = {
    "clip_iou": ("human-centric", "higher", True),
    "clip_f1": ("human-centric", "higher", True),
    "clip_auc": ("human-centric", "higher", True),
    "frame_iou": ("human-centric", "higher", True),
    "frame_f1": ("human-centric", "higher", True),
    "frame_auc": ("human-centric", "higher", True),
    "deletion": ("model-centric", "higher", True),
    "insertion": ("model-centric", "lower", True),
    "mauc": ("robustness", "higher", True),
    "stdauc": ("robustness", "lower", False),
    "cv": ("robustness", "lower", False),
    "runtime_s": ("cost", "lower", False),
    "forward_samples": ("cost", "lower", False),
    "backward_samples": ("cost", "lower", False),
}


def test_every_metric_is_declared_as_specified():
    assert set(METRICS) == set(EXPECTED)
    for name, (family, direction, primary) in EXPECTED.items():
        spec = get_metric(name)
        assert (spec.name, spec.family, spec.direction, spec.primary) == (name, family, direction, primary)
        assert spec.label and spec.description
        assert spec.higher_is_better == (direction == "higher")


def test_primary_metrics_and_families():
    assert [s.name for s in primary_metrics()] == [
        "clip_iou", "clip_f1", "clip_auc", "frame_iou", "frame_f1", "frame_auc",
        "deletion", "insertion", "mauc",
    ]
    assert [s.name for s in metrics_in_family("robustness")] == ["mauc", "stdauc", "cv"]
    assert set(METRIC_FAMILIES) == {s.family for s in METRICS.values()}
    with pytest.raises(ValueError, match="family"):
        metrics_in_family("speed")


def test_every_declared_tuple_is_registered_in_one_place():
    declared = (*COST_METRICS, *FAITHFULNESS_METRICS, *LOCALIZATION_METRICS, *ROBUSTNESS_METRICS)
    assert list(METRICS.values()) == list(declared)


def test_score_and_cost_columns_come_from_the_declarations():
    assert score_names() == (
        "clip_iou", "clip_f1", "clip_auc", "frame_iou", "frame_f1", "frame_auc",
        "deletion", "insertion", "mauc", "stdauc", "cv",
    )
    assert cost_names() == ("runtime_s", "forward_samples", "backward_samples")
    assert set(score_names()) | set(cost_names()) == set(METRICS)


def test_registry_is_read_only_and_guarded():
    with pytest.raises(TypeError):
        METRICS["x"] = get_metric("cv")  # type: ignore[index]
    with pytest.raises(KeyError, match="declared metrics"):
        get_metric("accuracy")
    with pytest.raises(ValueError, match="already declared"):
        register(MetricSpec("cv", "robustness", "higher", "Cv", "flipped", True))
    assert get_metric("cv").direction == "lower"
    register(get_metric("cv"))  # an identical re-declaration is a no-op


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"direction": "up"}, "direction"),
        ({"family": "speed"}, "family"),
        ({"name": "clip iou"}, "identifier"),
    ],
)
def test_bad_specs_are_rejected(kwargs, match):
    fields = {"name": "m", "family": "cost", "direction": "lower", "label": "M", "description": "d", "primary": False}
    with pytest.raises(ValueError, match=match):
        MetricSpec(**{**fields, **kwargs})
