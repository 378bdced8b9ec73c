"""The performance benchmark: every baseline's cost against its floor and against Captum's defaults.

``python -m benchmark.perf --profile default`` (see :mod:`benchmark.perf.__main__`) times, in one run on
the same clips:

* each baseline's ``explain`` per clip, its forward/backward samples (:class:`PassCounter`), and its
  **floor** -- those samples times the best per-sample forward and backward times of the same model,
  measured in the same run over batch sizes 1, 2, 4, ... (:mod:`benchmark.perf.floor`);
* the same Captum method with its default settings (:mod:`benchmark.perf.captum_defaults`);
* deletion/insertion and the localisation/robustness scores against their straightforward versions
  (:mod:`benchmark.perf.scoring`);
* the incremental occlusion engine against plain batched occlusion (multiply-adds and wall time).

The table is written as JSON and Markdown (:mod:`benchmark.perf.report`).
"""

from benchmark.perf.floor import FloorTimes, measure_floor
from benchmark.perf.report import write_report
from benchmark.perf.run import PerfConfig, run_benchmark

__all__ = ["FloorTimes", "PerfConfig", "measure_floor", "run_benchmark", "write_report"]
