"""Cost figures of a submission per clip (protocol, "Cost"), declared here; the runner measures them.

Runtime is wall-clock seconds of the submission's call on one clip (after one warm-up clip); the
model-pass counts are the samples the model ran on, forward and backward separately, which do not
depend on the machine. They are shown beside the rank, never averaged into it.
"""

from __future__ import annotations

from benchmark.metrics.spec import MetricSpec

COST_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("runtime_s", "cost", "lower", "Runtime (s)",
               "Wall-clock seconds of the explainer's call on one clip, after a warm-up clip.", False),
    MetricSpec("forward_samples", "cost", "lower", "Forward passes",
               "Samples the model ran forward on while explaining one clip.", False),
    MetricSpec("backward_samples", "cost", "lower", "Backward passes",
               "Samples the model back-propagated while explaining one clip.", False),
)
"""The cost metrics (registered by :mod:`benchmark.metrics`)."""
