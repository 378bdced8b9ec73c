"""The static HTML leaderboard: ranks, charts and pages rendered from ``results/`` only.

Public entry points: :func:`render_site` and :func:`publish` (:mod:`.render`) and the ranking
(:mod:`.ranking`). The modules, from the data up:

* :mod:`.ranking`: column figures, competition ranks, statistical ties, the overall rank.
* :mod:`.paper`, :mod:`.agreement`: the paper's Tables I and II and the rank agreement with them.
* :mod:`.formatting`: how numbers are printed (figures, intervals, ``data-sort`` text).
* :mod:`.safety`: the checks on page names, links and gallery file names that come from results.
* :mod:`.columns`, :mod:`.tables`, :mod:`.gallery`: metric columns, per-result tables (cost, per-clip,
  provenance) and the gallery images.
* :mod:`.views`: the view model of each submission (:class:`~.views.SubmissionView`, :class:`~.views.Cell`).
* :mod:`.plots`, :mod:`.charts`: inline SVG, and the curve, scatter and cascade charts built on it.
* :mod:`.sanity_view`, :mod:`.paper_comparison`: the sanity-check and paper sections.
* :mod:`.render`: loads everything and renders the Jinja templates into the site.
"""

from benchmark.leaderboard.ranking import ColumnStanding, Standings, competition_ranks, compute_standings
from benchmark.leaderboard.render import publish, render_site

__all__ = ["ColumnStanding", "Standings", "competition_ranks", "compute_standings", "publish", "render_site"]
