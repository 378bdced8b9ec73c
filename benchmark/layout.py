"""The repository layout: every path the pipeline's stages read and write, in one place.

A leaf module (``pathlib`` only), so that the data, model and harness stages, the leaderboard and the
command line all name the same files. Paths are relative to :attr:`RepoLayout.root`, the repository root (the
folder holding ``params.yaml`` and ``dvc.yaml``); ``dvc.yaml`` and ``submissions/*/dvc.yaml`` list the same
paths as stage outputs.

==========================  ==========================================================  =================
path                        what                                                        written by
==========================  ==========================================================  =================
``<data.root>``             the official UCSD layout (synthetic scenes or the archive)  ``data``
``data/prepared``           frames and masks on the model grid, clip tables             ``prepare``
``splits/<source>.json``    the committed split                                         ``split`` (once)
``models/pretrained``       converted pretrained weights and their source               ``weights``
``models/model.pt``         the trained checkpoint                                      ``train``
``models/train_metrics.json`` held-out scores and the training curve                    ``train``
``models/model_card.json``  the model card the page shows                               ``train``
``submissions/<name>``      one folder per explainer                                    contributors
``results/<name>``          scores, curves, gallery of one submission                   ``evaluate``
``sanity/<name>``           its model-parameter randomisation test                      ``sanity``
``leaderboard/site``        the rendered static site                                    ``leaderboard``
==========================  ==========================================================  =================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["RepoLayout"]


@dataclass(frozen=True)
class RepoLayout:
    """Where the pipeline keeps its files under ``root`` (the repository root by default)."""

    root: Path = Path(".")

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def params(self) -> Path:
        return self.root / "params.yaml"

    def raw_data(self, data_root: str | Path) -> Path:
        """The folder ``params.yaml: data.root`` names (relative paths resolve against the root)."""
        path = Path(data_root)
        return path if path.is_absolute() else self.root / path

    @property
    def prepared(self) -> Path:
        return self.root / "data" / "prepared"

    @property
    def splits(self) -> Path:
        return self.root / "splits"

    def split(self, source: str) -> Path:
        """``splits/<source>.json``: the committed split of ``synthetic`` or ``ucsd`` data."""
        return self.splits / f"{source}.json"

    @property
    def pretrained(self) -> Path:
        return self.root / "models" / "pretrained"

    @property
    def checkpoint(self) -> Path:
        return self.root / "models" / "model.pt"

    @property
    def train_metrics(self) -> Path:
        return self.root / "models" / "train_metrics.json"

    @property
    def model_card(self) -> Path:
        """What the page says about the model: architecture, recipe, held-out quality with intervals."""
        return self.root / "models" / "model_card.json"

    @property
    def submissions(self) -> Path:
        return self.root / "submissions"

    def submission(self, name: str) -> Path:
        return self.submissions / name

    @property
    def results(self) -> Path:
        return self.root / "results"

    def result(self, name: str) -> Path:
        return self.results / name

    @property
    def sanity(self) -> Path:
        return self.root / "sanity"

    def sanity_record(self, name: str) -> Path:
        return self.sanity / name

    @property
    def site(self) -> Path:
        return self.root / "leaderboard" / "site"
