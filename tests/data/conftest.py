"""Fixtures of the data-layer tests: a tiny synthetic tree, its prepared clips, the real archive."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmark.data import PreparedData, fetch_archive, prepare, write_synthetic

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_ARCHIVE = REPO_ROOT.parent / "shared" / "data" / "ucsd-real.tar.gz"
TINY = dict(seed=3, height=48, width=64, train_videos=2, test_videos=3, frames_per_video=40)
TINY_GRID = (16, 24)
TINY_CLIP = dict(clip_length=10, stride=5)


@pytest.fixture(scope="session")
def tiny_raw_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only tiny synthetic tree (2 Train + 3 Test videos of 40 frames at 48x64)."""
    return write_synthetic(tmp_path_factory.mktemp("tiny_raw"), **TINY)


@pytest.fixture
def tiny_raw(tiny_raw_session: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny tree that a test may damage; returns its ``UCSD_Anomaly_Dataset.v1p2``."""
    dest = tmp_path / "raw" / tiny_raw_session.name
    shutil.copytree(tiny_raw_session, dest)
    return dest


@pytest.fixture(scope="session")
def tiny_prepared(tiny_raw_session: Path, tmp_path_factory: pytest.TempPathFactory) -> PreparedData:
    out = tmp_path_factory.mktemp("tiny_prepared") / "prepared"
    prepare(tiny_raw_session, out, size=TINY_GRID, **TINY_CLIP)
    return PreparedData(out)


@pytest.fixture(scope="session")
def real_top(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staged real archive, extracted once per session (skipped where it is absent)."""
    if not REAL_ARCHIVE.is_file():
        pytest.skip(f"real UCSD archive not found at {REAL_ARCHIVE}")
    sha = (REAL_ARCHIVE.parent / (REAL_ARCHIVE.name + ".sha256")).read_text().split()[0]
    return fetch_archive(str(REAL_ARCHIVE), sha, tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="session")
def tiny_params() -> dict[str, int]:
    """Keyword arguments of ``write_synthetic`` for the tiny tree."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_grid() -> tuple[int, int]:
    return TINY_GRID


@pytest.fixture(scope="session")
def tiny_clip() -> dict[str, int]:
    """``clip_length`` and ``stride`` of the tiny prepared data."""
    return dict(TINY_CLIP)
