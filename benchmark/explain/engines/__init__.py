"""Exact engines for the project's I3D: the same results as Captum's estimators, computed with less work.

Not part of the helper API for submitters (that is :mod:`benchmark.explain`); the helpers
:func:`benchmark.explain.occlusion.occlusion` and :func:`benchmark.explain.surrogates.surrogate_weights`
call these engines.

* :mod:`~benchmark.explain.engines.windows` -- Captum's occlusion windows; drops of ``p`` to an attribution.
* :mod:`~benchmark.explain.engines.stats` -- :class:`OcclusionStats`: what an occlusion run cost.
* :mod:`~benchmark.explain.engines.batched` -- occlusion by full batched passes, for any model.
* :mod:`~benchmark.explain.engines.planning` -- what each window reaches in every I3D layer, and its cost.
* :mod:`~benchmark.explain.engines.incremental` -- occlusion recomputing only what each window changes.
* :mod:`~benchmark.explain.engines.stem_split` -- LIME / KernelSHAP samples through the I3D without
  building the perturbed clips (the first convolution split by feature).
* :mod:`~benchmark.explain.engines.layerwise` -- which models these engines take.

The I3D's graph, padding rule and multiply-add counts come from :mod:`benchmark.model.graph` and
:mod:`benchmark.model.i3d`.
"""
