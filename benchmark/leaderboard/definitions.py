"""The definitions section of the index page: each metric's formula, direction and meaning, in words.

Every column header links to its entry (``#def-<metric>``), so touch users, who never see hover titles,
read the same text. Directions, labels and families come from the metric declarations
(:mod:`benchmark.metrics.spec`); the formulas and explanations below restate ``PROTOCOL.md``. A metric
without an entry here still gets one, from its declaration's description.

Deletion and insertion follow the paper's convention, the reverse of the usual one (Petsiuk et al.,
RISE, BMVC 2018, report the area under the probability curve: lower for deletion, higher for
insertion). Here both are gaps to ``p(x)``, so the directions flip: :data:`CONVENTION` says so on the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmark.leaderboard.columns import Column

NOTATION = (
    "A is a submission's attribution of p(anomalous) to the clip's voxels; E = max(\u03a3_c A, 0) the scored map "
    "(channels summed, negative evidence discarded); \u03c4_i = i/50 \u00b7 max E, i = 0\u202650, the 51 "
    "thresholds; M the ground-truth mask; p(\u00b7) the model's probability of \u201canomalous\u201d; x the clip and "
    "b its blurred baseline. Every score is computed per clip and averaged over the evaluation clips."
)

CONVENTION = (
    "Deletion and insertion follow the paper's convention, which is the reverse of the usual one. The "
    "usual scores (Petsiuk et al., RISE, 2018) are areas under the probability curve: a low deletion AUC and "
    "a high insertion AUC are good. The paper instead scores the gap to the clip's own probability, "
    "p(x) \u2212 curve, averaged over the thresholds: deletion = p(x) \u2212 AUC_del is therefore higher-is-better "
    "and insertion = p(x) \u2212 AUC_ins lower-is-better. The two conventions order methods identically on a "
    "given clip; only the sign of the direction differs. We keep the paper's so that our figures sit next to "
    "its Tables I and II."
)


@dataclass(frozen=True)
class Definition:
    """One metric as the definitions section prints it (plain text; the template escapes it)."""

    column: Column
    formula: str
    meaning: str
    why: str = ""

    @property
    def better(self) -> str:
        return "higher is better" if self.column.direction == "higher" else "lower is better"


FORMULAS: Mapping[str, tuple[str, str, str]] = {
    "clip_iou": (
        "max_i |M \u2229 {E \u2265 \u03c4_i}| / |M \u222a {E \u2265 \u03c4_i}|, "
        "over all T\u00d7H\u00d7W voxels of the clip",
        "How well the best thresholded map overlaps the annotated anomaly: 1 is a perfect match, 0 no overlap.",
        "",
    ),
    "clip_f1": (
        "max_i 2TP / (2TP + FP + FN) of {E \u2265 \u03c4_i} against M, over the clip",
        "The Dice overlap of the best thresholded map with the mask (rewards recall and precision alike).",
        "",
    ),
    "clip_auc": (
        "ROC-AUC of E against M over every voxel of the clip (ties by average ranks)",
        "The chance that a random anomalous voxel gets more attribution than a random normal one; 0.5 is chance.",
        "",
    ),
    "frame_iou": (
        "clip IoU restricted to frame t* = argmax_t \u03a3 E[t] among frames with a non-empty mask, "
        "with that frame's own thresholds",
        "Localisation on the frame the map itself points at.",
        "",
    ),
    "frame_f1": ("clip F1 restricted to frame t*", "Dice overlap on the frame the map points at.", ""),
    "frame_auc": ("ROC-AUC of E[t*] against M[t*]", "Ranking of anomalous over normal pixels on frame t*.", ""),
    "deletion": (
        "mean_i [ p(x) \u2212 p(x_del(\u03c4_i)) ],  x_del(\u03c4) = where(E \u2265 \u03c4, b, x)",
        "Replace the most-attributed voxels by the blurred baseline: if they are what the model relies on, "
        "p(anomalous) drops fast and the mean gap to p(x) is large.",
        "Higher is better here: the paper's convention (see the note below).",
    ),
    "insertion": (
        "mean_i [ p(x) \u2212 p(x_ins(\u03c4_i)) ],  x_ins(\u03c4) = where(E \u2265 \u03c4, x, b)",
        "Restore the most-attributed voxels into the blurred baseline: if they are what the model relies on, "
        "p(anomalous) climbs back to p(x) fast and the mean gap stays small.",
        "Lower is better here: the paper's convention (see the note below).",
    ),
    "mauc": (
        "mean over the clip's anomalous frames of the frame AUC",
        "Localisation averaged over time rather than on one frame.",
        "",
    ),
    "stdauc": (
        "population standard deviation (ddof 0) of the frame AUCs over the clip's anomalous frames",
        "How much localisation quality varies from frame to frame.",
        "",
    ),
    "cv": (
        "stdAUC / mAUC (0 when stdAUC is 0)",
        "Frame-to-frame variation relative to the mean: steadiness over time.",
        "",
    ),
    "runtime_s": (
        "wall-clock seconds of one explain() call on one clip, minus the fixed cost of a request; the "
        "column shows the median over clips",
        "What one explanation costs on the machine in the reproducibility table.",
        "",
    ),
    "forward_samples": (
        "samples the network ran forward per clip, counted at its final layer",
        "Machine-independent cost: model evaluations per explanation.",
        "",
    ),
    "backward_samples": (
        "samples back-propagated per clip",
        "Machine-independent cost: gradient evaluations per explanation.",
        "",
    ),
}
"""metric -> (formula, meaning, note on the direction)."""


def definitions(columns: Sequence[Column], left_out: Mapping[str, str]) -> list[Definition]:
    """One :class:`Definition` per column, in column order; ``left_out`` says why a primary metric is not
    in the overall rank."""
    out = []
    for c in columns:
        formula, meaning, why = FORMULAS.get(c.name, ("", c.description, ""))
        notes = [why] if why else []
        if c.name in left_out:
            notes.append(f"Not in the overall rank: {left_out[c.name]}.")
        elif not c.in_overall and not c.is_cost:
            notes.append("Shown but not in the overall rank.")
        out.append(Definition(c, formula, meaning or c.description, " ".join(notes)))
    return out
