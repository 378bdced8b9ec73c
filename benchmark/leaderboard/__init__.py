"""The static HTML leaderboard: ranks, charts and pages rendered from ``results/`` only.

Public entry points: :func:`render_site` and :func:`publish` (:mod:`.render`), the ranking
(:mod:`.ranking`) and the SVG charts (:mod:`.plots`).
"""

from benchmark.leaderboard.ranking import ColumnStanding, Standings, competition_ranks, compute_standings
from benchmark.leaderboard.render import publish, render_site

__all__ = ["ColumnStanding", "Standings", "competition_ranks", "compute_standings", "publish", "render_site"]
