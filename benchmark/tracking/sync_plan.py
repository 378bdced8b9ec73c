"""Decide what a sync must do, from the runs in the store and the digests on disk.

:func:`plan_sync` compares ``{submission: results digest}`` with the experiment's active runs
(:class:`RunState`) and returns a :class:`SyncPlan`: which runs to create, keep, supersede, retire or
delete. Pure: the same plan is computed from MLflow's client (the full sync) and from a read-only look
at the SQLite file (:mod:`benchmark.tracking.store_query`, the fast no-op check), so the two can never
disagree on what "nothing to do" is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from benchmark.tracking.tags import TAG_CURRENT, TAG_DIGEST, TAG_SUBMISSION

FINISHED = "FINISHED"
"""MLflow's status of a run that ended normally."""


@dataclass(frozen=True)
class RunState:
    """What the plan needs to know about one active run of the experiment.

    ``start_time`` is MLflow's, in milliseconds since 1970 (0 when unknown); ``tags`` may hold only
    the ``benchmark.*`` tags.
    """

    run_id: str
    status: str
    start_time: int
    tags: Mapping[str, str]

    @property
    def submission(self) -> str | None:
        """The submission the run shows (``None``: made by hand, never touched)."""
        return self.tags.get(TAG_SUBMISSION)

    @property
    def complete(self) -> bool:
        """Finished and tagged with its digest: the only runs a sync trusts."""
        return self.status == FINISHED and bool(self.tags.get(TAG_DIGEST))

    @property
    def current(self) -> bool:
        """Complete and tagged as its submission's current run."""
        return self.complete and self.tags.get(TAG_CURRENT) == "true"


@dataclass
class SyncPlan:
    """The writes one sync performs.

    Attributes:
        delete: run ids of incomplete runs (a sync killed mid-way) to delete.
        create: submission names whose results need a new run.
        unchanged: submission names whose current run already holds these results.
        keep: ``{submission: run id}`` of those unchanged current runs.
        supersede: ``{run_id: submission}`` of current runs replaced by newer results (or by a
            newer duplicate), retired once the new run is finished.
        remove: ``{run_id: submission}`` of current runs of submissions no longer in the results.
        refresh: ``{run_id: submission}`` of unchanged current runs whose derived tags (overall rank, sanity
            verdict: :func:`plan_sync`'s ``extras``) changed, to be updated in place.
    """

    delete: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    keep: dict[str, str] = field(default_factory=dict)
    supersede: dict[str, str] = field(default_factory=dict)
    remove: dict[str, str] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)

    @property
    def is_noop(self) -> bool:
        """Whether the plan writes nothing (the results and the store already agree)."""
        return not (self.delete or self.create or self.supersede or self.remove or self.refresh)


def plan_sync(
    digests: Mapping[str, str],
    runs: Iterable[RunState],
    extras: Mapping[str, Mapping[str, str]] | None = None,
) -> SyncPlan:
    """Compare ``{submission: results digest}`` with the experiment's active runs.

    A submission is unchanged when one of its current runs carries its digest; the newest such
    run stays current and any other current run of it is superseded. Otherwise a new run is
    created, and every current run of it is superseded once the new run is finished.
    Runs without the ``benchmark.submission`` tag (made by hand) are left alone.
    ``extras``: ``{submission: {tag: value}}`` that each current run must carry (what derives from all the
    results together, such as the overall rank); an unchanged run that differs is refreshed.
    """
    plan = SyncPlan()
    by_submission: dict[str, list[RunState]] = {}
    for run in runs:
        if run.submission is None:
            continue
        if not run.complete:
            plan.delete.append(run.run_id)
            continue
        if run.current:
            by_submission.setdefault(run.submission, []).append(run)
    for name in sorted(set(by_submission) | set(digests)):
        current = sorted(by_submission.get(name, []), key=lambda r: (r.start_time, r.run_id), reverse=True)
        if name not in digests:
            plan.remove.update({r.run_id: name for r in current})
            continue
        keep = next((r for r in current if r.tags.get(TAG_DIGEST) == digests[name]), None)
        if keep is None:
            plan.create.append(name)
        else:
            plan.unchanged.append(name)
            plan.keep[name] = keep.run_id
            wanted = (extras or {}).get(name) or {}
            if any(keep.tags.get(k) != v for k, v in wanted.items()):
                plan.refresh[keep.run_id] = name
        plan.supersede.update({r.run_id: name for r in current if r is not keep})
    plan.delete.sort()
    return plan
