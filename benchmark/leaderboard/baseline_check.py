"""Whether the baseline is a reference the model-centric scores can use: the detector must find it less
anomalous than the clips.

Deletion replaces the most attributed voxels by the baseline and insertion starts from it (PROTOCOL.md,
"Model-centric scores"). Both assume that the baseline carries no evidence of an anomaly, i.e. that
``p(baseline)`` is below ``p(x)``. When the detector finds the baseline itself anomalous, insertion starts at the
top of its curve, and deletion measures how much replacing a region by the baseline *raises* ``p``. The scores
are then computed as defined but say little about the explainer. The page states that case beside the board.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmark.results.submission import SubmissionResult

__all__ = ["BaselineCheck", "baseline_check"]

_MAJORITY = 0.5


@dataclass(frozen=True)
class BaselineCheck:
    """The detector's view of the baseline on the evaluation clips.

    Attributes:
        n_clips: clips with both probabilities.
        above: clips whose baseline gets ``p(baseline) >= p(x)``.
        p_clip: mean ``p(x)`` over those clips.
        p_baseline: mean ``p(baseline)``.
        unusable: ``above`` is more than half of the clips; the page then warns.
    """

    n_clips: int
    above: int
    p_clip: float
    p_baseline: float

    @property
    def unusable(self) -> bool:
        return self.n_clips > 0 and self.above > _MAJORITY * self.n_clips


def baseline_check(results: Sequence[SubmissionResult]) -> BaselineCheck | None:
    """Read ``p_clip`` and ``p_baseline`` of the evaluation clips from the first scored result holding them
    (they depend on the model, the clips and the baseline, not on the explainer). ``None`` when none does."""
    for result in results:
        table = result.per_clip
        if not result.ok or table is None or not {"p_clip", "p_baseline"} <= set(table.columns):
            continue
        rows = table.drop_duplicates("clip_id") if "clip_id" in table else table
        p = rows["p_clip"].to_numpy(dtype=float)
        b = rows["p_baseline"].to_numpy(dtype=float)
        keep = np.isfinite(p) & np.isfinite(b)
        if not keep.any():
            continue
        p, b = p[keep], b[keep]
        return BaselineCheck(int(keep.sum()), int((b >= p).sum()), float(p.mean()), float(b.mean()))
    return None
