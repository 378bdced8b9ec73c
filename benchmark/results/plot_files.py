"""The derived files of a result folder that DVC and the page read: ``scores.json`` and ``plots/*.csv``.

Pure NumPy (no torch): :func:`selection_fractions` is the x position of each point of a deletion or
insertion curve (the fraction of the clip's voxels that threshold selects, exactly as
:func:`benchmark.metrics.faithfulness.deletion_insertion` selects them); :func:`grid_curve` puts one clip's
curve on a common grid of fractions, so that curves of different clips (and methods) can be averaged;
:func:`write_plot_files` writes ``plots/deletion.csv`` and ``plots/insertion.csv``; :func:`scores_record`
is the slim ``scores.json``. The schema is in :mod:`benchmark.results.submission`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.results.submission import FRACTION_GRID_STEP, PLOTS_DIR

__all__ = ["fraction_grid", "grid_curve", "scores_record", "selection_fractions", "write_plot_files"]

PLOT_COLUMNS: tuple[str, str] = ("fraction", "p_anomalous")


def fraction_grid() -> np.ndarray:
    """``0, 0.02, ..., 1`` (51 points): the common x grid of the mean curves."""
    n = int(round(1 / FRACTION_GRID_STEP))
    return np.arange(n + 1, dtype=np.float64) / n


def selection_fractions(attribution: Any, n_thresholds: int) -> list[float]:
    """For each threshold in visiting order (``tau_N`` down to ``tau_0``), the fraction of the clip's voxels
    with ``E / max E >= tau_i``: the selection deletion removes and insertion restores.

    ``attribution``: ``(T, H, W)`` (channel-summed) or ``(C, T, H, W)``. A degenerate (all-zero) map selects
    every voxel at every threshold.
    """
    from benchmark.metrics.maps import scored_map, thresholds

    E = scored_map(attribution)
    peak = float(E.max())
    normalised = E / peak if peak > 0 else E
    taus = thresholds(normalised, n_thresholds)
    passes = np.searchsorted(taus, normalised.reshape(-1), side="right")
    cleared_at_most = np.cumsum(np.bincount(passes, minlength=n_thresholds + 2))
    n_selected = E.size - cleared_at_most[: n_thresholds + 1]
    return [float(n_selected[i]) / E.size for i in range(n_thresholds, -1, -1)]


def grid_curve(fractions: Sequence[float], ys: Sequence[float], p_start: float) -> np.ndarray:
    """One clip's curve on :func:`fraction_grid`: linear between its points, starting at ``(0, p_start)``
    (nothing selected: ``p(x)`` for deletion, ``p(b)`` for insertion). Equal fractions select the same
    voxels and hold the same value; the last of them is kept."""
    xs = [0.0]
    vals = [float(p_start)]
    for x, y in zip(fractions, ys):
        x = float(x)
        if x <= xs[-1]:
            if x == xs[-1]:
                vals[-1] = float(y)
            continue
        xs.append(x)
        vals.append(float(y))
    return np.interp(fraction_grid(), xs, vals)


def write_plot_files(folder: Path, curves: Mapping[str, np.ndarray]) -> None:
    """``folder/plots/<kind>.csv`` for each ``kind -> (51,)`` mean curve on :func:`fraction_grid`."""
    out = Path(folder) / PLOTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    grid = fraction_grid()
    for kind, ys in curves.items():
        with open(out / f"{kind}.csv", "w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(PLOT_COLUMNS)
            for x, y in zip(grid, ys):
                writer.writerow([f"{x:.2f}", f"{float(y):.6g}"])


def scores_record(figures: Mapping[str, Any]) -> dict[str, float]:
    """The slim ``scores.json``: the finite numbers of ``figures`` (metric -> figure), in the given order."""
    out = {}
    for k, v in figures.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[str(k)] = f
    return out
