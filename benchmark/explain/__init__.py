"""The submission contract and the helpers a submission may use.

* :mod:`~benchmark.explain.contract` -- what a submission is; :func:`load_submission`.
* :mod:`~benchmark.explain.registry` -- :func:`discover` and :func:`load_all` under ``submissions/``.
* :mod:`~benchmark.explain.counting` -- :class:`PassCounter`: forward/backward samples per clip.
* :mod:`~benchmark.explain.seeding` -- :func:`seeded` (Captum's global RNG made deterministic) and
  :func:`clip_generator` (one stable generator per submission and clip).
* :mod:`~benchmark.explain.geometry` -- :func:`scale_window`: paper-geometry windows at another size.
* :mod:`~benchmark.explain.supervoxels` -- 3-D SLIC feature masks for LIME and KernelSHAP.
* :mod:`~benchmark.explain.batching` -- :func:`batch_size_for`: batches from a memory budget.
* :mod:`~benchmark.explain.occlusion` -- Captum's Occlusion, exact and fast (batched; incremental on the I3D).
* :mod:`~benchmark.explain.surrogates` -- Captum's LIME / KernelSHAP estimators without the per-sample
  overhead; :mod:`~benchmark.explain.stem_split` runs them on the I3D without building the perturbed clips.
* :mod:`~benchmark.explain.validate` -- :func:`check_output` on what a submission returned.
* :mod:`~benchmark.explain.scaffold` -- :func:`new_submission` from the template.
"""

from benchmark.explain.batching import batch_size_for, memory_budget_bytes
from benchmark.explain.contract import (
    Attribution,
    ExplainFn,
    Submission,
    SubmissionError,
    SubmissionMeta,
    load_submission,
    merge_params,
)
from benchmark.explain.counting import PassCounter, PassCounts
from benchmark.explain.geometry import scale_window
from benchmark.explain.registry import discover, load_all
from benchmark.explain.scaffold import new_submission
from benchmark.explain.seeding import clip_generator, seeded
from benchmark.explain.supervoxels import SupervoxelCache, slic_supervoxels
from benchmark.explain.validate import check_output

__all__ = [
    "Attribution",
    "ExplainFn",
    "PassCounter",
    "PassCounts",
    "Submission",
    "SubmissionError",
    "SubmissionMeta",
    "SupervoxelCache",
    "batch_size_for",
    "check_output",
    "clip_generator",
    "discover",
    "load_all",
    "load_submission",
    "memory_budget_bytes",
    "merge_params",
    "new_submission",
    "scale_window",
    "seeded",
    "slic_supervoxels",
]
