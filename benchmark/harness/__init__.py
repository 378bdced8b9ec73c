"""The harness: the stages that run submissions and score them, and the isolated worker they run in.

* :mod:`~benchmark.harness.inputs` -- the fixed evaluation clips and what a run starts from.
* :mod:`~benchmark.harness.runspec` -- the worker's run specification and its one builder.
* :mod:`~benchmark.harness.supervisor` -- starts and supervises worker processes (budgets, kills, outcomes).
* :mod:`~benchmark.harness.worker` -- the worker: sandbox, model, submission, one clip after another.
* :mod:`~benchmark.harness.sandbox` -- Landlock confinement of the worker to its own files.
* :mod:`~benchmark.harness.outcomes` -- what a run produced (clip runs, failures).
* :mod:`~benchmark.harness.scoring` -- every metric of every clip.
* :mod:`~benchmark.harness.gallery` -- the heatmap overlays of the page's gallery.
* :mod:`~benchmark.harness.provenance` -- where a result came from (code, data, model, machine).
* :mod:`~benchmark.harness.evaluate` -- the ``evaluate`` stage: ``results/<name>/``.
* :mod:`~benchmark.harness.sanity` -- the ``sanity`` stage: ``sanity/<name>/``.
* :mod:`~benchmark.harness.preflight` -- ``benchmark validate``: a submission's checks before scoring.

Importing this package imports nothing else: the worker process imports its modules before torch.
"""
