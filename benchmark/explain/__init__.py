"""Explaining the I3D: the helpers a submission may use, the submission contract and the exact engines.

The public helper API for submitters is the modules in :data:`__all__` (``from benchmark.explain.<module>
import ...``; ``submissions/README.md`` lists them):

* :mod:`~benchmark.explain.seeding` -- :func:`seeded` (Captum's global RNGs made deterministic) and
  :func:`clip_generator` (one stable generator per submission and clip).
* :mod:`~benchmark.explain.geometry` -- :func:`scale_window`: paper-geometry windows at another size;
  :func:`count_windows`: Captum Occlusion's number of window positions.
* :mod:`~benchmark.explain.batching` -- :func:`batch_size_for`, :func:`forward_batch_size`,
  :func:`step_batch_size`: batches from a memory budget; :func:`model_memory_format`: the fast layout.
* :mod:`~benchmark.explain.supervoxels` -- :func:`slic_supervoxels`: 3-D SLIC feature masks for LIME and
  KernelSHAP (:class:`SupervoxelCache` memoises them).
* :mod:`~benchmark.explain.occlusion` -- :func:`occlusion`: Captum's Occlusion, exact and fast (batched;
  incremental on the I3D).
* :mod:`~benchmark.explain.surrogates` -- :func:`surrogate_weights`: Captum's LIME / KernelSHAP estimators
  without the per-sample overhead (on the I3D without building the perturbed clips).
* :mod:`~benchmark.explain.ablation` -- :func:`feature_ablation`: Captum's FeatureAblation over a feature mask,
  exact and fast (on the I3D without building the ablated clips).
* :mod:`~benchmark.explain.rise` -- :class:`RiseMasks` (RISE's random smooth masks in space-time) and
  :func:`rise` (the probability-weighted sum of them, batched).
* :mod:`~benchmark.explain.extremal` -- :func:`extremal_masks`: spatio-temporal extremal perturbations (the
  preservation game, the rank-based area loss :func:`area_targets`, temporal smoothness), all areas batched.
* :mod:`~benchmark.explain.scores` -- :class:`LogOdds` / :func:`score_model`: the log-odds of ``p(target)`` from
  the logits, for gradient methods that read one gradient (the same map, no float32 underflow near ``p = 1``).
* :mod:`~benchmark.explain.layers` -- :func:`resolve_block`: the Inception block a layer-based method reads,
  on full and truncated I3Ds.

Not for submissions:

* :mod:`benchmark.explain.contract` -- what the harness checks: ``submission.yaml``, ``explainer.py``,
  what ``explain`` returns, discovery, the scaffold and the pass counter.
* :mod:`benchmark.explain.engines` -- the exact I3D engines behind :mod:`~benchmark.explain.occlusion`
  and :mod:`~benchmark.explain.surrogates`.

Importing this package imports none of them; each module is imported when it is used.
"""

__all__ = [
    "ablation", "batching", "extremal", "geometry", "layers", "occlusion", "rise", "scores", "seeding", "supervoxels",
    "surrogates",
]
