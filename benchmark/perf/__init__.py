"""The performance benchmark: every method's cost against its floor and against Captum's defaults.

``python -m benchmark.perf --profile default`` (see :mod:`benchmark.perf.__main__`) times, in one run on
the same clips:

* each method's ``explain`` per clip (the paper's baselines and the added methods: Grad-CAM, saliency,
  supervoxel ablation, RISE, extremal perturbations), its forward/backward samples (:class:`PassCounter`), and its
  **floor** -- those samples times the best per-sample forward and backward times of the same model,
  measured in the same run over batch sizes 1, 2, 4, ... (:mod:`benchmark.perf.floor`);
* its **own-batch floor** (``own_floor_s``, ``over_own_floor``): the floor if the clip's samples ran in
  batches of ``min(samples, best batch)`` -- the latency floor of one clip. A method with fewer samples per
  clip than the best batch (Guided Backprop: 1, GradientSHAP: 5) cannot reach the best-batch floor on one
  clip; ``ours / own`` says how far it is from what one clip allows;
* for such a method, one ``explain`` call on ``k = ceil(best batch / samples)`` clips at once
  (``clips_per_call``, ``batched_s_per_clip``, ``batched_over_floor`` against the best-batch floor,
  ``batched_model_batch``: the largest batch the model saw, which shows whether the explainer batches
  across clips at all);
* the same Captum method with its default settings (:mod:`benchmark.perf.captum_defaults`);
* deletion/insertion and the localisation/robustness scores against their straightforward versions
  (:mod:`benchmark.perf.scoring`);
* the incremental occlusion engine against plain batched occlusion (multiply-adds and wall time).

The pipeline calls ``explain`` once per clip (B = 1) and reports per-clip latency, as the paper's
Table II does: ``ours (s/clip)`` and both floors are latency figures. The batched columns are a
throughput figure that the pipeline does not use.

The table is written as JSON and Markdown (:mod:`benchmark.perf.report`).
"""

from benchmark.perf.floor import FloorTimes, measure_floor
from benchmark.perf.report import write_report
from benchmark.perf.run import PerfConfig, run_benchmark

__all__ = ["FloorTimes", "PerfConfig", "measure_floor", "run_benchmark", "write_report"]
